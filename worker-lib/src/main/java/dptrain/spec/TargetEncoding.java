package dptrain.spec;

/**
 * How a label becomes the target array the network's loss expects: an integer class label for classifiers, real
 * values for regression.
 */
public enum TargetEncoding {
    /** The label becomes a one-hot row of {@code outputSize} columns. */
    ONE_HOT,
    /** The label stays a single column holding the class index, for {@code sparse_categorical_crossentropy}. */
    CLASS_INDEX,
    /** The label value is the single target column; the output layer has exactly one unit. */
    SCALAR,
    /**
     * Regression: real-valued targets, one per output unit, taken as they are (a regression loss such as mse, mae,
     * huber or mean_squared_logarithmic_error).
     */
    REAL;

    /** Whether targets are real values (regression) rather than class labels. */
    public boolean isRegression() {
        return this == REAL;
    }

    /** The one rule deciding the encoding, for Keras specs and DL4J configurations alike. */
    static TargetEncoding of(boolean sparseLoss, boolean regressionLoss, int outputSize) {
        if (regressionLoss) {
            return REAL;
        }
        if (sparseLoss) {
            return CLASS_INDEX;
        }
        return outputSize == 1 ? SCALAR : ONE_HOT;
    }
}
