package dptrain.driver.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.data.Example;
import dptrain.data.ExampleCheck;
import dptrain.data.SequenceLength;
import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingProgress;
import dptrain.driver.TrainingResult;
import dptrain.driver.pipeline.CacheMode;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.spec.ModelSpec;
import dptrain.testing.CountingFs;
import dptrain.testing.FashionMnist;
import dptrain.testing.LocalSpark;
import dptrain.testing.Tables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Tuple2;

/**
 * Each input file is read once from the start of a run until training starts (read, check, number,
 * split, shuffle, batch), whatever the format, and numbering and line numbers do not depend on how
 * files are split.
 */
class ReadOnceTest {
    private static final int EXAMPLES = 1500;
    /** How far a reader may read ahead of what it uses: the IDX reader's two 64 KiB buffers, one over the other. */
    private static final long READ_AHEAD = 128 * 1024;

    @TempDir
    static Path dir;
    private static JavaSparkContext jsc;

    @BeforeAll
    static void writeTheSameExamplesInEveryFormat() throws IOException {
        jsc = LocalSpark.start(2);
        CountingFs.register(jsc.hadoopConfiguration());
        byte[] pixels = FashionMnist.pixels("train", 0, EXAMPLES);
        byte[] labels = FashionMnist.labels("train", 0, EXAMPLES);
        FashionMnist.writeSlice(dir.resolve("idx"), "train", "slice", 0, EXAMPLES);
        Files.createDirectories(dir.resolve("csv"));
        StringBuilder first = new StringBuilder();
        StringBuilder second = new StringBuilder();
        StringBuilder libsvm = new StringBuilder();
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < EXAMPLES; r++) {
            StringBuilder csv = r < 1000 ? first : second;
            csv.append(labels[r]);
            libsvm.append(labels[r]);
            List<Float> features = new ArrayList<>();
            for (int p = 0; p < FashionMnist.PIXELS; p++) {
                int value = pixels[r * FashionMnist.PIXELS + p] & 0xff;
                csv.append(',').append(value);
                if (value != 0) {
                    libsvm.append(' ').append(p + 1).append(':').append(value);
                }
                features.add((float) value);
            }
            csv.append('\n');
            libsvm.append('\n');
            rows.add(RowFactory.create((int) labels[r], features));
        }
        Files.writeString(dir.resolve("csv/a.csv"), first);
        Files.writeString(dir.resolve("csv/b.csv"), second);
        Files.writeString(dir.resolve("slice.libsvm"), libsvm);
        Tables.writeParquet(jsc, dir.resolve("parquet"), new StructType().add("label", DataTypes.IntegerType)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType)), rows);
    }

    @AfterAll
    static void stop() {
        jsc.close();
    }

    @Test
    void everyFormatIsReadOnceUntilTrainingStarts() throws IOException {
        List<Path> csv = List.of(dir.resolve("csv/a.csv"), dir.resolve("csv/b.csv"));
        assertReadOnce(DataInput.of(CountingFs.uri(dir.resolve("csv")), DataFormat.CSV), csv);
        assertReadOnce(DataInput.of(CountingFs.uri(dir.resolve("slice.libsvm")), DataFormat.LIBSVM),
                List.of(dir.resolve("slice.libsvm")));
        assertReadOnce(DataInput.idx(CountingFs.uri(dir.resolve("idx/slice-images-idx3-ubyte"))),
                List.of(dir.resolve("idx/slice-images-idx3-ubyte"), dir.resolve("idx/slice-labels-idx1-ubyte")));
        try (Stream<Path> parts = Files.list(dir.resolve("parquet"))) {
            assertReadOnce(DataInput.of(CountingFs.uri(dir.resolve("parquet")), DataFormat.PARQUET),
                    parts.filter(p -> p.toString().endsWith(".parquet")).toList());
        }
    }

    /**
     * Trains on {@code input} for one epoch, with a stratified validation split (class counts, a sort, the shuffle),
     * and checks that no file of {@code files} was read more than once: its bytes read are at least its size (all of
     * it was read) and at most one read-ahead buffer per open beyond it (a reader reads a little past its split's end
     * to finish its last line or record). The first file is larger than that slack, so a second pass over it fails.
     */
    private static void assertReadOnce(DataInput input, List<Path> files) throws IOException {
        CountingFs.reset();
        ModelSpec spec = ModelSpec.read(Path.of("../src/examples/mnist-mlp.yaml"));
        TrainingConfig config = TrainingConfig.builder(spec, input).epochs(1).batchSize(64).workers(4)
                .averaging(AveragingSchedule.EVERY_EPOCH).validationSplit(0.1).stratify(true).seed(5)
                .cache(CacheMode.NONE).build();
        TrainingResult result = new DistributedTrainer(jsc).train(config, new TrainingProgress() { });
        // 10% of each class held out, rounded per class.
        assertEquals(EXAMPLES - 150, result.trainingExamples(), 10, input.uri());
        assertEachReadOnce(input.format().toString(), files);
    }

    /**
     * The Spark ML estimators' path: a DataFrame (here a Parquet scan, whose reads are counted) is checked, numbered
     * and trained on, with a stratified split, reading each file once, not once for the check and again for training.
     */
    @Test
    void aDataFrameIsReadOnceUntilTrainingStarts() throws IOException {
        List<Path> files;
        try (Stream<Path> parts = Files.list(dir.resolve("parquet"))) {
            files = parts.filter(p -> p.toString().endsWith(".parquet")).toList();
        }
        CountingFs.reset();
        ModelSpec spec = ModelSpec.read(Path.of("../src/examples/mnist-mlp.yaml"));
        Dataset<Row> rows = SparkSession.builder().sparkContext(jsc.sc()).getOrCreate().read()
                .parquet(CountingFs.uri(dir.resolve("parquet")));
        IndexedExamples examples = DatasetExamples.read(rows, "features", "label", new ExampleCheck(spec),
                SequenceLength.EXACT, "test input");
        TrainingConfig config = TrainingConfig.builder(spec, DataInput.dataFrame("features", "label")).epochs(1)
                .batchSize(64).workers(4).averaging(AveragingSchedule.EVERY_EPOCH).validationSplit(0.1).stratify(true)
                .seed(5).cache(CacheMode.NONE).build();
        TrainingResult result;
        try {
            result = new DistributedTrainer(jsc).train(config, examples, new TrainingProgress() { });
        } finally {
            examples.release();
        }
        assertEquals(EXAMPLES - 150, result.trainingExamples(), 10);
        assertEachReadOnce("DataFrame", files);
    }

    /**
     * No file of {@code files} was read more than once since {@link CountingFs#reset}: its bytes read are at least
     * its size and at most one read-ahead buffer per open beyond it. The first file is larger than that slack.
     */
    private static void assertEachReadOnce(String what, List<Path> files) throws IOException {
        for (Path file : files) {
            long size = Files.size(file);
            long read = CountingFs.bytesRead(file);
            long slack = CountingFs.opens(file) * READ_AHEAD;
            String counted = what + ": " + file.getFileName() + " is " + size + " bytes, " + read
                    + " were read in " + CountingFs.opens(file) + " opens";
            assertTrue(read >= size && read <= size + slack, counted);
            if (file.equals(files.get(0))) {
                assertTrue(size > slack, "too small to tell a second pass from read-ahead: " + counted);
            }
        }
    }

    @Test
    void badLinesAreNamedByTheirLineInTheFileWhicheverSplitHoldsThem() throws IOException {
        StringBuilder csv = new StringBuilder("label,a,b\n");
        for (int line = 2; line <= 400; line++) {
            String b = line == 2 || line == 150 || line == 399 ? "x" + line : String.valueOf(line % 7);
            csv.append(line % 3).append(",0.5,").append(b).append('\n');
        }
        Path file = dir.resolve("bad.csv");
        Files.writeString(file, csv);
        ModelSpec spec = ModelSpec.parse("input_shape: [2]\nlayers:\n  - dense: {units: 3, activation: softmax}\n"
                + "loss: categorical_crossentropy\n", "three.yaml");
        DataInput input = DataInput.of(file.toString(), DataFormat.CSV)
                .withCsv(new DataInput.CsvLayout(0, true, ','));
        for (int slices : new int[] {1, 4, 7}) {
            dptrain.driver.files.InputException e = assertThrows(dptrain.driver.files.InputException.class,
                    () -> ExampleSource.read(jsc, input, "--train", new ExampleCheck(spec), 2, slices));
            String name = file.toUri().toString().replace("file:///", "file:/");
            for (int line : new int[] {2, 150, 399}) {
                assertTrue(e.getMessage().contains(name + " line " + line + ", column 3: 'x" + line + "'"),
                        slices + " splits: " + e.getMessage());
            }
        }
    }

    @Test
    void examplesAreNumberedInFileOrderHoweverTheFilesAreSplit() throws IOException {
        DataInput input = DataInput.of(dir.resolve("csv").toString(), DataFormat.CSV);
        ModelSpec spec = ModelSpec.read(Path.of("../src/examples/mnist-mlp.yaml"));
        List<Tuple2<Long, Example>> one = sorted(ExampleSource.read(jsc, input, "--train", new ExampleCheck(spec),
                FashionMnist.PIXELS, 1));
        List<Tuple2<Long, Example>> seven = sorted(ExampleSource.read(jsc, input, "--train", new ExampleCheck(spec),
                FashionMnist.PIXELS, 7));
        assertEquals(EXAMPLES, one.size());
        byte[] labels = FashionMnist.labels("train", 0, EXAMPLES);
        for (int i = 0; i < EXAMPLES; i++) {
            assertEquals(labels[i], one.get(i)._2().label(), "example " + i);
            assertEquals(i, one.get(i)._1());
            assertEquals(one.get(i)._2(), seven.get(i)._2(), "example " + i);
        }
    }

    /**
     * Parquet numbered from its footers' row counts, without a pass of its own, numbers every row as the validating
     * pass does, including a file whose name Spark's reader reports URL-encoded ("a b.parquet").
     */
    @Test
    void parquetRowsAreNumberedByFileAndRowWhateverOrderSparkPacksThemIn() throws IOException {
        // Spark packs files into partitions largest first: b.parquet before a.parquet.
        Path folder = dir.resolve("two-parquet");
        Files.createDirectories(folder);
        int[] rows = {10, 300};
        for (int f = 0; f < 2; f++) {
            List<Row> table = new ArrayList<>();
            for (int r = 0; r < rows[f]; r++) {
                table.add(RowFactory.create(f, List.of((float) r, (float) f)));
            }
            Path written = dir.resolve("table-" + f);
            Tables.writeParquet(jsc, written, new StructType().add("label", DataTypes.IntegerType)
                    .add("features", DataTypes.createArrayType(DataTypes.FloatType)), table);
            try (Stream<Path> parts = Files.list(written)) {
                List<Path> data = parts.filter(p -> p.toString().endsWith(".parquet")).toList();
                assertEquals(1, data.size(), data.toString());
                Files.move(data.get(0), folder.resolve((f == 0 ? "a b" : "b") + ".parquet"));
            }
        }
        ModelSpec spec = ModelSpec.parse("input_shape: [2]\nlayers:\n  - dense: {units: 2, activation: softmax}\n"
                + "loss: categorical_crossentropy\n", "two.yaml");
        DataInput input = DataInput.of(folder.toString(), DataFormat.PARQUET);
        for (int slices : new int[] {1, 3}) {
            IndexedExamples fromFooters = OnePassRead.read(jsc, input, "--train", new ExampleCheck(spec), 2, slices,
                    StorageLevel.MEMORY_AND_DISK());
            assertFalse(fromFooters.kept(), "numbered from the footers, nothing kept");
            assertEquals(310, fromFooters.count());
            List<Tuple2<Long, Example>> numbered = sorted(ExampleSource.read(jsc, input, "--train",
                    new ExampleCheck(spec), 2, slices));
            assertEquals(numbered, sorted(fromFooters), slices + " slices");
            assertEquals(310, numbered.size());
            for (int i = 0; i < 310; i++) {
                int file = i < 10 ? 0 : 1;
                int row = i < 10 ? i : i - 10;
                assertEquals(i, numbered.get(i)._1());
                assertEquals(file, numbered.get(i)._2().label(), "example " + i);
                assertEquals(row, numbered.get(i)._2().features()[0], "example " + i);
            }
        }
    }

    /**
     * Parquet read by the shuffle itself fails at its first bad row; the error is still the validating pass's:
     * every bad row named by file and record, before training starts.
     */
    @Test
    void badParquetRowsFoundWhileShufflingAreAllNamed() throws IOException {
        List<Row> table = new ArrayList<>();
        for (int r = 1; r <= 300; r++) {
            table.add(RowFactory.create(r == 5 || r == 200 ? null : r % 2, List.of((float) r, 1f)));
        }
        Path written = dir.resolve("bad-rows");
        Tables.writeParquet(jsc, written, new StructType().add("label", DataTypes.IntegerType)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType)), table);
        ModelSpec spec = ModelSpec.parse("input_shape: [2]\nlayers:\n  - dense: {units: 2, activation: softmax}\n"
                + "loss: categorical_crossentropy\n", "two.yaml");
        TrainingConfig config = TrainingConfig.builder(spec, DataInput.of(written.toString(), DataFormat.PARQUET))
                .epochs(1).batchSize(16).workers(2).averaging(AveragingSchedule.EVERY_EPOCH).seed(5)
                .cache(CacheMode.NONE).build();
        dptrain.driver.files.InputException e = assertThrows(dptrain.driver.files.InputException.class,
                () -> new DistributedTrainer(jsc).train(config, new TrainingProgress() { }));
        for (String record : new String[] {"record 5", "record 200"}) {
            assertTrue(e.getMessage().contains(record) && e.getMessage().contains("'label' is null"), e.getMessage());
        }
    }

    private static List<Tuple2<Long, Example>> sorted(IndexedExamples examples) {
        try {
            return examples.examples().sortByKey().collect();
        } finally {
            examples.release();
        }
    }
}
