package dptrain.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dptrain.data.Minibatch;
import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingProgress;
import dptrain.driver.TrainingResult;
import dptrain.driver.input.DataInput;
import dptrain.driver.pipeline.BatchScope;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.sparkstart.SparkDefaults;
import dptrain.spec.Engine;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import dptrain.timing.Seconds;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The benchmark harness: in one run, on the same data and machine, the machine's single-thread
 * GEMM peak, single-process DL4J on one thread (the baseline), and dptrain in local[2] averaging
 * once per epoch, every 16 and every 5 minibatches (and once per epoch with the DL4J engine, to
 * show what the dense engine adds). Rounds travel as dptrain's default picks (in local[2]: an
 * epoch's rounds in one job, the round exchange handing states to the tasks in memory); four more
 * rows run every 16 minibatches and once per epoch with a Spark job per round, and with the round
 * exchange over TCP (what it costs where tasks run in other JVMs), for the ratios in the same run.
 * Those rows count the batch of 128 per worker, as since session 1; one more runs dptrain's
 * defaults (the batch counted for both workers: 64 per replica), against two solo processes at
 * 64 (see {@link ThroughputPairs} for that ratio taken in repeated back-to-back pairs).
 * Each configuration trains the book's network for N epochs with the test set evaluated after
 * every epoch (outside the timings) for the seconds to 0.85 test accuracy. For dptrain it splits
 * each round's time into broadcast, scheduling, replica compute, combining and the driver's
 * update. Then it measures the cost of one averaging round for parameter vectors from 0.4M to 50M
 * floats, each of the three ways. Writes bench.json and bench.md.
 *
 * <p>Usage: {@code Benchmark SPEC DATA_DIR OUT_DIR EPOCHS [--quick]}. Seconds per epoch are the
 * median of epochs 2..N (training rounds only), so cache building stays out; an untimed two-epoch
 * dptrain run first warms the JIT up.
 * {@code --quick} measures the round cost up to 4M floats only.
 */
public final class Benchmark {
    static final int BATCH = 128;
    private static final double TARGET = 0.85;

    private Benchmark() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 4 && !(args.length == 5 && args[4].equals("--quick"))) {
            System.err.println("usage: Benchmark SPEC DATA_DIR OUT_DIR EPOCHS [--quick]");
            System.exit(2);
        }
        ModelSpec spec = ModelFile.readSpec(Path.of(args[0]));
        Path data = Path.of(args[1]);
        Path out = Path.of(args[2]);
        int epochs = Integer.parseInt(args[3]);
        boolean quick = args.length == 5;
        Files.createDirectories(out);
        String trainImages = data.resolve("train-images-idx3-ubyte.gz").toString();
        String testImages = data.resolve("t10k-images-idx3-ubyte.gz").toString();
        double loadBefore = load();

        MultiLayerNetwork probe = new MultiLayerNetwork(spec.configuration());
        probe.init();
        double flopsPerExample = EngineSpeed.flopsPerExample(probe, spec.inputSize());
        double peak = GemmPeak.bookShapeGflops();
        System.out.printf(Locale.ROOT, "GEMM peak (Nd4j.gemm 128x784x512, one thread): %.1f GFLOP/s; %.3f MFLOP per "
                + "training example%n", peak, flopsPerExample / Units.FLOP_PER_MFLOP);

        List<Row> rows = new ArrayList<>();
        rows.add(singleProcess(spec, trainImages, testImages, epochs));
        SoloReplica.Pair solo = twoSoloReplicas(Path.of(args[0]), trainImages, epochs, BATCH);
        SoloReplica.Pair soloHalf = twoSoloReplicas(Path.of(args[0]), trainImages, epochs, BATCH / 2);
        List<RoundCost> roundCosts = new ArrayList<>();
        SparkConf conf = SparkDefaults.apply(new SparkConf().setMaster("local[2]").setAppName("dptrain-bench")
                .set("spark.ui.enabled", "false").set("spark.driver.maxResultSize", "0"));
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            jsc.setLogLevel("WARN");
            // Untimed: the first dptrain configuration ran 10-40% slower per epoch than the same one later in
            // the run (the JIT still compiling the replica's loops), which skewed the headline row.
            dptrain(jsc, "warm-up (not reported)", spec, trainImages, testImages, 2,
                    AveragingSchedule.everyMinibatches(16), Transport.AUTO, BatchScope.WORKER);
            rows.add(dptrain(jsc, "dptrain local[2], once per epoch (round exchange, in memory)", spec, trainImages,
                    testImages, epochs, AveragingSchedule.EVERY_EPOCH, Transport.AUTO, BatchScope.WORKER));
            rows.add(dptrain(jsc, "dptrain local[2], every 16 minibatches (round exchange, in memory)", spec,
                    trainImages, testImages, epochs, AveragingSchedule.everyMinibatches(16), Transport.AUTO,
                    BatchScope.WORKER));
            rows.add(dptrain(jsc, "dptrain local[2], every 5 minibatches (round exchange, in memory)", spec,
                    trainImages, testImages, epochs, AveragingSchedule.everyMinibatches(5), Transport.AUTO,
                    BatchScope.WORKER));
            rows.add(dptrain(jsc, "dptrain local[2], once per epoch, DL4J engine", spec.withEngine(Engine.DL4J),
                    trainImages, testImages, epochs, AveragingSchedule.EVERY_EPOCH, Transport.AUTO, BatchScope.WORKER));
            rows.add(dptrain(jsc, "dptrain local[2], every 16 minibatches (a Spark job per round)", spec,
                    trainImages, testImages, epochs, AveragingSchedule.everyMinibatches(16), Transport.JOB_PER_ROUND,
                    BatchScope.WORKER));
            rows.add(dptrain(jsc, "dptrain local[2], once per epoch (a Spark job per round)", spec,
                    trainImages, testImages, epochs, AveragingSchedule.EVERY_EPOCH, Transport.JOB_PER_ROUND,
                    BatchScope.WORKER));
            rows.add(dptrain(jsc, "dptrain local[2], every 16 minibatches (round exchange over TCP)", spec,
                    trainImages, testImages, epochs, AveragingSchedule.everyMinibatches(16), Transport.OVER_TCP,
                    BatchScope.WORKER));
            rows.add(dptrain(jsc, "dptrain local[2], once per epoch (round exchange over TCP)", spec,
                    trainImages, testImages, epochs, AveragingSchedule.EVERY_EPOCH, Transport.OVER_TCP,
                    BatchScope.WORKER));
            // dptrain's defaults: the batch of 128 counted for both workers together, so each replica's
            // minibatch holds 64 examples; compared with two solo processes at 64 below.
            rows.add(dptrain(jsc, "dptrain local[2], every 16 minibatches, the default global batch (64 per "
                    + "worker; round exchange, in memory)", spec, trainImages, testImages, epochs,
                    AveragingSchedule.everyMinibatches(16), Transport.AUTO, BatchScope.GLOBAL));
            Path slice = RoundCost.writeSlice(trainImages, out.resolve("slice"), 256);
            for (int hidden : quick ? new int[] {512, 5_000} : new int[] {512, 5_000, 20_000, 63_000}) {
                for (Transport transport : List.of(Transport.JOB_PER_ROUND, Transport.OVER_TCP, Transport.IN_MEMORY,
                        Transport.PEERS)) {
                    roundCosts.add(RoundCost.measure(jsc, slice, hidden, transport));
                }
            }
        }
        Row twoSolo = new Row("two independent single-replica processes at once (this machine's limit for 2 "
                + "replicas; no averaging)", solo.secondsPerEpoch(), solo.examplesPerEpoch(), Double.NaN, Double.NaN,
                Double.NaN, null, List.of());
        rows.add(twoSolo);
        Row twoSoloHalf = new Row("two independent single-replica processes at once, minibatches of 64 (the limit "
                + "for the global batch's row)", soloHalf.secondsPerEpoch(), soloHalf.examplesPerEpoch(), Double.NaN,
                Double.NaN, Double.NaN, null, List.of());
        rows.add(twoSoloHalf);
        Row global = rows.get(9);
        double peakAfter = GemmPeak.bookShapeGflops();
        peak = Math.max(peak, peakAfter);

        Row single = rows.get(0);
        Row perEpoch = rows.get(1);
        Row k16 = rows.get(2);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", Instant.now().toString());
        json.put("epochs", epochs);
        json.put("batch_size", BATCH);
        json.put("cores", Runtime.getRuntime().availableProcessors());
        json.put("java", System.getProperty("java.version"));
        json.put("load_average_before", loadBefore);
        json.put("load_average_after", load());
        json.put("gemm_peak_gflops", peak);
        json.put("mflop_per_example", flopsPerExample / Units.FLOP_PER_MFLOP);
        json.put("single_1t_eps", single.examplesPerSecond());
        json.put("dptrain_local2_epoch_eps", perEpoch.examplesPerSecond());
        json.put("dptrain_local2_k16_eps", k16.examplesPerSecond());
        json.put("dptrain_local2_k5_eps", rows.get(3).examplesPerSecond());
        json.put("dptrain_local2_epoch_dl4j_engine_eps", rows.get(4).examplesPerSecond());
        json.put("dptrain_local2_k16_job_per_round_eps", rows.get(5).examplesPerSecond());
        json.put("overhead_k16_job_per_round_frac", rows.get(5).overheadFraction());
        json.put("dptrain_local2_epoch_job_per_round_eps", rows.get(6).examplesPerSecond());
        json.put("overhead_epoch_job_per_round_frac", rows.get(6).overheadFraction());
        json.put("dptrain_local2_k16_tcp_eps", rows.get(7).examplesPerSecond());
        json.put("overhead_k16_tcp_frac", rows.get(7).overheadFraction());
        json.put("dptrain_local2_epoch_tcp_eps", rows.get(8).examplesPerSecond());
        json.put("overhead_epoch_tcp_frac", rows.get(8).overheadFraction());
        json.put("overhead_epoch_frac", perEpoch.overheadFraction());
        json.put("overhead_k16_frac", k16.overheadFraction());
        json.put("achieved_gflops", perEpoch.examplesPerSecond() * flopsPerExample / Units.FLOP_PER_GFLOP);
        json.put("achieved_frac_of_2_core_peak", perEpoch.examplesPerSecond() * flopsPerExample / Units.FLOP_PER_GFLOP / (2 * peak));
        json.put("test_accuracy", perEpoch.testAccuracy());
        json.put("test_accuracy_k16", k16.testAccuracy());
        json.put("two_solo_replicas_eps", twoSolo.examplesPerSecond());
        json.put("dptrain_local2_epoch_vs_two_solo", perEpoch.examplesPerSecond() / twoSolo.examplesPerSecond());
        json.put("dptrain_local2_k16_vs_two_solo", k16.examplesPerSecond() / twoSolo.examplesPerSecond());
        json.put("dptrain_local2_k16_global_eps", global.examplesPerSecond());
        json.put("test_accuracy_k16_global", global.testAccuracy());
        json.put("two_solo_replicas_batch64_eps", twoSoloHalf.examplesPerSecond());
        json.put("dptrain_local2_k16_global_vs_two_solo_batch64", global.examplesPerSecond()
                / twoSoloHalf.examplesPerSecond());
        json.put("speedup_epoch_vs_single", perEpoch.examplesPerSecond() / single.examplesPerSecond());
        json.put("speedup_k16_vs_single", k16.examplesPerSecond() / single.examplesPerSecond());
        json.put("configurations", rows.stream().map(r -> r.json(flopsPerExample)).toList());
        json.put("round_cost_by_parameters", roundCosts);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("bench.json").toFile(), json);

        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "GEMM peak %.1f GFLOP/s on one thread; %.3f MFLOP per example; load average "
                + "%.1f before, %.1f after.%n%n", peak, flopsPerExample / Units.FLOP_PER_MFLOP, loadBefore, load()));
        md.append("| Configuration | s/epoch | examples/s | vs single | GFLOP/s | overhead | per round: broadcast / "
                + "scheduling / compute / combine / update (ms) | s to 0.85 | test acc (").append(epochs)
                .append(" epochs) |\n|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %.2f | %,.0f | %.2f× | %.1f | %s | %s | %s | %s |%n", r.name(),
                    r.secondsPerEpoch(), r.examplesPerSecond(), r.examplesPerSecond() / single.examplesPerSecond(),
                    r.examplesPerSecond() * flopsPerExample / Units.FLOP_PER_GFLOP,
                    Double.isNaN(r.overheadFraction()) ? "—" : String.format(Locale.ROOT, "%.1f%%", 100 * r.overheadFraction()),
                    r.breakdown() == null ? "—" : r.breakdown().text(),
                    Double.isNaN(r.secondsToTarget()) ? "—" : String.format(Locale.ROOT, "%.1f", r.secondsToTarget()),
                    Double.isNaN(r.testAccuracy()) ? "—" : String.format(Locale.ROOT, "%.4f", r.testAccuracy())));
        }
        md.append("\n| Parameters (floats) | rounds travel | round total (ms) | send state | scheduling and transfer "
                + "| replica compute | combine | update | round minus compute |\n|---|---|---|---|---|---|---|---|---|\n");
        for (RoundCost c : roundCosts) {
            md.append(String.format(Locale.ROOT, "| %,d | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |%n",
                    c.parameters(), c.transport(), c.totalMs(), c.broadcastMs(), c.schedulingMs(), c.computeMs(),
                    c.combineMs(), c.updateMs(), c.totalMs() - c.computeMs()));
        }
        md.append(String.format(Locale.ROOT, "%ndptrain local[2] against two independent single-replica processes in "
                + "the same run, minibatches of 128 per replica: once per epoch %.2f×, every 16 minibatches %.2f×; "
                + "with the default global batch (64 per replica) against the pair at 64: %.2f×.%n",
                perEpoch.examplesPerSecond() / twoSolo.examplesPerSecond(),
                k16.examplesPerSecond() / twoSolo.examplesPerSecond(),
                global.examplesPerSecond() / twoSoloHalf.examplesPerSecond()));
        Files.writeString(out.resolve("bench.md"), md);
        System.out.println();
        System.out.print(md);
        System.out.println("Wrote " + out.resolve("bench.json") + " and " + out.resolve("bench.md"));
    }

    /** Mean milliseconds per round of each part of a round. */
    record Breakdown(double broadcastMs, double schedulingMs, double computeMs, double combineMs, double updateMs) {
        static Breakdown of(List<RoundRecord> rounds) {
            double n = Math.max(1, rounds.size());
            return new Breakdown(Units.MILLIS_PER_SECOND * rounds.stream().mapToDouble(RoundRecord::broadcastSeconds).sum() / n,
                    Units.MILLIS_PER_SECOND * rounds.stream().mapToDouble(RoundRecord::schedulingSeconds).sum() / n,
                    Units.MILLIS_PER_SECOND * rounds.stream().mapToDouble(RoundRecord::computeSeconds).sum() / n,
                    Units.MILLIS_PER_SECOND * rounds.stream().mapToDouble(RoundRecord::combineSeconds).sum() / n,
                    Units.MILLIS_PER_SECOND * rounds.stream().mapToDouble(RoundRecord::updateSeconds).sum() / n);
        }

        String text() {
            return String.format(Locale.ROOT, "%.1f / %.1f / %.1f / %.1f / %.1f", broadcastMs, schedulingMs, computeMs,
                    combineMs, updateMs);
        }
    }

    /**
     * One configuration's figures. Overhead is the epoch time minus the slowest replica's compute,
     * as a fraction of the epoch time.
     */
    record Row(String name, double secondsPerEpoch, long examplesPerEpoch, double computeSecondsPerEpoch,
            double testAccuracy, double secondsToTarget, Breakdown breakdown, List<Double> testAccuracyPerEpoch) {
        double examplesPerSecond() {
            return examplesPerEpoch / secondsPerEpoch;
        }

        double overheadFraction() {
            return Double.isNaN(computeSecondsPerEpoch) ? Double.NaN : 1 - computeSecondsPerEpoch / secondsPerEpoch;
        }

        Map<String, Object> json(double flopsPerExample) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("seconds_per_epoch", secondsPerEpoch);
            m.put("examples_per_second", examplesPerSecond());
            m.put("gflops", examplesPerSecond() * flopsPerExample / Units.FLOP_PER_GFLOP);
            m.put("overhead_frac", Double.isNaN(overheadFraction()) ? null : overheadFraction());
            m.put("round_breakdown_ms", breakdown);
            m.put("seconds_to_0_85", Double.isNaN(secondsToTarget) ? null : secondsToTarget);
            m.put("test_accuracy", testAccuracy);
            m.put("test_accuracy_per_epoch", testAccuracyPerEpoch);
            return m;
        }
    }

    /** Two {@link SoloReplica} processes at once, before Spark starts (nothing else runs beside them). */
    static SoloReplica.Pair twoSoloReplicas(Path spec, String trainImages, int epochs, int batch)
            throws IOException {
        try {
            return SoloReplica.twoAtOnce(spec, trainImages, epochs, batch);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while two solo replicas ran", e);
        }
    }

    /** DL4J on one thread, minibatches prebuilt as ND4J arrays (its best case), the same data and batch size. */
    private static Row singleProcess(ModelSpec spec, String trainImages, String testImages, int epochs)
            throws IOException {
        List<INDArray[]> train = arrays(spec, trainImages);
        List<INDArray[]> test = arrays(spec, testImages);
        MultiLayerNetwork net = new MultiLayerNetwork(spec.configuration());
        net.init();
        long examples = 0;
        double[] seconds = new double[epochs];
        List<Double> accuracy = new ArrayList<>();
        double elapsed = 0;
        double toTarget = Double.NaN;
        for (int e = 0; e < epochs; e++) {
            long began = System.nanoTime();
            examples = 0;
            for (INDArray[] batch : train) {
                net.fit(batch[0], batch[1]);
                examples += batch[0].rows();
            }
            seconds[e] = Seconds.since(began);
            elapsed += seconds[e];
            Evaluation evaluation = new Evaluation(spec.outputSize());
            for (INDArray[] batch : test) {
                evaluation.eval(batch[1], net.output(batch[0], false));
            }
            accuracy.add(evaluation.accuracy());
            if (Double.isNaN(toTarget) && evaluation.accuracy() >= TARGET) {
                toTarget = elapsed;
            }
            System.out.printf(Locale.ROOT, "single process, 1 thread: epoch %d/%d - %.2fs - test accuracy %.4f%n", e + 1,
                    epochs, seconds[e], evaluation.accuracy());
        }
        double secondsPerEpoch = EngineSpeed.median(Arrays.copyOfRange(seconds, epochs > 1 ? 1 : 0, epochs));
        return new Row("single-process DL4J, 1 thread", secondsPerEpoch,
                examples, Double.NaN, accuracy.get(accuracy.size() - 1), toTarget, null, accuracy);
    }

    static Row dptrain(JavaSparkContext jsc, String name, ModelSpec spec, String trainImages, String testImages,
            int epochs, AveragingSchedule averaging, Transport roundExchange, BatchScope scope) {
        // With the CLI's block momentum for the frequency, so the every-16 row is the CLI's default run.
        TrainingConfig config = TrainingConfig.builder(spec, DataInput.idx(trainImages)).epochs(epochs)
                .batchSize(BATCH).workers(2).averaging(averaging).validationData(DataInput.idx(testImages))
                .blockMomentum(BlockMomentum.recommended(2, averaging))
                // Per worker for the rows measured since session 1 (the default became global in session 9);
                // the global row is the default run.
                .batchScope(scope).build();
        List<RoundRecord> rounds = new ArrayList<>();
        TrainingResult result = roundExchange.run(jsc, () -> new DistributedTrainer(jsc).train(config,
                new TrainingProgress() {
                    @Override
                    public void roundEnded(RoundRecord r) {
                        rounds.add(r);
                    }

                    @Override
                    public void epochEnded(EpochRecord r) {
                        System.out.println(name + ": " + r.progressLine(epochs));
                    }
                }));
        double[] seconds = new double[epochs];
        double[] compute = new double[epochs];
        for (RoundRecord r : rounds) {
            seconds[r.epoch() - 1] += r.seconds();
            compute[r.epoch() - 1] += r.computeSeconds();
        }
        List<Double> accuracy = new ArrayList<>();
        double elapsed = 0;
        double toTarget = Double.NaN;
        for (EpochRecord e : result.epochs()) {
            elapsed += seconds[e.epoch() - 1];
            accuracy.add(e.valAccuracy());
            if (Double.isNaN(toTarget) && e.valAccuracy() >= TARGET) {
                toTarget = elapsed;
            }
        }
        int from = epochs > 1 ? 1 : 0;
        List<RoundRecord> timed = rounds.stream().filter(r -> r.epoch() > from).toList();
        return new Row(name, EngineSpeed.median(Arrays.copyOfRange(seconds, from, epochs)), result.epochs().get(0).examples(),
                EngineSpeed.median(Arrays.copyOfRange(compute, from, epochs)), accuracy.get(accuracy.size() - 1), toTarget,
                Breakdown.of(timed), accuracy);
    }

    /** The minibatches of {@link EngineSpeed#minibatches} as ND4J arrays, built once (DL4J's best case). */
    private static List<INDArray[]> arrays(ModelSpec spec, String images) throws IOException {
        List<INDArray[]> batches = new ArrayList<>();
        for (Minibatch b : EngineSpeed.minibatches(spec, images)) {
            batches.add(new INDArray[] {b.featuresArray(), b.targetsArray()});
        }
        return batches;
    }

    private static double load() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
