package dptrain.spec;

/** How an integer class label becomes the target array the network's loss expects. */
public enum TargetEncoding {
    /** The label becomes a one-hot row of {@code outputSize} columns. */
    ONE_HOT,
    /** The label stays a single column holding the class index, for {@code sparse_categorical_crossentropy}. */
    CLASS_INDEX,
    /** The label value is the single target column; the output layer has exactly one unit. */
    SCALAR;

    /** The one rule deciding the encoding, for Keras specs and DL4J configurations alike. */
    static TargetEncoding of(boolean sparseLoss, int outputSize) {
        if (sparseLoss) {
            return CLASS_INDEX;
        }
        return outputSize == 1 ? SCALAR : ONE_HOT;
    }
}
