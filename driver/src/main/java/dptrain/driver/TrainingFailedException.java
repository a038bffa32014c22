package dptrain.driver;

/** Training ran but cannot go on, e.g. the loss became NaN. The message says why and what to try. */
public final class TrainingFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TrainingFailedException(String message) {
        super(message);
    }
}
