package dptrain.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Reads the real Fashion-MNIST training files when they are present; skipped otherwise. */
class FashionMnistFileTest {
    private static final String IMAGES = "train-images-idx3-ubyte.gz";
    private static final String LABELS = "train-labels-idx1-ubyte.gz";

    @Test
    void theLastTenTrainingRecordsHaveTheDocumentedShapeAndLabels() throws IOException {
        Optional<Path> directory = dataDirectory();
        Assumptions.assumeTrue(directory.isPresent(), "Fashion-MNIST training files not found; skipping");
        Path images = directory.get().resolve(IMAGES);
        Path labels = directory.get().resolve(LABELS);

        try (InputStream headerIn = IdxReader.maybeGunzip(Files.newInputStream(images))) {
            IdxHeader header = IdxHeader.read(headerIn, IMAGES);
            assertEquals(60_000, header.count());
            assertEquals(28, header.dimension(1));
            assertEquals(28, header.dimension(2));
        }
        try (InputStream imageIn = IdxReader.maybeGunzip(Files.newInputStream(images));
             InputStream labelIn = IdxReader.maybeGunzip(Files.newInputStream(labels))) {
            Iterator<Example> examples = IdxReader.read(imageIn, IMAGES, labelIn, LABELS, 59_990, 10);
            int read = 0;
            for (; examples.hasNext(); read++) {
                Example example = examples.next();
                assertEquals(784, example.features().length);
                assertTrue(example.label() >= 0 && example.label() <= 9, "label " + example.label());
                for (float pixel : example.features()) {
                    assertTrue(pixel >= 0 && pixel <= 255, "pixel " + pixel);
                }
            }
            assertEquals(10, read);
        }
    }

    /** The build's dptrain.data.dir (deploy/bin/fetch-fashion-mnist fills it), then the system-wide copy. */
    private static Optional<Path> dataDirectory() {
        return Stream.of(System.getProperty("dptrain.data.dir"), "/usr/share/datasets/fashion-mnist")
                .filter(dir -> dir != null && !dir.isBlank())
                .map(Path::of)
                .filter(dir -> Files.isRegularFile(dir.resolve(IMAGES)) && Files.isRegularFile(dir.resolve(LABELS)))
                .findFirst();
    }
}
