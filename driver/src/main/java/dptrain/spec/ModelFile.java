package dptrain.spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code --model} names, read: the spec of the network, and the weights it starts from when the file holds
 * them (a Keras .h5 file), else none, so training starts from the spec's initializers.
 *
 * <p>It and {@link KerasModelTranslator} are in dptrain-driver, not worker-lib, so that executors, which only receive
 * built specs, do without DL4J's Keras import and the HDF5 library. They share worker-lib's package for the spec's
 * package-private parts: {@code ModelSpec.parse} with a Keras model JSON reader, and the checks and translators of
 * Keras-terms specs that the Keras import reuses.
 *
 * @param spec           the network
 * @param initialWeights the parameters to start from, or null to use the spec's initializers
 */
public record ModelFile(ModelSpec spec, InitialWeights initialWeights) {

    /** The first bytes of every HDF5 file (at offset 0, or 512, 1024, ... after a user block). */
    private static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    /**
     * Reads a model file, told apart by content: a Keras HDF5 file (.h5, architecture and weights), or text (a
     * dptrain spec in YAML/JSON, a DL4J configuration JSON, or a Keras model JSON as {@code model.to_json()} writes
     * it).
     *
     * @param content    the file's bytes
     * @param sourceName names the file in error messages
     * @throws SpecException if it is not a model dptrain can train
     */
    public static ModelFile read(byte[] content, String sourceName) {
        if (isHdf5(content)) {
            Path local = null;
            try {
                // The HDF5 library reads files by name only: give it a local copy (the input may be on HDFS).
                local = Files.createTempFile("dptrain-keras-", ".h5");
                Files.write(local, content);
                return KerasModelTranslator.fromHdf5(local, sourceName);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot copy " + sourceName + " to a local temporary file", e);
            } finally {
                deleteQuietly(local);
            }
        }
        return new ModelFile(parseSpec(new String(content, StandardCharsets.UTF_8), sourceName), null);
    }

    /**
     * {@link ModelSpec#parse(String, String)}, which also takes a Keras model JSON here: a dptrain spec in YAML/JSON,
     * a DL4J configuration JSON, or a Keras model JSON as {@code model.to_json()} writes it.
     *
     * @throws SpecException if it is not a model dptrain can train
     */
    public static ModelSpec parseSpec(String text, String sourceName) {
        // A lambda, not a method reference: KerasModelTranslator and DL4J's Keras import load only for a Keras model.
        return ModelSpec.parse(text, sourceName, (root, source) -> KerasModelTranslator.fromJson(root, source));
    }

    /**
     * {@link ModelSpec#read(Path)}, which also takes a Keras model JSON here (see {@link #parseSpec}).
     *
     * @throws SpecException if the file is missing or unreadable, or not a model dptrain can train
     */
    public static ModelSpec readSpec(Path file) {
        return parseSpec(ModelSpec.readText(file), file.toString());
    }

    /** True if {@code content} starts with the HDF5 signature, possibly after a user block of 512 · 2^k bytes. */
    static boolean isHdf5(byte[] content) {
        for (long offset = 0; offset + HDF5_SIGNATURE.length <= content.length; offset = offset == 0 ? 512 : offset * 2) {
            if (startsWithAt(content, (int) offset)) {
                return true;
            }
        }
        return false;
    }

    private static boolean startsWithAt(byte[] content, int offset) {
        for (int i = 0; i < HDF5_SIGNATURE.length; i++) {
            if (content[offset + i] != HDF5_SIGNATURE[i]) {
                return false;
            }
        }
        return true;
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temporary file; nothing depends on its removal
            }
        }
    }
}
