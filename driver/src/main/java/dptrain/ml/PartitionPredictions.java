package dptrain.ml;

import dptrain.data.SequenceLength;
import dptrain.spec.SequenceInput;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One partition's rows with the model's output columns appended, predicted a minibatch at a time
 * by a network built once per partition (in the task, from the broadcast parameters).
 */
final class PartitionPredictions implements Iterator<Row> {
    /** Rows per forward pass. */
    static final int ROWS_PER_BATCH = 256;

    /** The values of the columns appended to a row, from the network's output for it; travels to the tasks. */
    @FunctionalInterface
    interface OutputColumns extends Serializable {
        Object[] of(float[] output);
    }

    private final Iterator<Row> rows;
    private final String configuration;
    private final float[] weights;
    private final int inputs;
    private final int featuresAt;
    private final boolean vector;
    private final String features;
    /** The model's class, for messages. */
    private final String owner;
    private final OutputColumns columns;
    private final Sequences sequences;
    private MultiLayerNetwork net;
    private final List<Row> batch = new ArrayList<>();
    private float[][] outputs;
    private int next;

    PartitionPredictions(Iterator<Row> rows, String configuration, float[] weights, int inputs, int featuresAt,
            boolean vector, String features, String owner, OutputColumns columns, Sequences sequences) {
        this.rows = rows;
        this.configuration = configuration;
        this.weights = weights;
        this.inputs = inputs;
        this.featuresAt = featuresAt;
        this.vector = vector;
        this.features = features;
        this.owner = owner;
        this.columns = columns;
        this.sequences = sequences;
    }

    @Override
    public boolean hasNext() {
        return next < batch.size() || rows.hasNext();
    }

    @Override
    public Row next() {
        if (next == batch.size()) {
            if (!rows.hasNext()) {
                throw new NoSuchElementException();
            }
            predictNextBatch();
        }
        Row row = batch.get(next);
        Object[] appended = columns.of(outputs[next]);
        next++;
        Object[] values = new Object[row.length() + appended.length];
        for (int i = 0; i < row.length(); i++) {
            values[i] = row.get(i);
        }
        System.arraycopy(appended, 0, values, row.length(), appended.length);
        return RowFactory.create(values);
    }

    private void predictNextBatch() {
        batch.clear();
        next = 0;
        while (batch.size() < ROWS_PER_BATCH && rows.hasNext()) {
            batch.add(rows.next());
        }
        float[] x = new float[batch.size() * inputs];
        for (int r = 0; r < batch.size(); r++) {
            copyFeatures(batch.get(r), x, r * inputs);
        }
        if (net == null) {
            net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configuration));
            net.init(Nd4j.createFromArray(weights).reshape(1, weights.length), true);
        }
        INDArray out = net.output(Nd4j.create(x, new long[] {batch.size(), inputs}, 'c'), false);
        outputs = out.toFloatMatrix();
    }

    private void copyFeatures(Row row, float[] x, int offset) {
        if (row.isNullAt(featuresAt)) {
            throw new IllegalArgumentException(owner + " featuresCol: column '" + features + "' is null in a row; "
                    + "expected " + inputs + " features");
        }
        float[] values;
        if (vector) {
            double[] doubles = ((Vector) row.get(featuresAt)).toArray();
            values = new float[doubles.length];
            for (int i = 0; i < doubles.length; i++) {
                values[i] = (float) doubles[i];
            }
        } else {
            List<Object> list = row.getList(featuresAt);
            values = new float[list.size()];
            for (int i = 0; i < values.length; i++) {
                Object value = list.get(i);
                if (value == null) {
                    throw new IllegalArgumentException(owner + " featuresCol: column '" + features + "' holds null "
                            + "at index " + i + "; expected a number");
                }
                values[i] = ((Number) value).floatValue();
            }
        }
        values = sequences.fit(values);
        if (values.length != inputs) {
            throw new IllegalArgumentException(owner + " featuresCol: column '" + features + "' holds "
                    + values.length + " features in a row; expected " + inputs + " to match the model's input_shape"
                    + (sequences.input().isSequence() ? " (padSequences and truncateSequences fit sequences of "
                    + "another length)" : ""));
        }
        System.arraycopy(values, 0, x, offset, inputs);
    }

    /** The model's sequence shape and the rule that fits rows of another length to it, as fit used it. */
    record Sequences(SequenceInput input, SequenceLength rule) implements Serializable {
        /** {@code values} fitted to the timesteps, or unchanged when the rule does not allow it. */
        float[] fit(float[] values) {
            if (!input.isSequence() || values.length % input.stepSize() != 0) {
                return values;
            }
            float[] fitted = rule.fit(values, input.timesteps(), input.stepSize());
            return fitted == null ? values : fitted;
        }
    }

    /** {@code values} widened to doubles, for Spark ML vectors. */
    static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
