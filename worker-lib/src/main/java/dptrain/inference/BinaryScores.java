package dptrain.inference;

import dptrain.data.Minibatch;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A binary classifier's score for each row with the row's label: the model's output for class 1
 * (a single sigmoid unit's value, or the second of two output units). Ranked, the scores give the
 * ROC and precision-recall curves; cut at a threshold, DL4J's {@link Evaluation} counts them.
 */
public final class BinaryScores {
    /** Rows given to one {@link Evaluation#eval} call: bounds the arrays built per call. */
    private static final int ROWS_PER_EVAL = 4096;

    private BinaryScores() {
    }

    /**
     * One row: the output for class 1, as the network computed it (float), and the true class, 0 or 1.
     */
    public record Scored(float score, int label) implements Serializable {
    }

    /**
     * The output column that holds class 1's score: the only unit of a single-unit model, the second
     * of a two-unit one.
     *
     * @throws IllegalArgumentException for any other output size: such a model is not binary
     */
    public static int scoreColumn(int outputSize) {
        if (outputSize == 1 || outputSize == 2) {
            return outputSize - 1;
        }
        throw new IllegalArgumentException("a binary classifier has one or two output units, not " + outputSize);
    }

    /**
     * Scores every row of {@code batches} with {@code model} in inference mode, lazily, one minibatch
     * at a time: rows come out in the order they went in.
     */
    public static Iterator<Scored> of(InferenceModel model, Iterator<Minibatch> batches) {
        int column = scoreColumn(model.outputSize());
        MultiLayerNetwork net = model.network();
        return new Iterator<>() {
            private Minibatch batch;
            private RowPredictions outputs;
            private int row;

            @Override
            public boolean hasNext() {
                while ((outputs == null || row == outputs.rows()) && batches.hasNext()) {
                    batch = batches.next();
                    outputs = RowPredictions.of(net, batch, model.encoding());
                    row = 0;
                }
                return outputs != null && row < outputs.rows();
            }

            @Override
            public Scored next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Scored scored = new Scored(outputs.output(row, column), batch.label(row));
                row++;
                return scored;
            }
        };
    }

    /**
     * DL4J's evaluation of {@code rows} cut at {@code threshold}: a row is predicted as class 1 when
     * its score is above the threshold (DL4J's binary decision rule), compared in float as the
     * network computes scores, so a score of 0.8f is not above a threshold of 0.8. Precision, recall
     * and F1 of class 1 are the positive class's; parts over different rows {@link Evaluation#merge merge}.
     */
    public static Evaluation evaluation(Iterator<Scored> rows, double threshold) {
        Evaluation evaluation = new Evaluation(List.of("0", "1"), 1);
        evaluation.setBinaryDecisionThreshold(threshold);
        float[] scores = new float[ROWS_PER_EVAL];
        float[] labels = new float[ROWS_PER_EVAL];
        int n = 0;
        while (rows.hasNext()) {
            Scored row = rows.next();
            scores[n] = row.score();
            labels[n] = row.label();
            n++;
            if (n == ROWS_PER_EVAL || !rows.hasNext()) {
                // Float arrays, as the network's outputs are: the cut compares as evaluate's does.
                evaluation.eval(Nd4j.create(Arrays.copyOf(labels, n), new long[] {n, 1}, 'c'),
                        Nd4j.create(Arrays.copyOf(scores, n), new long[] {n, 1}, 'c'));
                n = 0;
            }
        }
        return evaluation;
    }

    /** An evaluation of no rows at {@code threshold}: the identity of merging. */
    public static Evaluation emptyEvaluation(double threshold) {
        return evaluation(Collections.emptyIterator(), threshold);
    }
}
