package dptrain.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * scikit-learn's small real datasets as deploy/bin/fetch-sklearn-data writes them: CSV, the target first, no header,
 * train.csv (4 rows in 5) and test.csv (every 5th row).
 */
public final class SklearnData {
    private SklearnData() {
    }

    /** The folder holding the datasets' folders, beside Fashion-MNIST's. */
    private static Path root() {
        return Path.of(System.getProperty("dptrain.data.dir", "data/fashion-mnist")).getParent();
    }

    /** {@code <dataset>/<file>}, e.g. ("diabetes", "train.csv"); fails naming the fetch script when missing. */
    public static Path file(String dataset, String file) {
        Path path = root().resolve(dataset).resolve(file);
        assertTrue(Files.isRegularFile(path), dataset + " is missing from " + path.toAbsolutePath()
                + "; run deploy/bin/fetch-sklearn-data");
        return path;
    }

    /** The rows of a dataset file, each parsed into numbers, the target first. */
    public static List<double[]> rows(Path file) throws IOException {
        return Files.readAllLines(file).stream().filter(line -> !line.isBlank())
                .map(line -> java.util.Arrays.stream(line.split(",")).mapToDouble(Double::parseDouble).toArray())
                .toList();
    }
}
