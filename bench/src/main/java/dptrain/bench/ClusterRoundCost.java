package dptrain.bench;

import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingProgress;
import dptrain.driver.input.DataInput;
import dptrain.driver.pipeline.BatchScope;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.driver.rounds.RoundRecord;
import dptrain.driver.rounds.RoundTraffic;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * What one averaging round costs and moves, by model size and number of workers, with the
 * transport this Spark picks (on a cluster: the replicas averaging among themselves). For each
 * size a 784-hidden-10 network with RMSprop (so the state is parameters plus as many optimizer
 * values) trains one epoch of a few rounds of one 8-image minibatch per worker. Reports the median
 * round of the steady state (the first is left out: it builds the replicas): its wall time, the
 * slowest replica's compute, the rest (the exchange), the bytes the driver sent and received, and
 * those one replica sent and received as multiples of the state. Writes round-traffic.md.
 *
 * <p>Usage: {@code ClusterRoundCost IMAGES OUT_DIR "0.4 4 16 50" "2 4 8" ROUNDS [SKIP...]}: parameter
 * counts in millions, worker counts, rounds per epoch, and "P:N" pairs to skip (memory).
 */
public final class ClusterRoundCost {
    private ClusterRoundCost() {
    }

    record Row(double millions, long parameters, long stateBytes, int workers, double roundMs, double computeMs,
            double driverSent, double driverReceived, double replicaSent, double replicaReceived) {
        String markdown() {
            return String.format(Locale.ROOT, "| %.1fM | %.1f | %d | %.0f | %.0f | %.0f | %.0f / %.0f | %s / %s |",
                    millions, stateBytes / 1e6, workers, roundMs, computeMs, roundMs - computeMs, driverSent,
                    driverReceived, times(replicaSent), times(replicaReceived));
        }

        private String times(double b) {
            return String.format(Locale.ROOT, "%.3f×", b / stateBytes);
        }
    }

    public static void main(String[] args) throws IOException {
        String images = args[0];
        Path out = Files.createDirectories(Path.of(args[1]));
        double[] sizes = Arrays.stream(args[2].trim().split("\\s+")).mapToDouble(Double::parseDouble).toArray();
        int[] workerCounts = Arrays.stream(args[3].trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
        int rounds = Integer.parseInt(args[4]);
        List<String> skip = List.of(args).subList(5, args.length);
        int batch = 8;
        JavaSparkContext jsc = new JavaSparkContext(new SparkConf().setAppName("dptrain round traffic"));
        List<Row> rows = new ArrayList<>();
        try {
            for (double millions : sizes) {
                int hidden = (int) Math.round(millions * 1e6 / 795);
                ModelSpec spec = ModelSpec.parse("input_shape: [784]\nlayers:\n  - dense: {units: " + hidden
                        + ", activation: relu}\n  - dense: {units: 10, activation: softmax}\noptimizer: rmsprop\n"
                        + "loss: categorical_crossentropy\nseed: 1\n", "round-traffic-" + hidden);
                for (int workers : workerCounts) {
                    if (skip.contains(fmt(millions) + ":" + workers)) {
                        System.out.printf(Locale.ROOT, "skipped: %sM parameters, %d workers%n", fmt(millions), workers);
                        continue;
                    }
                    Path slice = RoundCost.writeSlice(images, out.resolve("data-" + workers), workers * rounds * batch);
                    rows.add(measure(jsc, spec, millions, slice, workers, batch));
                    System.out.println(rows.get(rows.size() - 1).markdown());
                }
            }
        } finally {
            jsc.stop();
        }
        List<String> lines = new ArrayList<>(List.of(
                "| Parameters | State (MB) | Workers | Round (ms) | Compute (ms) | Exchange (ms) | Driver bytes sent / "
                        + "received | Replica sent / received (× state) |",
                "|---|---|---|---|---|---|---|---|"));
        rows.forEach(r -> lines.add(r.markdown()));
        Files.write(out.resolve("round-traffic.md"), lines, StandardCharsets.UTF_8);
        System.out.println(String.join("\n", lines));
    }

    private static String fmt(double millions) {
        return millions == Math.rint(millions) ? String.valueOf((long) millions) : String.valueOf(millions);
    }

    private static Row measure(JavaSparkContext jsc, ModelSpec spec, double millions, Path slice, int workers,
            int batch) {
        TrainingConfig config = TrainingConfig.builder(spec, DataInput.idx(slice.toString())).epochs(1)
                .batchSize(batch).workers(workers).averaging(AveragingSchedule.everyMinibatches(1)).seed(1)
                .blockMomentum(BlockMomentum.NONE).batchScope(BatchScope.WORKER).build();
        List<RoundRecord> records = new ArrayList<>();
        List<RoundTraffic> traffic = new ArrayList<>();
        new DistributedTrainer(jsc).train(config, new TrainingProgress() {
            @Override
            public void roundEnded(RoundRecord r) {
                records.add(r);
            }

            @Override
            public void roundTraffic(int epoch, int round, RoundTraffic t) {
                traffic.add(t);
            }
        });
        List<RoundRecord> steady = records.subList(1, records.size());
        double roundMs = EngineSpeed.median(steady.stream().mapToDouble(RoundRecord::seconds).toArray())
                * Units.MILLIS_PER_SECOND;
        double computeMs = EngineSpeed.median(steady.stream().mapToDouble(RoundRecord::computeSeconds).toArray())
                * Units.MILLIS_PER_SECOND;
        if (traffic.size() < 2) {
            throw new IllegalStateException("no round traffic was counted: the rounds did not travel among the replicas ("
                    + "is spark.dptrain.roundExchange set, or is this local mode?)");
        }
        List<RoundTraffic> t = traffic.subList(1, traffic.size());
        long parameters = spec.parameterCount();
        return new Row(millions, parameters, 8 * parameters, workers, roundMs, computeMs,
                EngineSpeed.median(t.stream().mapToDouble(RoundTraffic::driverSent).toArray()),
                EngineSpeed.median(t.stream().mapToDouble(RoundTraffic::driverReceived).toArray()),
                EngineSpeed.median(t.stream().mapToDouble(RoundTraffic::replicaSent).toArray()),
                EngineSpeed.median(t.stream().mapToDouble(RoundTraffic::replicaReceived).toArray()));
    }

}
