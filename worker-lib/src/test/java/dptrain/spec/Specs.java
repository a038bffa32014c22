package dptrain.spec;

import java.nio.file.Files;
import java.nio.file.Path;

/** Spec texts shared by the tests. */
final class Specs {

    /** The book network of src/examples/mnist-mlp.yaml, inline so each test can vary one line. */
    static final String BOOK = String.join("\n",
            "input_shape: [784]",
            "layers:",
            "  - dense: {units: 512, activation: relu}",
            "  - dense: {units: 10, activation: softmax}",
            "optimizer: {rmsprop: {learning_rate: 0.001}}",
            "loss: categorical_crossentropy",
            "metrics: [accuracy]",
            "seed: 12345",
            "");

    private Specs() {
    }

    static ModelSpec parse(String yaml) {
        return ModelSpec.parse(yaml, "test.yaml");
    }

    /** The book spec with {@code from} replaced by {@code to}; fails if {@code from} is not in it. */
    static String book(String from, String to) {
        if (!BOOK.contains(from)) {
            throw new IllegalArgumentException("not in the book spec: " + from);
        }
        return BOOK.replace(from, to);
    }

    /** src/examples/mnist-mlp.yaml, found from the module or the project directory. */
    static Path bookExampleFile() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("src/examples/mnist-mlp.yaml");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("src/examples/mnist-mlp.yaml not found above " + Path.of("").toAbsolutePath());
    }
}
