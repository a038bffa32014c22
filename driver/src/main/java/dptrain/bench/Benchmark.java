package dptrain.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dptrain.data.Example;
import dptrain.data.IdxHeader;
import dptrain.data.IdxReader;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.driver.DataInput;
import dptrain.driver.DistributedTrainer;
import dptrain.driver.EpochRecord;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingProgress;
import dptrain.driver.TrainingResult;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
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
 * Measures, in one run on the same data and machine: single-process DL4J on one thread (the
 * baseline), dptrain in local[2] averaging once per epoch, and dptrain in local[2] averaging every
 * 16 minibatches. Prints a Markdown table and writes bench.json and bench.md.
 *
 * <p>Usage: {@code Benchmark SPEC DATA_DIR OUT_DIR EPOCHS}. Seconds per epoch are the median of
 * epochs 2..N, so JIT warm-up and cache building stay out of the figures.
 */
public final class Benchmark {
    private static final int BATCH = 128;

    private Benchmark() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: Benchmark SPEC DATA_DIR OUT_DIR EPOCHS");
            System.exit(2);
        }
        ModelSpec spec = ModelSpec.read(Path.of(args[0]));
        Path data = Path.of(args[1]);
        Path out = Path.of(args[2]);
        int epochs = Integer.parseInt(args[3]);
        Files.createDirectories(out);
        String trainImages = data.resolve("train-images-idx3-ubyte.gz").toString();
        String testImages = data.resolve("t10k-images-idx3-ubyte.gz").toString();

        List<Row> rows = new ArrayList<>();
        rows.add(singleProcess(spec, trainImages, testImages, epochs));
        try (JavaSparkContext jsc = localSpark(2)) {
            rows.add(dptrain(jsc, "dptrain local[2], averaging once per epoch", spec, trainImages, testImages, epochs,
                    TrainingConfig.EVERY_EPOCH));
            rows.add(dptrain(jsc, "dptrain local[2], averaging every 16 minibatches", spec, trainImages, testImages, epochs,
                    16));
        }

        Row single = rows.get(0);
        Row perEpoch = rows.get(1);
        Row k16 = rows.get(2);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", Instant.now().toString());
        json.put("epochs", epochs);
        json.put("batch_size", BATCH);
        json.put("cores", Runtime.getRuntime().availableProcessors());
        json.put("java", System.getProperty("java.version"));
        json.put("single_1t_eps", single.examplesPerSecond());
        json.put("single_1t_seconds_per_epoch", single.secondsPerEpoch);
        json.put("single_1t_test_accuracy", single.testAccuracy);
        json.put("dptrain_local2_epoch_eps", perEpoch.examplesPerSecond());
        json.put("dptrain_local2_epoch_seconds_per_epoch", perEpoch.secondsPerEpoch);
        json.put("dptrain_local2_epoch_test_accuracy", perEpoch.testAccuracy);
        json.put("dptrain_local2_k16_eps", k16.examplesPerSecond());
        json.put("dptrain_local2_k16_seconds_per_epoch", k16.secondsPerEpoch);
        json.put("dptrain_local2_k16_test_accuracy", k16.testAccuracy);
        json.put("overhead_epoch_frac", perEpoch.overheadFraction());
        json.put("overhead_k16_frac", k16.overheadFraction());
        json.put("speedup_epoch_vs_single", perEpoch.examplesPerSecond() / single.examplesPerSecond());
        json.put("speedup_k16_vs_single", k16.examplesPerSecond() / single.examplesPerSecond());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("bench.json").toFile(), json);

        StringBuilder md = new StringBuilder();
        md.append("| Configuration | s/epoch | examples/s | vs single | overhead | test acc (").append(epochs)
                .append(" epochs) |\n|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %.2f | %,.0f | %.2f× | %s | %.4f |%n", r.name, r.secondsPerEpoch,
                    r.examplesPerSecond(), r.examplesPerSecond() / single.examplesPerSecond(),
                    Double.isNaN(r.overheadFraction()) ? "—" : String.format(Locale.ROOT, "%.1f%%", 100 * r.overheadFraction()),
                    r.testAccuracy));
        }
        Files.writeString(out.resolve("bench.md"), md);
        System.out.println();
        System.out.print(md);
        System.out.println("Wrote " + out.resolve("bench.json") + " and " + out.resolve("bench.md"));
    }

    /** One configuration's figures. overhead = epoch time minus the slowest replica's compute, per epoch time. */
    private record Row(String name, double secondsPerEpoch, long examplesPerEpoch, double computeSecondsPerEpoch,
            double testAccuracy) {
        double examplesPerSecond() {
            return examplesPerEpoch / secondsPerEpoch;
        }

        double overheadFraction() {
            return Double.isNaN(computeSecondsPerEpoch) ? Double.NaN : 1 - computeSecondsPerEpoch / secondsPerEpoch;
        }
    }

    /** DL4J on one thread, minibatches prebuilt as ND4J arrays (its best case), the same data and batch size. */
    private static Row singleProcess(ModelSpec spec, String trainImages, String testImages, int epochs) throws IOException {
        MinibatchBuilder builder = new MinibatchBuilder(BATCH, spec.inputSize(), spec.outputSize(), spec.targetEncoding(),
                DataInput.IDX_DEFAULT_SCALE);
        List<INDArray[]> train = arrays(builder, trainImages);
        MultiLayerNetwork net = new MultiLayerNetwork(spec.configuration());
        net.init();
        long examples = 0;
        double[] seconds = new double[epochs];
        for (int e = 0; e < epochs; e++) {
            long began = System.nanoTime();
            examples = 0;
            for (INDArray[] batch : train) {
                net.fit(batch[0], batch[1]);
                examples += batch[0].rows();
            }
            seconds[e] = (System.nanoTime() - began) / 1e9;
            System.out.printf(Locale.ROOT, "single process, 1 thread: epoch %d/%d - %.2fs%n", e + 1, epochs, seconds[e]);
        }
        Evaluation evaluation = new Evaluation(spec.outputSize());
        for (INDArray[] batch : arrays(builder, testImages)) {
            evaluation.eval(batch[1], net.output(batch[0], false));
        }
        return new Row("single-process DL4J, 1 thread", median(seconds), examples, Double.NaN, evaluation.accuracy());
    }

    private static Row dptrain(JavaSparkContext jsc, String name, ModelSpec spec, String trainImages, String testImages,
            int epochs, int averaging) {
        TrainingConfig config = new TrainingConfig(spec, DataInput.idx(trainImages), DataInput.idx(testImages), epochs,
                BATCH, 2, averaging, 0.0, spec.seed(), "unused");
        TrainingResult result = new DistributedTrainer(jsc).train(config, new TrainingProgress() {
            @Override
            public void epochEnded(EpochRecord r) {
                System.out.println(name + ": " + r.progressLine(epochs));
            }
        });
        List<EpochRecord> timed = result.epochs().size() > 1 ? result.epochs().subList(1, result.epochs().size())
                : result.epochs();
        double seconds = median(timed.stream().mapToDouble(EpochRecord::seconds).toArray());
        double compute = median(timed.stream().mapToDouble(EpochRecord::replicaComputeSeconds).toArray());
        return new Row(name, seconds, result.epochs().get(0).examples(), compute, result.test().accuracy());
    }

    private static List<INDArray[]> arrays(MinibatchBuilder builder, String images) throws IOException {
        String labels = images.replace("images-idx3", "labels-idx1");
        long count;
        try (InputStream header = IdxReader.maybeGunzip(Files.newInputStream(Path.of(images)))) {
            count = IdxHeader.read(header, images).count();
        }
        List<INDArray[]> batches = new ArrayList<>();
        try (InputStream i = IdxReader.maybeGunzip(Files.newInputStream(Path.of(images)));
                InputStream l = IdxReader.maybeGunzip(Files.newInputStream(Path.of(labels)))) {
            Iterator<Example> examples = IdxReader.read(i, images, l, labels, 0, count);
            for (Iterator<Minibatch> it = builder.batches(examples); it.hasNext(); ) {
                Minibatch b = it.next();
                batches.add(new INDArray[] {b.featuresArray(), b.targetsArray()});
            }
        }
        return batches;
    }

    private static JavaSparkContext localSpark(int threads) {
        SparkConf conf = new SparkConf().setMaster("local[" + threads + "]").setAppName("dptrain-bench")
                .set("spark.ui.enabled", "false");
        JavaSparkContext jsc = new JavaSparkContext(conf);
        jsc.setLogLevel("WARN");
        return jsc;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
