package dptrain.spec;

/**
 * A model spec that cannot be read or does not describe a network dptrain can build.
 *
 * <p>The message is one sentence naming the input, the key path and what was expected, e.g.
 * {@code mnist-mlp.yaml: layers[1].dense.units: -5 is not allowed; expected a whole number >= 1}.
 */
public final class SpecException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String source;
    private final String keyPath;
    private final String problem;

    /**
     * @param source  names the input, usually the file path
     * @param keyPath where in the spec the problem is, e.g. {@code layers[1].dense.units}; empty for the whole input
     * @param problem what is wrong and what was expected
     */
    public SpecException(String source, String keyPath, String problem) {
        this(source, keyPath, problem, null);
    }

    public SpecException(String source, String keyPath, String problem, Throwable cause) {
        super(compose(source, keyPath, problem), cause);
        this.source = source;
        this.keyPath = keyPath == null ? "" : keyPath;
        this.problem = problem;
    }

    /** The input the spec came from, e.g. its file path. */
    public String source() {
        return source;
    }

    /** Where in the spec the problem is, e.g. {@code layers[1].dense.units}; empty when it concerns the whole input. */
    public String keyPath() {
        return keyPath;
    }

    /** The message without the source and key path. */
    public String problem() {
        return problem;
    }

    private static String compose(String source, String keyPath, String problem) {
        StringBuilder message = new StringBuilder(source);
        if (keyPath != null && !keyPath.isEmpty()) {
            message.append(": ").append(keyPath);
        }
        return message.append(": ").append(problem).toString();
    }
}
