package dptrain.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dptrain.driver.pipeline.BatchScope;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.sparkstart.SparkDefaults;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.lang.management.ManagementFactory;
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
 * dptrain {@code local[2]} against this machine's limit for two replicas, measured as pairs taken
 * back to back and repeated, so that a change in the machine's load between the two halves of a
 * pair shows up as spread between repeats rather than as a false ratio. Each repeat runs, in turn:
 * <ol>
 *   <li>two independent single-replica processes at once, minibatches of 64 ({@link SoloReplica});</li>
 *   <li>dptrain with its defaults: the batch of 128 counted for both workers together (64 per
 *       replica), every 16 minibatches, the round exchange in memory;</li>
 *   <li>the two processes at 128;</li>
 *   <li>dptrain with the batch counted per worker (128 per replica), every 16 minibatches.</li>
 * </ol>
 * Each dptrain row is set against the pair doing the same work per replica. Seconds per epoch are
 * the median of epochs 2..N, as in {@link Benchmark}.
 *
 * <p>Usage: {@code ThroughputPairs SPEC DATA_DIR OUT_DIR EPOCHS REPEATS}. Writes throughput.json and
 * throughput.md.
 */
public final class ThroughputPairs {
    /** The per-replica minibatches of a repeat, in the order they run: the default's, then per worker. */
    static final int[] MINIBATCHES = {Benchmark.BATCH / 2, Benchmark.BATCH};

    private ThroughputPairs() {
    }

    /** One repeat's examples per second, for one per-replica minibatch size. */
    record Pair(int replicaMinibatch, double soloExamplesPerSecond, double dptrainExamplesPerSecond,
            double loadAverage) {
        double ratio() {
            return dptrainExamplesPerSecond / soloExamplesPerSecond;
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 5) {
            System.err.println("usage: ThroughputPairs SPEC DATA_DIR OUT_DIR EPOCHS REPEATS");
            System.exit(2);
        }
        Path specFile = Path.of(args[0]);
        ModelSpec spec = ModelFile.readSpec(specFile);
        Path data = Path.of(args[1]);
        Path out = Path.of(args[2]);
        int epochs = Integer.parseInt(args[3]);
        int repeats = Integer.parseInt(args[4]);
        if (epochs < 2 || repeats < 1) {
            System.err.println("ThroughputPairs: EPOCHS must be at least 2 (the first is not timed) and REPEATS at "
                    + "least 1; got " + epochs + " and " + repeats);
            System.exit(2);
        }
        Files.createDirectories(out);
        String trainImages = data.resolve("train-images-idx3-ubyte.gz").toString();
        String testImages = data.resolve("t10k-images-idx3-ubyte.gz").toString();
        AveragingSchedule every16 = AveragingSchedule.everyMinibatches(16);

        List<Pair> pairs = new ArrayList<>();
        SparkConf conf = SparkDefaults.apply(new SparkConf().setMaster("local[2]").setAppName("dptrain-throughput")
                .set("spark.ui.enabled", "false").set("spark.driver.maxResultSize", "0"));
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            jsc.setLogLevel("WARN");
            // Untimed, to warm the JIT up (see Benchmark).
            Benchmark.dptrain(jsc, "warm-up (not reported)", spec, trainImages, testImages, 2, every16,
                    Transport.AUTO, BatchScope.GLOBAL);
            for (int r = 0; r < repeats; r++) {
                for (int replicaMinibatch : MINIBATCHES) {
                    BatchScope scope = replicaMinibatch == Benchmark.BATCH ? BatchScope.WORKER : BatchScope.GLOBAL;
                    SoloReplica.Pair solo = Benchmark.twoSoloReplicas(specFile, trainImages, epochs, replicaMinibatch);
                    double soloRate = solo.examplesPerEpoch() / solo.secondsPerEpoch();
                    Benchmark.Row row = Benchmark.dptrain(jsc, "dptrain local[2], batch scope " + scope.name()
                            .toLowerCase(Locale.ROOT), spec, trainImages, testImages, epochs, every16, Transport.AUTO,
                            scope);
                    Pair pair = new Pair(replicaMinibatch, soloRate, row.examplesPerSecond(), load());
                    pairs.add(pair);
                    System.out.printf(Locale.ROOT, "repeat %d, %d per replica: two solo %,.0f ex/s, dptrain %,.0f ex/s,"
                            + " ratio %.3f (load %.1f)%n", r + 1, replicaMinibatch, soloRate,
                            pair.dptrainExamplesPerSecond(), pair.ratio(), pair.loadAverage());
                }
            }
        }
        write(out, pairs, epochs, repeats);
    }

    private static void write(Path out, List<Pair> pairs, int epochs, int repeats) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", Instant.now().toString());
        json.put("epochs", epochs);
        json.put("repeats", repeats);
        json.put("pairs", pairs);
        for (int minibatch : MINIBATCHES) {
            json.put("median_ratio_minibatch_" + minibatch, EngineSpeed.median(ratios(pairs, minibatch)));
        }
        String md = table(pairs);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(out.resolve("throughput.json").toFile(), json);
        Files.writeString(out.resolve("throughput.md"), md);
        System.out.println();
        System.out.print(md);
        System.out.println("Wrote " + out.resolve("throughput.json") + " and " + out.resolve("throughput.md"));
    }

    /** The pairs in the order they ran, then each minibatch size's median ratio and its range. */
    static String table(List<Pair> pairs) {
        StringBuilder md = new StringBuilder();
        md.append("| Repeat | Minibatch per replica | Two solo processes (ex/s) | dptrain local[2] (ex/s) | Ratio | "
                + "Load average |\n|---|---|---|---|---|---|\n");
        for (int i = 0; i < pairs.size(); i++) {
            Pair p = pairs.get(i);
            md.append(String.format(Locale.ROOT, "| %d | %d | %,.0f | %,.0f | %.3f | %.1f |%n",
                    i / MINIBATCHES.length + 1, p.replicaMinibatch(), p.soloExamplesPerSecond(),
                    p.dptrainExamplesPerSecond(), p.ratio(), p.loadAverage()));
        }
        for (int minibatch : MINIBATCHES) {
            double[] ratios = ratios(pairs, minibatch);
            if (ratios.length == 0) {
                continue;
            }
            md.append(String.format(Locale.ROOT, "%nMinibatches of %d per replica%s: median ratio %.3f (from %.3f to "
                    + "%.3f over %d repeats).", minibatch, minibatch == Benchmark.BATCH / 2
                            ? " (dptrain's default: the batch of 128 counted for both workers)" : "",
                    EngineSpeed.median(ratios), ratios[0], ratios[ratios.length - 1], ratios.length));
        }
        return md.append('\n').toString();
    }

    /** The ratios of the pairs at {@code minibatch} per replica, smallest first. */
    private static double[] ratios(List<Pair> pairs, int minibatch) {
        return pairs.stream().filter(p -> p.replicaMinibatch() == minibatch).mapToDouble(Pair::ratio).sorted()
                .toArray();
    }

    private static double load() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
