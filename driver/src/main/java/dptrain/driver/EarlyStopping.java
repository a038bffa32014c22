package dptrain.driver;

import dptrain.driver.files.ParameterException;

/**
 * Keras's EarlyStopping on val_loss: stop after {@code patience} epochs without a lower val_loss
 * (0: never), and with {@code restoreBest} end with the best epoch's state rather than the last.
 */
public record EarlyStopping(int patience, boolean restoreBest) {
    public static final EarlyStopping NONE = new EarlyStopping(0, false);

    public EarlyStopping {
        if (patience < 0) {
            throw ParameterException.notAllowed("early_stopping_patience", patience,
                    "a whole number of epochs >= 1");
        }
        if (restoreBest && patience == 0) {
            throw new ParameterException("restore_best", "{restore_best} needs {early_stopping_patience}: "
                    + "without early stopping there is no best epoch to restore");
        }
    }

    public boolean enabled() {
        return patience > 0;
    }
}
