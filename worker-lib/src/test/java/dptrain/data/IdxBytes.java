package dptrain.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX files for tests; pixel and label values follow formulas so a test can predict any record. */
final class IdxBytes {
    private IdxBytes() {
    }

    static int pixel(int record, int offset) {
        return (record * 31 + offset * 7) & 0xFF;
    }

    static int label(int record) {
        return record % 10;
    }

    static byte[] images(int count, int rows, int columns) {
        ByteBuffer buffer = ByteBuffer.allocate(16 + count * rows * columns);
        buffer.putInt(0x00000803).putInt(count).putInt(rows).putInt(columns);
        for (int r = 0; r < count; r++) {
            for (int p = 0; p < rows * columns; p++) {
                buffer.put((byte) pixel(r, p));
            }
        }
        return buffer.array();
    }

    static byte[] labels(int count) {
        ByteBuffer buffer = ByteBuffer.allocate(8 + count);
        buffer.putInt(0x00000801).putInt(count);
        for (int r = 0; r < count; r++) {
            buffer.put((byte) label(r));
        }
        return buffer.array();
    }

    static byte[] header(int magic, int... dimensions) {
        ByteBuffer buffer = ByteBuffer.allocate(4 + 4 * dimensions.length).putInt(magic);
        for (int d : dimensions) {
            buffer.putInt(d);
        }
        return buffer.array();
    }

    static float[] expectedFeatures(int record, int recordSize) {
        float[] features = new float[recordSize];
        for (int p = 0; p < recordSize; p++) {
            features[p] = pixel(record, p);
        }
        return features;
    }

    static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static byte[] cut(byte[] bytes, int length) {
        return Arrays.copyOf(bytes, length);
    }
}
