package dptrain.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingFailedException;
import dptrain.driver.TrainingProgress;
import dptrain.driver.TrainingResult;
import dptrain.driver.input.DataInput;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.sparkstart.SparkDefaults;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Statistical efficiency of parameter averaging: test accuracy after N epochs and training seconds
 * to 0.85 test accuracy, for workers × averaging frequency, with plain averaging and with block
 * momentum (Nesterov, momentum 1 - 1/workers, block learning rate 1: Chen and Huo's
 * recommendation). All runs in one local[2] Spark context on the same data; the test set is
 * evaluated after every epoch ({@code validationData}). Writes parity.json and parity.md.
 *
 * <p>Usage: {@code Parity SPEC DATA_DIR OUT_DIR EPOCHS WORKERS,... FREQUENCIES,... [MOMENTA,...]} where
 * a frequency is a number of minibatches or {@code epoch}, and a momentum is a number in (0, 1) or
 * {@code 1-1/N} (Chen and Huo's, the default); every cell also runs plain averaging.
 */
public final class Parity {
    private static final int BATCH = 128;
    private static final double TARGET = 0.85;

    private Parity() {
    }

    /** One cell: its settings and what it reached. */
    record Cell(int workers, String frequency, String averaging, double testAccuracy, double secondsToTarget,
            double trainingSeconds, List<Double> accuracyPerEpoch) {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 6 && args.length != 7) {
            System.err.println("usage: Parity SPEC DATA_DIR OUT_DIR EPOCHS WORKERS,... FREQUENCIES,... [MOMENTA,...]");
            System.exit(2);
        }
        ModelSpec spec = ModelFile.readSpec(Path.of(args[0]));
        Path data = Path.of(args[1]);
        Path out = Path.of(args[2]);
        int epochs = Integer.parseInt(args[3]);
        List<Integer> workerCounts = new ArrayList<>();
        for (String w : args[4].split(",")) {
            workerCounts.add(Integer.parseInt(w.trim()));
        }
        List<String> frequencies = List.of(args[5].split(","));
        List<String> momenta = List.of((args.length == 7 ? args[6] : "1-1/N").split(","));
        Files.createDirectories(out);
        DataInput train = DataInput.idx(data.resolve("train-images-idx3-ubyte.gz").toString());
        DataInput test = DataInput.idx(data.resolve("t10k-images-idx3-ubyte.gz").toString());

        List<Cell> cells = new ArrayList<>();
        SparkConf conf = SparkDefaults.apply(new SparkConf().setMaster("local[2]").setAppName("dptrain-parity")
                .set("spark.ui.enabled", "false"));
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            jsc.setLogLevel("WARN");
            for (int workers : workerCounts) {
                for (String frequency : frequencies) {
                    cells.add(run(jsc, spec, train, test, epochs, workers, frequency, BlockMomentum.NONE));
                    for (String momentum : workers > 1 ? momenta : List.<String>of()) {
                        double mu = momentum.equals("1-1/N") ? 1 - 1.0 / workers : Double.parseDouble(momentum);
                        cells.add(run(jsc, spec, train, test, epochs, workers, frequency, new BlockMomentum(mu, 1.0, true)));
                    }
                    write(out, cells, epochs);
                }
            }
        }
        System.out.println();
        System.out.print(Files.readString(out.resolve("parity.md")));
        System.out.println("Wrote " + out.resolve("parity.json") + " and " + out.resolve("parity.md"));
    }

    private static Cell run(JavaSparkContext jsc, ModelSpec spec, DataInput train, DataInput test, int epochs,
            int workers, String frequency, BlockMomentum momentum) {
        TrainingConfig config = TrainingConfig.builder(spec, train).epochs(epochs).batchSize(BATCH).workers(workers)
                .averaging(AveragingSchedule.parse(frequency)).validationData(test).blockMomentum(momentum).build();
        String averaging = momentum.enabled()
                ? String.format(Locale.ROOT, "block momentum %.3f (Nesterov)", momentum.momentum()) : "plain";
        double[] trainingSeconds = new double[epochs + 1];
        TrainingResult result;
        try {
            result = new DistributedTrainer(jsc).train(config, new TrainingProgress() {
                @Override
                public void roundEnded(RoundRecord r) {
                    trainingSeconds[r.epoch()] += r.seconds();
                }

                @Override
                public void epochEnded(EpochRecord r) {
                    System.out.printf(Locale.ROOT, "workers %d, every %s, %s: %s%n", workers, frequency, averaging,
                            r.progressLine(epochs));
                }
            });
        } catch (TrainingFailedException e) {
            // A diverged cell is a result too: NaN accuracy, shown as "diverged".
            System.out.printf(Locale.ROOT, "workers %d, every %s, %s: %s%n", workers, frequency, averaging,
                    e.getMessage());
            return new Cell(workers, frequency, averaging, Double.NaN, Double.NaN, Double.NaN, List.of());
        }
        List<Double> accuracy = new ArrayList<>();
        double elapsed = 0;
        double toTarget = Double.NaN;
        for (EpochRecord e : result.epochs()) {
            elapsed += trainingSeconds[e.epoch()];
            accuracy.add(e.valAccuracy());
            if (Double.isNaN(toTarget) && e.valAccuracy() >= TARGET) {
                toTarget = elapsed;
            }
        }
        return new Cell(workers, frequency, averaging, accuracy.get(accuracy.size() - 1), toTarget, elapsed, accuracy);
    }

    private static void write(Path out, List<Cell> cells, int epochs) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", Instant.now().toString());
        json.put("epochs", epochs);
        json.put("batch_size", BATCH);
        json.put("target_accuracy", TARGET);
        json.put("cores", Runtime.getRuntime().availableProcessors());
        json.put("cells", cells);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("parity.json").toFile(), json);

        List<String> frequencies = cells.stream().map(Cell::frequency).distinct().toList();
        List<String> rows = cells.stream().map(c -> c.workers() + "|" + c.averaging()).distinct().toList();
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "Test accuracy after %d epochs / training seconds to %.2f test accuracy "
                + "(— when not reached)%n%n", epochs, TARGET));
        md.append("| Workers | Averaging |");
        frequencies.forEach(f -> md.append(f.equals("epoch") ? " every epoch |" : " every " + f + " |"));
        md.append("\n|---|---|").append("---|".repeat(frequencies.size())).append('\n');
        for (String row : rows) {
            String[] parts = row.split("\\|");
            md.append("| ").append(parts[0]).append(" | ").append(parts[1]).append(" |");
            for (String f : frequencies) {
                Cell cell = cells.stream().filter(c -> row.equals(c.workers() + "|" + c.averaging())
                        && c.frequency().equals(f)).findFirst().orElse(null);
                md.append(cell == null ? " |" : Double.isNaN(cell.testAccuracy()) ? " diverged |"
                        : String.format(Locale.ROOT, " %.4f / %s |", cell.testAccuracy(),
                        Double.isNaN(cell.secondsToTarget()) ? "—"
                                : String.format(Locale.ROOT, "%.1f s", cell.secondsToTarget())));
            }
            md.append('\n');
        }
        Files.writeString(out.resolve("parity.md"), md);
    }
}
