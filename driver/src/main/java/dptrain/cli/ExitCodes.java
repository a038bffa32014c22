package dptrain.cli;

/** dptrain's exit codes; src/docs/ERRORS.md documents them for users. */
public final class ExitCodes {
    public static final int OK = 0;
    /** A bug or an environment failure dptrain did not foresee; the log holds the stack trace. */
    public static final int INTERNAL = 1;
    /** The command line is wrong: unknown flag, missing value, a value of the wrong type or range. */
    public static final int USAGE = 2;
    /** An input is wrong: a missing or unreadable file, a bad spec, a bad record. */
    public static final int INPUT = 3;
    /** Training ran but failed, e.g. it diverged. */
    public static final int TRAINING = 4;
    /**
     * What dptrain runs on failed: the Spark master refused the application or did not answer, the
     * cluster started no executor for it, or Spark stopped during the run.
     */
    public static final int ENVIRONMENT = 5;

    private ExitCodes() {
    }
}
