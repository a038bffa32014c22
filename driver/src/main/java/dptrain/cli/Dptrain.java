package dptrain.cli;

import dptrain.data.DataFormatException;
import dptrain.driver.TrainingFailedException;
import dptrain.driver.files.EnvironmentException;
import dptrain.driver.files.InputException;
import dptrain.driver.files.ParameterException;
import dptrain.driver.output.Versions;
import dptrain.spec.SpecException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code dptrain} command: data-parallel training of DL4J networks on Spark. */
@Command(name = "dptrain", mixinStandardHelpOptions = true, versionProvider = Dptrain.Version.class,
        description = "Trains DL4J neural networks data-parallel on Apache Spark with parameter averaging.",
        subcommands = {TrainCommand.class, CvCommand.class, EvaluateCommand.class, PredictCommand.class,
                ReportCommand.class, ExportCommand.class, DescribeCommand.class,
                CommandLine.HelpCommand.class})
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

    /** The process's standard output; progress draws a live bar only on it, and only on a terminal. */
    static final PrintWriter STDOUT = new PrintWriter(System.out, true);

    /** Runs the command line and returns its exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        return run(STDOUT, new PrintWriter(System.err, true), args);
    }

    /** Runs the command line, printing results to {@code out} and errors to {@code err}. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Dptrain())
                .setOut(out)
                .setErr(err)
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler(Dptrain::handle)
                .setParameterExceptionHandler(Dptrain::handleUsage);
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
        } else if (cause instanceof EnvironmentException) {
            code = ExitCodes.ENVIRONMENT;
        } else {
            cause = e;
            code = ExitCodes.INTERNAL;
        }
        String message = cause instanceof ParameterException p ? p.message(ParameterException::flag)
                : cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
        err.println("dptrain: error: " + message);
        if (verbose) {
            e.printStackTrace(err);
        } else if (code == ExitCodes.INTERNAL) {
            err.println("dptrain: this looks like a bug in dptrain or a problem with its environment; details: "
                    + writeStackTrace(e));
        }
        err.flush();
        return code;
    }

    /** A wrong command line: the sentence and where to read more, not the whole usage text. */
    private static int handleUsage(CommandLine.ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        PrintWriter err = cli.getErr();
        err.println("dptrain: error: " + e.getMessage());
        err.println("Try '" + cli.getCommandSpec().qualifiedName() + " --help' for the flags.");
        err.flush();
        return ExitCodes.USAGE;
    }

    /** Keeps the terminal to one sentence: the stack trace goes to a log file, whose path is returned. */
    private static String writeStackTrace(Exception e) {
        try {
            Path log = Files.createTempFile("dptrain-error-", ".log");
            try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(log))) {
                e.printStackTrace(out);
            }
            return log.toString();
        } catch (IOException | RuntimeException failed) {
            return "(could not write a log file: " + failed.getMessage() + "; run again with --verbose)";
        }
    }

    /**
     * The failure inside {@code e} that dptrain explains in a sentence of its own (a user-caused one,
     * a training failure, an environment failure), if any; the outermost wins. Spark delivers an
     * executor's exception as the cause of a job failure, so the chain is searched.
     */
    static Throwable userFacingCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SpecException || t instanceof DataFormatException || t instanceof InputException
                    || t instanceof TrainingFailedException || t instanceof EnvironmentException) {
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
