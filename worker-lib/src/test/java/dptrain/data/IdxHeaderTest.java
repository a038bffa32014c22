package dptrain.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class IdxHeaderTest {

    @Test
    void readsAnImagesHeaderAndStopsAtTheFirstPixel() throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream(IdxBytes.images(5, 3, 4));

        IdxHeader header = IdxHeader.read(in, "images.idx");

        assertTrue(header.isImages());
        assertFalse(header.isLabels());
        assertEquals(3, header.dimensionCount());
        assertEquals(5, header.count());
        assertEquals(3, header.dimension(1));
        assertEquals(4, header.dimension(2));
        assertEquals(12, header.recordSize());
        assertEquals(16, header.headerBytes());
        assertEquals(16 + 5 * 12, header.fileBytes());
        assertEquals(IdxBytes.pixel(0, 0), in.read(), "the stream must be left at the first pixel");
    }

    @Test
    void readsALabelsHeaderWithRecordSizeOne() throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream(IdxBytes.labels(7));

        IdxHeader header = IdxHeader.read(in, "labels.idx");

        assertTrue(header.isLabels());
        assertEquals(1, header.dimensionCount());
        assertEquals(7, header.count());
        assertEquals(1, header.recordSize());
        assertEquals(8, header.headerBytes());
        assertEquals(IdxBytes.label(0), in.read());
    }

    @Test
    void aBadMagicNumberIsReportedWithTheExpectedOnes() {
        DataFormatException e = readFails(IdxBytes.header(0x12345678, 1, 2, 3), "notes.txt");

        assertEquals("notes.txt: this is not an IDX file: its magic number is 0x12345678; "
                + "expected 0x00000801 (labels) or 0x00000803 (images)", e.getMessage());
        assertEquals("notes.txt", e.source());
    }

    @Test
    void aGzipFilePassedAsRawIsRecognisedAsStillCompressed() {
        DataFormatException e = readFails(IdxBytes.gzip(IdxBytes.images(2, 2, 2)), "train-images-idx3-ubyte.gz");

        assertTrue(e.getMessage().startsWith("train-images-idx3-ubyte.gz: this is not an IDX file: its magic number"
                + " is 0x1f8b08"), e.getMessage());
        assertTrue(e.getMessage().contains("gzip file"), e.getMessage());
        assertTrue(e.getMessage().contains("expected 0x00000801 (labels) or 0x00000803 (images)"), e.getMessage());
    }

    @Test
    void anUnsupportedDataTypeIsNamed() {
        DataFormatException e = readFails(IdxBytes.header(0x00000D03, 2, 28, 28), "float-images.idx");

        assertEquals("float-images.idx: magic number 0x00000d03 declares data type 0x0D (32-bit float), which is"
                + " not supported; expected 0x08 (unsigned byte), as in magic number 0x00000803", e.getMessage());
    }

    @Test
    void aDimensionCountOtherThanOneOrThreeIsRejected() {
        DataFormatException e = readFails(IdxBytes.header(0x00000802, 2, 28), "matrix.idx");

        assertTrue(e.getMessage().contains("declares 2 dimensions"), e.getMessage());
    }

    @Test
    void aZeroDimensionIsRejected() {
        DataFormatException e = readFails(IdxBytes.header(0x00000803, 10, 0, 28), "images.idx");

        assertEquals("images.idx: the header declares size 0 for dimension 2 of 3 (rows); expected a size from 1"
                + " to 2147483647", e.getMessage());
    }

    @Test
    void aTruncatedHeaderSaysHowLongItShouldBe() {
        DataFormatException e = readFails(IdxBytes.cut(IdxBytes.images(1, 2, 2), 10), "images.idx");

        assertEquals("images.idx: the file ends after 10 bytes, inside the IDX header; expected a header of 16 bytes",
                e.getMessage());
        assertTrue(readFails(new byte[0], "empty.idx").getMessage().contains("the file is empty"));
    }

    private static DataFormatException readFails(byte[] bytes, String source) {
        return assertThrows(DataFormatException.class,
                () -> IdxHeader.read(new ByteArrayInputStream(bytes), source));
    }
}
