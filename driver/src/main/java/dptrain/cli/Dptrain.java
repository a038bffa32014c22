package dptrain.cli;

import dptrain.data.DataFormatException;
import dptrain.driver.InputException;
import dptrain.driver.TrainingFailedException;
import dptrain.driver.Versions;
import dptrain.spec.SpecException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code dptrain} command: data-parallel training of DL4J networks on Spark. */
@Command(name = "dptrain", mixinStandardHelpOptions = true, versionProvider = Dptrain.Version.class,
        description = "Trains DL4J neural networks data-parallel on Apache Spark with parameter averaging.",
        subcommands = {TrainCommand.class, CommandLine.HelpCommand.class})
public final class Dptrain implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required, e.g. 'dptrain train --help'");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the command line, printing results to {@code out} and errors to {@code err}. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Dptrain())
                .setOut(out)
                .setErr(err)
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler(Dptrain::handle);
        return cli.execute(args);
    }

    /** Turns a failure into one sentence on stderr and an exit code; stack traces only with --verbose. */
    private static int handle(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        boolean verbose = parsed.subcommand() != null && parsed.subcommand().hasMatchedOption("--verbose");
        Throwable cause = userFacingCause(e);
        int code;
        if (cause instanceof SpecException || cause instanceof DataFormatException || cause instanceof InputException) {
            code = ExitCodes.INPUT;
        } else if (cause instanceof TrainingFailedException) {
            code = ExitCodes.TRAINING;
        } else {
            cause = e;
            code = ExitCodes.INTERNAL;
        }
        String message = cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
        err.println("dptrain: error: " + message);
        if (verbose || code == ExitCodes.INTERNAL) {
            e.printStackTrace(err);
        } else {
            err.println("(run again with --verbose for the stack trace)");
        }
        err.flush();
        return code;
    }

    /**
     * The user-caused failure inside {@code e}, if any. Spark delivers an executor's exception as
     * the cause of a job failure, so the chain is searched.
     */
    static Throwable userFacingCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SpecException || t instanceof DataFormatException || t instanceof InputException
                    || t instanceof TrainingFailedException) {
                return t;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return e;
    }

    /** Prints dptrain's and its main dependencies' versions. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {
                "dptrain " + Versions.DPTRAIN,
                "built with Spark " + Versions.SPARK_BUILT_WITH + " and DL4J " + Versions.DL4J,
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"
            };
        }
    }
}
