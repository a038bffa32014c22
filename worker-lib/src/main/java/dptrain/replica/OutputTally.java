package dptrain.replica;

import dptrain.data.Minibatch;
import dptrain.spec.TargetEncoding;

/**
 * What a model's outputs score against a minibatch's targets, summed over rows so tallies add up across minibatches
 * and replicas: correct predictions for a classifier; for a regression model each row's absolute and squared errors,
 * averaged over the output units as Keras's {@code mae} and {@code mse} average over the last axis.
 *
 * @param correct        rows whose predicted class is the label (classifiers)
 * @param absoluteErrors the sum over rows of the mean absolute error of the row's outputs (regression)
 * @param squaredErrors  the sum over rows of the mean squared error of the row's outputs (regression)
 */
public record OutputTally(long correct, double absoluteErrors, double squaredErrors) {

    public static final OutputTally NONE = new OutputTally(0, 0.0, 0.0);

    public OutputTally plus(OutputTally other) {
        return new OutputTally(correct + other.correct, absoluteErrors + other.absoluteErrors,
                squaredErrors + other.squaredErrors);
    }

    /**
     * Scores {@code output} (the model's activations, row-major with {@code columns} per row) against
     * {@code batch}: the arg max or, for a single unit, a 0.5 threshold against the label; or the errors against
     * the regression targets.
     */
    public static OutputTally of(float[] output, int columns, Minibatch batch, TargetEncoding encoding) {
        if (encoding.isRegression()) {
            double absolute = 0;
            double squared = 0;
            for (int r = 0; r < batch.rows(); r++) {
                double rowAbsolute = 0;
                double rowSquared = 0;
                for (int c = 0; c < columns; c++) {
                    double error = (double) output[r * columns + c] - batch.target(r, c);
                    rowAbsolute += Math.abs(error);
                    rowSquared += error * error;
                }
                absolute += rowAbsolute / columns;
                squared += rowSquared / columns;
            }
            return new OutputTally(0, absolute, squared);
        }
        long correct = 0;
        for (int r = 0; r < batch.rows(); r++) {
            if (ReplicaTrainer.predictedClass(output, r * columns, columns, encoding) == batch.label(r)) {
                correct++;
            }
        }
        return new OutputTally(correct, 0.0, 0.0);
    }

    /**
     * Whether scoring needs the output layer's activations rather than its pre-activations: a single thresholded
     * unit and regression do; softmax and friends keep each row's arg max.
     */
    static boolean needsActivation(TargetEncoding encoding) {
        return encoding == TargetEncoding.SCALAR || encoding.isRegression();
    }
}
