package dptrain.driver.files;

/**
 * A failure of what dptrain runs on, not of what the user gave it: a Spark master that refuses the
 * application or does not answer, a cluster that starts no executor for it, or a SparkContext that
 * Spark stopped while a command was using it. The message is a whole sentence naming what failed
 * (the master URL, the input being read) and the likely cause.
 */
public class EnvironmentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EnvironmentException(String message) {
        super(message);
    }

    public EnvironmentException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * Spark's application ended while {@code what} was under way: whatever failed then (a closed
     * block manager, a null SparkEnv, a cancelled job) says nothing about the input.
     *
     * @param what what was under way, e.g. "--train file:/data/x.csv was read"
     */
    public static EnvironmentException sparkStopped(String what, Throwable cause) {
        return new EnvironmentException("Spark stopped while " + what + ": its application ended (the connection to "
                + "the cluster was lost, the application was killed, or the JVM is shutting down); Spark's log says "
                + "why", cause);
    }
}
