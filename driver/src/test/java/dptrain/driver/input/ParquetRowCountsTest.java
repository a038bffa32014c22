package dptrain.driver.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.files.InputFiles;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.apache.spark.paths.SparkPath;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver reads the footers of many Parquet files at once and numbers their rows exactly as reading the footers
 * one by one does; a footer that cannot be read is named in the error, and no reader thread outlives the call.
 */
class ParquetRowCountsTest {
    /** Several times the readers at once, so that footers queue and finish out of order. */
    private static final int FILES = 8 * ParquetRowCounts.MAX_READERS;
    private static final MessageType SCHEMA = MessageTypeParser.parseMessageType(
            "message example { required int32 label; required float x; }");
    private static final Configuration CONF = new Configuration();

    @TempDir
    static Path dir;
    /** Many small files with different row counts, some empty, some whose names Spark reports URL-encoded. */
    private static List<String> files;

    @BeforeAll
    static void writeManySmallFiles() throws IOException {
        for (int f = 0; f < FILES; f++) {
            // "a b" is reported as "a%20b", which sorts after "a!" although ' ' sorts before '!'.
            String name = (f % 3 == 0 ? "a b-" : f % 3 == 1 ? "a!-" : "part-") + (FILES - f) + ".parquet";
            write(dir.resolve("many").resolve(name), f % 17 == 0 ? 0 : 1 + f * 37 % 23);
        }
        // As the caller lists them.
        files = InputFiles.dataFiles(dir.resolve("many").toString(), CONF);
    }

    @AfterEach
    void noFooterReaderOutlivesTheCall() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().equals(ParquetRowCounts.READER_THREAD)) {
                thread.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                assertFalse(thread.isAlive(), "a footer reader still runs: " + Arrays.toString(thread.getStackTrace()));
            }
        }
    }

    @Test
    void manyFilesReadAtOnceAreNumberedAsReadingThemOneByOne() throws IOException {
        Numbering expected = oneFileAtATime(files);
        assertEquals(FILES, expected.firstRows().size());
        for (int run = 0; run < 3; run++) {
            ParquetRowCounts counts = ParquetRowCounts.of(files, CONF);
            for (Map.Entry<String, Long> file : expected.firstRows().entrySet()) {
                assertEquals(file.getValue(), counts.firstRow(file.getKey()), "run " + run + ": " + file.getKey());
            }
            assertEquals(expected.rows(), counts.rows(), "run " + run);
        }
    }

    @Test
    void aCorruptFooterAmongManyFilesIsNamed() throws IOException {
        List<String> withCorrupt = new ArrayList<>(files);
        Path corrupt = dir.resolve("corrupt").resolve("part-corrupt.parquet");
        String named = write(corrupt, 40);
        overwriteFooter(corrupt);
        withCorrupt.add(FILES / 2, named);
        IOException e = assertThrows(IOException.class, () -> ParquetRowCounts.of(withCorrupt, CONF));
        assertTrue(e.getMessage().startsWith(named + ": cannot read its Parquet footer"), e.getMessage());
    }

    @Test
    void aFileThatIsNotParquetAmongManyFilesIsNamedInAnIoException() throws IOException {
        // Parquet itself says so with a RuntimeException; the caller is promised an IOException.
        List<String> withText = new ArrayList<>(files);
        Path text = Files.writeString(dir.resolve("text.parquet"), "label,x\n1,0.5\n".repeat(10));
        String named = new org.apache.hadoop.fs.Path(text.toUri()).toString();
        withText.add(named);
        IOException e = assertThrows(IOException.class, () -> ParquetRowCounts.of(withText, CONF));
        assertTrue(e.getMessage().startsWith(named + ": cannot read its Parquet footer"), e.getMessage());
    }

    @Test
    void anInterruptedCallerGetsAnInterruptedIoExceptionAndStaysInterrupted() {
        Thread.currentThread().interrupt();
        try {
            assertThrows(InterruptedIOException.class, () -> ParquetRowCounts.of(files, CONF));
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status is kept for the caller");
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void noFilesHaveNoRows() throws IOException {
        assertEquals(0, ParquetRowCounts.of(List.of(), CONF).rows());
    }

    /** {@code rows} rows of two columns in a Parquet file of its own; its path as the caller lists it. */
    private static String write(Path file, int rows) throws IOException {
        Files.createDirectories(file.getParent());
        SimpleGroupFactory groups = new SimpleGroupFactory(SCHEMA);
        org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(file.toUri());
        try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(HadoopOutputFile.fromPath(path, CONF))
                .withType(SCHEMA).withConf(CONF).build()) {
            for (int r = 0; r < rows; r++) {
                writer.write(groups.newGroup().append("label", r % 2).append("x", (float) r));
            }
        }
        return path.toString();
    }

    /**
     * Fills the footer's metadata with bytes that are not its encoding; its length and magic number stay. The
     * checksum Hadoop's local filesystem keeps beside the file goes, or it would fail the read before Parquet does.
     */
    private static void overwriteFooter(Path file) throws IOException {
        Files.delete(file.resolveSibling("." + file.getFileName() + ".crc"));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = channel.size();
            ByteBuffer length = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(length, size - 8);
            int footer = length.flip().getInt();
            byte[] garbage = new byte[footer];
            Arrays.fill(garbage, (byte) 0xff);
            channel.write(ByteBuffer.wrap(garbage), size - 8 - footer);
        }
    }

    /** Each file's first row, keyed by the path Spark's reader reports for it, and the rows of all the files. */
    private record Numbering(Map<String, Long> firstRows, long rows) {
    }

    /** The footers read one after another, the files ordered by the UTF-8 bytes of the paths Spark reports. */
    private static Numbering oneFileAtATime(List<String> files) throws IOException {
        List<String> reported = new ArrayList<>();
        Map<String, Long> rows = new HashMap<>();
        for (String file : files) {
            org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(file);
            String name = SparkPath.fromPath(path.getFileSystem(CONF).makeQualified(path)).urlEncoded();
            try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(path, CONF))) {
                rows.put(name, reader.getRecordCount());
            }
            reported.add(name);
        }
        reported.sort((a, b) -> Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8),
                b.getBytes(StandardCharsets.UTF_8)));
        Map<String, Long> firstRows = new HashMap<>();
        long total = 0;
        for (String name : reported) {
            firstRows.put(name, total);
            total += rows.get(name);
        }
        return new Numbering(firstRows, total);
    }
}
