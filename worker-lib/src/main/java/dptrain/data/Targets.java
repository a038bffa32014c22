package dptrain.data;

import dptrain.spec.ModelSpec;
import java.io.Serializable;

/**
 * What the label fields of a record hold for the model being fed: one whole-number class label (classifiers), or
 * {@code count} real numbers, one per output unit (regression). Decoders parse the fields by it, so a regression
 * target such as {@code 24.059} is read as a number and a classifier's label still has to be a class.
 *
 * @param real  whether the fields are real-valued regression targets
 * @param count the number of label fields: 1 for a class label, the model's output units for regression
 */
public record Targets(boolean real, int count) implements Serializable {

    /** One whole-number class label per record. */
    public static final Targets CLASS_LABEL = new Targets(false, 1);

    public Targets {
        if (count < 1 || (!real && count != 1)) {
            throw new IllegalArgumentException("a record holds one class label or at least one real target, not "
                    + count + (real ? " real targets" : " class labels"));
        }
    }

    /** {@code count} real-valued targets per record. */
    public static Targets real(int count) {
        return new Targets(true, count);
    }

    /** What the records must hold to train or evaluate {@code spec}. */
    public static Targets of(ModelSpec spec) {
        return spec.isRegression() ? real(spec.outputSize()) : CLASS_LABEL;
    }

    /** "a label", "a target" or "3 targets", for messages. */
    String describe() {
        if (!real) {
            return "a label";
        }
        return count == 1 ? "a target" : count + " targets";
    }
}
