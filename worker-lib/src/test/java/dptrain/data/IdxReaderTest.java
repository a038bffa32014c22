package dptrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

class IdxReaderTest {
    private static final int COUNT = 20;
    private static final int ROWS = 3;
    private static final int COLUMNS = 4;
    private static final byte[] IMAGES = IdxBytes.images(COUNT, ROWS, COLUMNS);
    private static final byte[] LABELS = IdxBytes.labels(COUNT);

    @Test
    void readsAMiddleRangeOfRawFiles() throws IOException {
        List<Example> examples = readAll(IMAGES, LABELS, 7, 5);

        assertExamples(7, 5, examples);
    }

    @Test
    void readsTheSameRangeOfGzipFilesThroughMaybeGunzip() throws IOException {
        InputStream images = IdxReader.maybeGunzip(new ByteArrayInputStream(IdxBytes.gzip(IMAGES)));
        InputStream labels = IdxReader.maybeGunzip(new ByteArrayInputStream(IdxBytes.gzip(LABELS)));

        assertExamples(7, 5, collect(IdxReader.read(images, "images.gz", labels, "labels.gz", 7, 5)));
    }

    @Test
    void maybeGunzipPassesRawBytesThroughUnchanged() throws IOException {
        assertArrayEquals(IMAGES, IdxReader.maybeGunzip(new ByteArrayInputStream(IMAGES)).readAllBytes());
        assertArrayEquals(IMAGES, IdxReader.maybeGunzip(new ByteArrayInputStream(IdxBytes.gzip(IMAGES))).readAllBytes());
        assertArrayEquals(new byte[] {0x1F}, IdxReader.maybeGunzip(new ByteArrayInputStream(new byte[] {0x1F}))
                .readAllBytes());
    }

    @Test
    void readsTheFirstAndTheLastRecordsAndAnEmptyRange() throws IOException {
        assertExamples(0, 1, readAll(IMAGES, LABELS, 0, 1));
        assertExamples(COUNT - 2, 2, readAll(IMAGES, LABELS, COUNT - 2, 2));
        assertEquals(List.of(), readAll(IMAGES, LABELS, COUNT, 0));
    }

    @Test
    void readsARangeOfAHugeFileWithoutLoadingIt() throws IOException {
        int huge = 5_000_000; // 5 million records of 784 bytes: 3.9 GB if it were read
        InputStream images = new GeneratedIdx(IdxBytes.header(0x00000803, huge, 28, 28), 784);
        InputStream labels = new GeneratedIdx(IdxBytes.header(0x00000801, huge), 1);

        Iterator<Example> examples = IdxReader.read(images, "huge-images", labels, "huge-labels", 1000, 3);

        Example first = examples.next();
        assertEquals(784, first.features().length);
        assertEquals(GeneratedIdx.value(1000 * 784L), first.features()[0]);
        assertEquals(GeneratedIdx.value(1000), first.label());
    }

    @Test
    void aTruncatedImagesFileFailsAtTheRecordItEndsIn() throws IOException {
        byte[] truncated = IdxBytes.cut(IMAGES, 16 + 4 * 12 + 5); // ends 5 bytes into record 5

        Iterator<Example> examples = IdxReader.read(new ByteArrayInputStream(truncated), "images.idx",
                new ByteArrayInputStream(LABELS), "labels.idx", 0, COUNT);
        for (int i = 0; i < 4; i++) {
            examples.next();
        }
        DataFormatException e = assertThrows(DataFormatException.class, examples::next);

        assertEquals("images.idx record 5: the file ends 5 bytes into this record; the header declares 20 records"
                + " of 12 bytes each, so the file should be 256 bytes long, but it ends after 69 bytes"
                + " (incomplete download or copy?)", e.getMessage());
        assertEquals(5, e.lineOrRecord());
        assertTrue(e.recordBased());
    }

    @Test
    void aTruncatedImagesFileIsDetectedWhileSkippingToTheRange() {
        byte[] truncated = IdxBytes.cut(IMAGES, 16 + 4 * 12 + 5);

        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.read(
                new ByteArrayInputStream(truncated), "images.idx", new ByteArrayInputStream(LABELS), "labels.idx",
                10, 2));

        assertTrue(e.getMessage().startsWith("images.idx record 5: the file ends 5 bytes into this record"),
                e.getMessage());
    }

    @Test
    void aTruncatedLabelsFileFailsAtTheFirstMissingLabel() throws IOException {
        byte[] truncated = IdxBytes.cut(LABELS, 8 + 6);

        Iterator<Example> examples = IdxReader.read(new ByteArrayInputStream(IMAGES), "images.idx",
                new ByteArrayInputStream(truncated), "labels.idx", 3, 10);
        for (int i = 0; i < 3; i++) {
            examples.next();
        }
        DataFormatException e = assertThrows(DataFormatException.class, examples::next);

        assertEquals("labels.idx record 7: the file ends before this record; the header declares 20 records of"
                + " 1 byte each, so the file should be 28 bytes long, but it ends after 14 bytes"
                + " (incomplete download or copy?)", e.getMessage());
    }

    @Test
    void aTruncatedGzipFileIsReportedAsIncompleteData() throws IOException {
        byte[] compressed = IdxBytes.gzip(IdxBytes.images(200, 28, 28));
        InputStream images = IdxReader.maybeGunzip(new ByteArrayInputStream(
                IdxBytes.cut(compressed, compressed.length / 2)));

        Iterator<Example> examples = IdxReader.read(images, "images.gz",
                new ByteArrayInputStream(IdxBytes.labels(200)), "labels.idx", 0, 200);
        DataFormatException e = assertThrows(DataFormatException.class, () -> {
            while (examples.hasNext()) {
                examples.next();
            }
        });

        assertTrue(e.getMessage().contains("the compressed data ends inside this record"), e.getMessage());
        assertTrue(e.getMessage().contains("200 records of 784 bytes each"), e.getMessage());
    }

    @Test
    void filesWithDifferentRecordCountsAreRejectedNamingBoth() {
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.read(
                new ByteArrayInputStream(IMAGES), "train-images.idx",
                new ByteArrayInputStream(IdxBytes.labels(COUNT - 1)), "train-labels.idx", 0, 1));

        assertEquals("train-images.idx: the images file holds 20 images but the labels file train-labels.idx holds"
                + " 19 labels; expected the same number of records in both files, one label per image",
                e.getMessage());
    }

    @Test
    void swappedFilesAreReportedAsSwapped() {
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.read(
                new ByteArrayInputStream(LABELS), "labels.idx", new ByteArrayInputStream(IMAGES), "images.idx",
                0, 1));

        assertTrue(e.getMessage().contains("swapped"), e.getMessage());
    }

    @Test
    void aRangeBeyondTheFileIsAProgrammingError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> readAll(IMAGES, LABELS,
                15, 6));

        assertTrue(e.getMessage().contains("[15, 21)") && e.getMessage().contains("holds 20 records"),
                e.getMessage());
    }

    @Test
    void aStreamErrorSurfacesAsUncheckedIoException() throws IOException {
        InputStream failing = new InputStream() {
            private int served;

            @Override
            public int read() throws IOException {
                if (served < IMAGES.length / 2) {
                    return IMAGES[served++] & 0xFF;
                }
                throw new IOException("connection reset");
            }
        };
        Iterator<Example> examples = IdxReader.read(failing, "images.idx", new ByteArrayInputStream(LABELS),
                "labels.idx", 0, COUNT);

        RuntimeException e = assertThrows(RuntimeException.class, () -> collect(examples));
        assertInstanceOf(UncheckedIOException.class, e);
    }

    @Test
    void readsARangeOfImagesWithoutALabelsFile() throws IOException {
        List<Example> examples = collect(IdxReader.readImages(new ByteArrayInputStream(IMAGES), "images", 7, 5));
        List<Example> labelled = readAll(IMAGES, LABELS, 7, 5);

        assertEquals(5, examples.size());
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(labelled.get(i).features(), examples.get(i).features(), "record index " + (7 + i));
            assertEquals(Example.UNLABELED, examples.get(i).label());
        }
    }

    @Test
    void imagesWithoutLabelsRefuseALabelsFile() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> IdxReader.readImages(new ByteArrayInputStream(LABELS), "labels", 0, 1));

        assertTrue(e.getMessage().contains("this is a labels file"), e.getMessage());
    }

    @Test
    void imagesWithoutLabelsReportATruncatedRecord() throws IOException {
        byte[] cut = IdxBytes.cut(IMAGES, IMAGES.length - 3);
        Iterator<Example> examples = IdxReader.readImages(new ByteArrayInputStream(cut), "images", COUNT - 1, 1);

        DataFormatException e = assertThrows(DataFormatException.class, examples::next);
        assertEquals("images record " + COUNT + ": the file ends 9 bytes into this record; the header declares 20 "
                + "records of 12 bytes each, so the file should be 256 bytes long, but it ends after 253 bytes"
                + " (incomplete download or copy?)", e.getMessage());
    }

    private static List<Example> readAll(byte[] images, byte[] labels, long from, long count) throws IOException {
        return collect(IdxReader.read(new ByteArrayInputStream(images), "images.idx",
                new ByteArrayInputStream(labels), "labels.idx", from, count));
    }

    private static List<Example> collect(Iterator<Example> iterator) {
        List<Example> examples = new ArrayList<>();
        iterator.forEachRemaining(examples::add);
        return examples;
    }

    private static void assertExamples(int from, int count, List<Example> examples) {
        assertEquals(count, examples.size());
        for (int i = 0; i < count; i++) {
            assertEquals(new Example(IdxBytes.expectedFeatures(from + i, ROWS * COLUMNS), IdxBytes.label(from + i)),
                    examples.get(i), "record index " + (from + i));
        }
        assertFalse(examples.stream().anyMatch(e -> e.features().length != ROWS * COLUMNS));
    }

    /** An IDX file generated on the fly: any byte after the header is a function of its offset. */
    private static final class GeneratedIdx extends InputStream {
        private final byte[] header;
        private final long length;
        private long position;

        GeneratedIdx(byte[] header, int recordSize) {
            this.header = header;
            this.length = header.length + (long) ByteBuffer.wrap(header, 4, 4).getInt() * recordSize;
        }

        static int value(long offsetAfterHeader) {
            return (int) (offsetAfterHeader % 251);
        }

        @Override
        public int read() {
            if (position >= length) {
                return -1;
            }
            long p = position++;
            return p < header.length ? header[(int) p] & 0xFF : value(p - header.length);
        }

        @Override
        public long skip(long n) {
            long step = Math.max(0, Math.min(n, length - position));
            position += step;
            return step;
        }
    }
}
