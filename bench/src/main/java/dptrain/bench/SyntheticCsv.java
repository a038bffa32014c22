package dptrain.bench;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Writes a synthetic classification dataset as CSV part files, for benchmarks that need more data
 * than memory: class c's examples are Gaussian around a class-specific centre, so a network can
 * learn them. Usage: {@code SyntheticCsv DIR GIGABYTES FEATURES CLASSES FILES SEED}; prints the row count.
 */
public final class SyntheticCsv {
    private SyntheticCsv() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        long targetBytes = (long) (Double.parseDouble(args[1]) * (1L << 30));
        int features = Integer.parseInt(args[2]);
        int classes = Integer.parseInt(args[3]);
        int files = Integer.parseInt(args[4]);
        long seed = Long.parseLong(args[5]);
        Files.createDirectories(dir);
        SplittableRandom centres = new SplittableRandom(seed);
        double[][] centre = new double[classes][features];
        for (double[] c : centre) {
            for (int f = 0; f < features; f++) {
                c[f] = centres.nextDouble(-1, 1);
            }
        }
        long rows = 0;
        long bytes = 0;
        for (int part = 0; part < files; part++) {
            SplittableRandom random = new SplittableRandom(seed * 31 + part);
            Path file = dir.resolve(String.format(Locale.ROOT, "part-%05d.csv", part));
            try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.US_ASCII)) {
                StringBuilder line = new StringBuilder(features * 8);
                while (bytes < targetBytes * (part + 1) / files) {
                    int label = random.nextInt(classes);
                    line.setLength(0);
                    line.append(label);
                    for (int f = 0; f < features; f++) {
                        double x = centre[label][f] + random.nextDouble(-1.5, 1.5);
                        line.append(',').append(Math.round(x * 1000) / 1000.0);
                    }
                    line.append('\n');
                    out.append(line);
                    bytes += line.length();
                    rows++;
                }
            }
        }
        System.out.println(rows);
    }
}
