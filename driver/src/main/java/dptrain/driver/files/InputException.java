package dptrain.driver.files;

/**
 * A problem with something the user gave us (a path, a flag's value, a file's contents) that the
 * driver found. The message is a whole sentence naming the input and what was expected.
 */
public class InputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InputException(String message) {
        super(message);
    }

    public InputException(String message, Throwable cause) {
        super(message, cause);
    }
}
