package dptrain.driver.inference;

import dptrain.data.ExampleCheck;
import dptrain.data.Minibatch;
import dptrain.driver.pipeline.BatchedData;
import dptrain.replica.ReplicaTrainer;
import dptrain.replica.TrainingState;
import dptrain.spec.ModelSpec;
import dptrain.spec.TargetEncoding;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
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
     * Classes the model tells apart, or 0 for a regression, which has no classes: the same rule as
     * {@link ExampleCheck}'s label check.
     */
    public static int classes(ModelSpec spec) {
        if (spec.isRegression()) {
            return 0;
        }
        return spec.targetEncoding() == TargetEncoding.SCALAR ? 2 : spec.outputSize();
    }

    /** The confusion matrix of {@code state}'s predictions on {@code data}, one small Spark job. */
    public static ConfusionMatrix of(JavaSparkContext jsc, BatchedData data, ModelSpec spec, TrainingState state) {
        int classes = classes(spec);
        if (classes == 0) {
            throw new IllegalArgumentException(spec + " is a regression; it has no classes to confuse");
        }
        try (ModelOnPartitions<SpecAndState> model = ModelOnPartitions.broadcast(jsc, new SpecAndState(spec, state))) {
            long[][] counts = model.combine(data.batches(), (m, batches) -> count(m.spec(), m.state(), batches,
                    classes), new long[classes][classes], ConfusionMatrix::add);
            List<String> labels = new ArrayList<>();
            for (int c = 0; c < classes; c++) {
                labels.add(Integer.toString(c));
            }
            return new ConfusionMatrix(labels, counts);
        }
    }

    /** A network's description and its weights, broadcast together. */
    private record SpecAndState(ModelSpec spec, TrainingState state) implements java.io.Serializable {
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
