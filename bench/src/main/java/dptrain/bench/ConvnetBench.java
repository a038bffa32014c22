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
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.replica.OneDnnHelpers;
import dptrain.replica.ParameterAverage;
import dptrain.replica.ReplicaResult;
import dptrain.replica.ReplicaTrainer;
import dptrain.replica.TrainingState;
import dptrain.sparkstart.SparkDefaults;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import dptrain.timing.Seconds;
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
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The convnet rows of the benchmark (issue 16's target): examples/s of the book's convnet on a slice of
 * Fashion-MNIST, batch 64, trained by single-process DL4J {@code fit} on one thread, by one replica (the replica
 * engine dptrain picks for the spec; with nd4j-native's oneDNN libraries also DL4J {@code fit} with the oneDNN helpers
 * that replicas attach, see {@link OneDnnHelpers}) and by dptrain in local[2] with 2 workers and the default averaging, measured
 * back to back in one JVM; and the ratio of each to PyTorch's figure from issue 16, which this run does not measure.
 * Each configuration trains one untimed warm-up epoch (JIT, caches), then the timed epochs; a row's figure is the
 * median timed epoch. dptrain's epoch counts its averaging rounds, as {@link Benchmark} does. Writes convnet.json
 * and convnet.md.
 *
 * <p>Usage: {@code ConvnetBench SPEC DATA_DIR OUT_DIR [EXAMPLES [TIMED_EPOCHS]]} (default 6,400 examples, 1 timed
 * epoch). Run with {@code OMP_NUM_THREADS=1}.
 */
public final class ConvnetBench {
    static final int BATCH = 64;
    static final int WORKERS = 2;
    /**
     * Issue 16: the book's convnet in PyTorch, single process, one thread, full Fashion-MNIST, batch 64, on this kind
     * of machine, 20 s per epoch. Not measured by this harness.
     */
    static final double PYTORCH_EXAMPLES_PER_SECOND = 3_000;

    private ConvnetBench() {
    }

    /** One configuration's figure. */
    record Row(String name, long examplesPerEpoch, double[] timedSeconds) {
        double secondsPerEpoch() {
            return EngineSpeed.median(timedSeconds);
        }

        double examplesPerSecond() {
            return examplesPerEpoch / secondsPerEpoch();
        }

        double vsPyTorch() {
            return examplesPerSecond() / PYTORCH_EXAMPLES_PER_SECOND;
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3 || args.length > 5) {
            System.err.println("usage: ConvnetBench SPEC DATA_DIR OUT_DIR [EXAMPLES [TIMED_EPOCHS]]");
            System.exit(2);
        }
        ModelSpec spec = ModelFile.readSpec(Path.of(args[0]));
        Path data = Path.of(args[1]);
        Path out = Path.of(args[2]);
        int examples;
        int timedEpochs;
        try {
            examples = args.length >= 4 ? Integer.parseInt(args[3]) : 6_400;
            timedEpochs = args.length == 5 ? Integer.parseInt(args[4]) : 1;
            checkSize(examples, timedEpochs);
        } catch (IllegalArgumentException e) { // NumberFormatException too
            System.err.println("ConvnetBench: " + e.getMessage());
            System.exit(2);
            return;
        }
        Files.createDirectories(out);
        double loadBefore = load();
        String slice = RoundCost.writeSlice(data.resolve("train-images-idx3-ubyte.gz").toString(),
                out.resolve("convnet-slice"), examples).toString();
        int epochs = 1 + timedEpochs;

        List<Minibatch> batches = EngineSpeed.minibatches(spec, slice, BATCH);
        List<INDArray[]> arrays = new ArrayList<>();
        for (Minibatch b : batches) {
            arrays.add(new INDArray[] {b.featuresArray(), b.targetsArray()});
        }
        boolean oneDnn = OneDnnHelpers.available();
        System.out.println("nd4j-native libraries with oneDNN: " + oneDnn);
        // DL4J as it ships (it never uses its oneDNN helpers) and, with the oneDNN libraries, DL4J with the helpers
        // dptrain's replicas attach.
        MultiLayerNetwork net = new MultiLayerNetwork(spec.configuration());
        net.init();
        MultiLayerNetwork helped = new MultiLayerNetwork(spec.configuration());
        helped.init();
        OneDnnHelpers.attach(helped);
        ReplicaTrainer replica = new ReplicaTrainer(spec);
        TrainingState state = TrainingState.of(net);
        double[] fitSeconds = new double[epochs];
        double[] helpedSeconds = new double[epochs];
        double[] replicaSeconds = new double[epochs];
        // Alternating epochs, so that the machine's drift hits all alike.
        for (int e = 0; e < epochs; e++) {
            fitSeconds[e] = fitEpoch(net, arrays);
            helpedSeconds[e] = oneDnn ? fitEpoch(helped, arrays) : Double.NaN;
            long began = System.nanoTime();
            ReplicaResult result = replica.train(state, batches.iterator(), Integer.MAX_VALUE, e);
            replicaSeconds[e] = Seconds.since(began);
            state = ParameterAverage.empty().add(result).toState(state.iteration() + (int) result.stats().steps(), e);
            System.out.printf(Locale.ROOT, "epoch %d/%d%s: DL4J fit %.2fs, with oneDNN helpers %.2fs, one replica (%s "
                    + "engine) %.2fs%n", e + 1, epochs, e == 0 ? " (warm-up)" : "", fitSeconds[e], helpedSeconds[e],
                    replica.engine().specName(), replicaSeconds[e]);
        }
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("single-process DL4J fit, 1 thread", examples, timed(fitSeconds)));
        if (oneDnn) {
            rows.add(new Row("single-process DL4J fit, 1 thread, oneDNN helpers attached", examples,
                    timed(helpedSeconds)));
        }
        rows.add(new Row("one replica (" + replica.engine().specName() + " engine" + (oneDnn ? ", oneDNN" : "")
                + "), 1 thread", examples, timed(replicaSeconds)));
        rows.add(local2(spec, slice, epochs));

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", Instant.now().toString());
        json.put("spec", spec.source());
        json.put("examples", examples);
        json.put("batch_size", BATCH);
        json.put("timed_epochs", timedEpochs);
        json.put("cores", Runtime.getRuntime().availableProcessors());
        json.put("onednn", oneDnn);
        json.put("load_average_before", loadBefore);
        json.put("load_average_after", load());
        json.put("pytorch_eps_from_issue_16", PYTORCH_EXAMPLES_PER_SECOND);
        List<Map<String, Object>> configurations = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", r.name());
            m.put("timed_epoch_seconds", r.timedSeconds());
            m.put("examples_per_second", r.examplesPerSecond());
            m.put("vs_single_process", r.examplesPerSecond() / rows.get(0).examplesPerSecond());
            m.put("vs_pytorch", r.vsPyTorch());
            configurations.add(m);
        }
        json.put("configurations", configurations);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("convnet.json").toFile(),
                json);
        String md = table(rows, examples, timedEpochs, loadBefore, load());
        Files.writeString(out.resolve("convnet.md"), md);
        System.out.println();
        System.out.print(md);
        System.out.println("Wrote " + out.resolve("convnet.json") + " and " + out.resolve("convnet.md"));
    }

    private static double fitEpoch(MultiLayerNetwork net, List<INDArray[]> arrays) {
        long began = System.nanoTime();
        for (INDArray[] b : arrays) {
            net.fit(b[0], b[1]);
        }
        return Seconds.since(began);
    }

    /** Refuses a slice too small for one full minibatch per worker, or no timed epoch. */
    static void checkSize(int examples, int timedEpochs) {
        if (examples < BATCH * WORKERS || examples > 60_000) {
            throw new IllegalArgumentException("EXAMPLES: " + examples + " is not allowed; expected a whole number from "
                    + BATCH * WORKERS + " (a minibatch of " + BATCH + " for each of " + WORKERS + " workers) to 60000");
        }
        if (timedEpochs < 1) {
            throw new IllegalArgumentException("TIMED_EPOCHS: " + timedEpochs + " is not allowed; expected a whole "
                    + "number >= 1");
        }
    }

    /** The Markdown table: examples/s, and the ratios to the single-process row and to PyTorch's figure. */
    static String table(List<Row> rows, int examples, int timedEpochs, double loadBefore, double loadAfter) {
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "The book's convnet, %,d Fashion-MNIST training images, batch %d, one "
                + "warm-up epoch then %d timed (median); load average %.1f before, %.1f after. PyTorch: %,.0f "
                + "examples/s, issue 16's figure (single process, 1 thread, same machine type), not measured in this "
                + "run.%n%n", examples, BATCH, timedEpochs, loadBefore, loadAfter, PYTORCH_EXAMPLES_PER_SECOND));
        md.append("| Configuration | s/epoch | examples/s | vs single-process DL4J | vs PyTorch (issue 16) |\n"
                + "|---|---|---|---|---|\n");
        double single = rows.get(0).examplesPerSecond();
        for (Row r : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %.2f | %,.0f | %.2f× | %.3f× |%n", r.name(),
                    r.secondsPerEpoch(), r.examplesPerSecond(), r.examplesPerSecond() / single, r.vsPyTorch()));
        }
        return md.toString();
    }

    /** dptrain in local[2], 2 workers, the default averaging and block momentum, rounds as dptrain picks. */
    private static Row local2(ModelSpec spec, String slice, int epochs) {
        SparkConf conf = SparkDefaults.apply(new SparkConf().setMaster("local[" + WORKERS + "]")
                .setAppName("dptrain-bench-convnet").set("spark.ui.enabled", "false"));
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            jsc.setLogLevel("WARN");
            TrainingConfig config = TrainingConfig.builder(spec, DataInput.idx(slice)).epochs(epochs).batchSize(BATCH)
                    .workers(WORKERS).batchScope(BatchScope.WORKER).build();
            double[] seconds = new double[epochs];
            TrainingConfig resolved = config.resolve(WORKERS);
            String name = String.format(Locale.ROOT, "dptrain local[2], 2 workers, default averaging (every %s "
                    + "minibatches, block momentum %s)", resolved.averaging(), resolved.blockMomentum().momentum());
            TrainingResult result = new DistributedTrainer(jsc).train(config, new TrainingProgress() {
                @Override
                public void roundEnded(RoundRecord r) {
                    seconds[r.epoch() - 1] += r.seconds();
                }

                @Override
                public void epochEnded(EpochRecord r) {
                    System.out.println(name + (r.epoch() == 1 ? " (warm-up)" : "") + ": " + r.progressLine(epochs));
                }
            });
            return new Row(name, result.epochs().get(0).examples(), timed(seconds));
        }
    }

    private static double[] timed(double[] seconds) {
        return java.util.Arrays.copyOfRange(seconds, 1, seconds.length);
    }

    private static double load() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
