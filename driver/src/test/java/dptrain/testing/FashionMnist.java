package dptrain.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** The real Fashion-MNIST files (deploy/bin/fetch-fashion-mnist puts them in place) and slices of them. */
public final class FashionMnist {
    public static final int PIXELS = 28 * 28;

    private FashionMnist() {
    }

    /** The folder holding the four gzip IDX files. */
    public static Path folder() {
        Path dir = Path.of(System.getProperty("dptrain.data.dir", "data/fashion-mnist"));
        assertTrue(Files.isRegularFile(dir.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST is missing from " + dir.toAbsolutePath() + "; run deploy/bin/fetch-fashion-mnist");
        return dir;
    }

    public static Path trainImages() {
        return folder().resolve("train-images-idx3-ubyte.gz");
    }

    public static Path testImages() {
        return folder().resolve("t10k-images-idx3-ubyte.gz");
    }

    /**
     * Writes records {@code [from, from + count)} of the real {@code set} ("train" or "t10k") as an uncompressed
     * IDX pair {@code <name>-images-idx3-ubyte} / {@code <name>-labels-idx1-ubyte} in {@code dir}; returns the images file.
     */
    public static Path writeSlice(Path dir, String set, String name, int from, int count) throws IOException {
        Files.createDirectories(dir);
        Path images = dir.resolve(name + "-images-idx3-ubyte");
        Path labels = dir.resolve(name + "-labels-idx1-ubyte");
        byte[] pixels = slice(folder().resolve(set + "-images-idx3-ubyte.gz"), 16, from, count, PIXELS);
        byte[] classes = slice(folder().resolve(set + "-labels-idx1-ubyte.gz"), 8, from, count, 1);
        writeIdx(images, 0x803, new int[] {count, 28, 28}, pixels);
        writeIdx(labels, 0x801, new int[] {count}, classes);
        return images;
    }

    /** The pixels of records {@code [from, from + count)} of the real {@code set} ("train" or "t10k"), row-major. */
    public static byte[] pixels(String set, int from, int count) throws IOException {
        return slice(folder().resolve(set + "-images-idx3-ubyte.gz"), 16, from, count, PIXELS);
    }

    /** The labels of records {@code [from, from + count)} of the real {@code set}. */
    public static byte[] labels(String set, int from, int count) throws IOException {
        return slice(folder().resolve(set + "-labels-idx1-ubyte.gz"), 8, from, count, 1);
    }

    /** Writes an IDX file with the given magic number, dimensions and bytes. */
    public static void writeIdx(Path file, int magic, int[] dims, byte[] data) throws IOException {
        try (OutputStream raw = Files.newOutputStream(file); DataOutputStream out = new DataOutputStream(raw)) {
            out.writeInt(magic);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(data);
        }
    }

    private static byte[] slice(Path gz, int header, int from, int count, int recordSize) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz), 1 << 16)) {
            in.skipNBytes(header + (long) from * recordSize);
            return in.readNBytes(count * recordSize);
        }
    }
}
