package dptrain.inference;

import dptrain.data.Minibatch;
import dptrain.spec.TargetEncoding;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The model's outputs for one minibatch, row by row: the output units' values (class
 * probabilities for a softmax layer) and the predicted class.
 */
public final class RowPredictions {
    private final float[] outputs;
    private final int columns;
    private final int rows;
    private final TargetEncoding encoding;

    private RowPredictions(float[] outputs, int rows, int columns, TargetEncoding encoding) {
        this.outputs = outputs;
        this.rows = rows;
        this.columns = columns;
        this.encoding = encoding;
    }

    /** Runs {@code batch} through {@code net} in inference mode (no dropout). */
    public static RowPredictions of(MultiLayerNetwork net, Minibatch batch, TargetEncoding encoding) {
        INDArray output = net.output(batch.featuresArray(), false).castTo(DataType.FLOAT);
        INDArray rowMajor = output.ordering() == 'c' && !output.isView() ? output : output.dup('c');
        return new RowPredictions(rowMajor.data().asFloat(), batch.rows(), output.columns(), encoding);
    }

    public int rows() {
        return rows;
    }

    /** Output units per row. */
    public int columns() {
        return columns;
    }

    /** The value of output unit {@code column} for row {@code row}. */
    public float output(int row, int column) {
        return outputs[row * columns + column];
    }

    /**
     * The predicted class of row {@code row}: the arg max of the outputs (the first on a tie, as
     * ND4J's argMax), or for a single unit 1 when its value exceeds 0.5 (DL4J Evaluation's rule).
     */
    public int predictedClass(int row) {
        int offset = row * columns;
        if (encoding == TargetEncoding.SCALAR) {
            return outputs[offset] > 0.5f ? 1 : 0;
        }
        int best = 0;
        for (int c = 1; c < columns; c++) {
            if (outputs[offset + c] > outputs[offset + best]) {
                best = c;
            }
        }
        return best;
    }
}
