package dptrain.driver.inference;

import dptrain.data.ExampleCheck;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingResult;
import dptrain.driver.input.DataInput;
import dptrain.driver.input.ExampleSource;
import dptrain.driver.input.IndexedExamples;
import dptrain.driver.pipeline.BatchedData;
import dptrain.driver.pipeline.CacheMode;
import dptrain.driver.pipeline.DataPipeline;
import dptrain.replica.ReplicaTrainer;
import dptrain.replica.TrainingState;
import dptrain.spec.ModelSpec;
import dptrain.spec.TargetEncoding;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-class counts of a model's predictions: {@code counts()[t][p]} examples of true class
 * {@code t} were predicted as class {@code p}. Computed where the data lives: the state is
 * broadcast once, each partition counts its own examples and the driver adds the partitions'
 * matrices. Predictions follow the rule accuracy counts with ({@link ReplicaTrainer#predictedClass}),
 * so the diagonal over the total equals the accuracy of the same data.
 */
public record ConfusionMatrix(List<String> labels, long[][] counts) {

    public ConfusionMatrix {
        labels = List.copyOf(labels);
        for (long[] row : counts) {
            if (row.length != labels.size()) {
                throw new IllegalArgumentException("a confusion matrix of " + labels.size() + " classes needs "
                        + labels.size() + " columns per row, got " + row.length);
            }
        }
        if (counts.length != labels.size()) {
            throw new IllegalArgumentException("a confusion matrix of " + labels.size() + " classes needs "
                    + labels.size() + " rows, got " + counts.length);
        }
    }

    /** Examples counted. */
    public long total() {
        return Arrays.stream(counts).flatMapToLong(Arrays::stream).sum();
    }

    /** Examples predicted as their true class. */
    public long correct() {
        long correct = 0;
        for (int c = 0; c < counts.length; c++) {
            correct += counts[c][c];
        }
        return correct;
    }

    /**
     * Classes the model tells apart, or 0 for a single-unit regression ({@code mse}), which has no
     * classes: the same rule as {@link ExampleCheck}'s label check.
     */
    public static int classes(ModelSpec spec) {
        if (spec.targetEncoding() == TargetEncoding.SCALAR) {
            return "mse".equals(spec.lossName()) ? 0 : 2;
        }
        return spec.outputSize();
    }

    /**
     * The confusion matrix of {@code result}'s final model on {@code config}'s test data, or null
     * without test data or classes. The test data is read and batched again (normalized with the
     * training data's fit), as the trainer released its batches when training ended.
     */
    public static ConfusionMatrix ofTestData(JavaSparkContext jsc, TrainingConfig config, TrainingResult result) {
        ModelSpec spec = config.spec();
        if (config.test().isEmpty() || classes(spec) == 0) {
            return null;
        }
        DataInput testData = config.test().get();
        jsc.setJobDescription("dptrain test confusion matrix");
        try {
            IndexedExamples examples = ExampleSource.read(jsc, testData, "--test",
                    new ExampleCheck(spec), spec.inputSize(), config.workers());
            MinibatchBuilder builder = new MinibatchBuilder(config.batchSize(), spec.inputSize(), spec.outputSize(),
                    spec.targetEncoding(), testData.scale());
            BatchedData test = new DataPipeline(builder, config.workers(), config.seed(), CacheMode.NONE)
                    .evaluationBatches(examples, result.normalizer());
            try {
                return of(jsc, test, spec, result.finalState());
            } finally {
                test.release();
            }
        } finally {
            jsc.setJobDescription(null);
        }
    }

    /** The confusion matrix of {@code state}'s predictions on {@code data}, one small Spark job. */
    public static ConfusionMatrix of(JavaSparkContext jsc, BatchedData data, ModelSpec spec, TrainingState state) {
        int classes = classes(spec);
        if (classes == 0) {
            throw new IllegalArgumentException(spec + " is a regression; it has no classes to confuse");
        }
        Broadcast<ModelSpec> specBroadcast = jsc.broadcast(spec);
        Broadcast<TrainingState> snapshot = jsc.broadcast(state);
        try {
            long[][] counts = data.batches().mapPartitions(batches -> {
                List<long[][]> one = new ArrayList<>();
                one.add(count(specBroadcast.value(), snapshot.value(), batches, classes));
                return one.iterator();
            }, true).reduce(ConfusionMatrix::add);
            List<String> labels = new ArrayList<>();
            for (int c = 0; c < classes; c++) {
                labels.add(Integer.toString(c));
            }
            return new ConfusionMatrix(labels, counts);
        } finally {
            specBroadcast.destroy();
            snapshot.destroy();
        }
    }

    /** One partition's counts, with a network built for the partition (a one-off job, no replica pool). */
    private static long[][] count(ModelSpec spec, TrainingState state, java.util.Iterator<Minibatch> batches,
            int classes) {
        MultiLayerNetwork net = new MultiLayerNetwork(spec.configuration());
        net.init();
        state.loadInto(net);
        long[][] counts = new long[classes][classes];
        while (batches.hasNext()) {
            Minibatch batch = batches.next();
            INDArray output = net.output(batch.featuresArray(), false);
            int columns = output.columns();
            float[] values = output.dup('c').data().asFloat();
            for (int r = 0; r < batch.rows(); r++) {
                int predicted = ReplicaTrainer.predictedClass(values, r * columns, columns, spec.targetEncoding());
                counts[batch.label(r)][predicted]++;
            }
        }
        return counts;
    }

    private static long[][] add(long[][] a, long[][] b) {
        long[][] sum = new long[a.length][];
        for (int t = 0; t < a.length; t++) {
            sum[t] = new long[a[t].length];
            for (int p = 0; p < a[t].length; p++) {
                sum[t][p] = a[t][p] + b[t][p];
            }
        }
        return sum;
    }
}
