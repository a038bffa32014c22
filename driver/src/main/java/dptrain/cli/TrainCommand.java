package dptrain.cli;

import dptrain.driver.EarlyStopping;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingConfigBuilder;
import dptrain.driver.checkpoint.Checkpointing;
import dptrain.driver.files.ParameterException;
import dptrain.driver.input.DataInput;
import dptrain.driver.output.RunOutputs;
import dptrain.driver.run.TrainingRun;
import dptrain.report.TrainingReport;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dptrain train}: trains a network data-parallel and writes model, history and provenance. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Trains the network described by --model on --train, data-parallel on Spark.")
final class TrainCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec command;

    @Mixin
    TrainingOptions options;

    @Option(names = "--test", paramLabel = "URI", description = "Test data, evaluated once after training.")
    String test;

    @Option(names = "--validation-split", paramLabel = "F",
            description = "Fraction in (0, 1) of the training data held out, after a seeded shuffle, for validation (default: none).")
    Double validationSplit;

    @Option(names = "--validation-data", paramLabel = "URI",
            description = "Separate validation data, evaluated after every epoch like Keras's validation_data "
                    + "(instead of --validation-split); read with the same format flags as --train.")
    String validationData;

    @Option(names = "--stratify", description = "With --validation-split: hold out the same fraction of every class.")
    boolean stratify;

    @Option(names = "--resume", description = "Continue from the newest valid checkpoint in --output/checkpoints "
            + "(fails when there is none). Without it, a rerun into an --output holding checkpoints but no finished "
            + "model continues from them too; --overwrite starts afresh.")
    boolean resume;

    @Option(names = "--checkpoint-every", paramLabel = "ROUNDS", defaultValue = "0",
            description = "Also checkpoint every ROUNDS averaging rounds within an epoch (default: at epoch ends only).")
    int checkpointEvery;

    @Option(names = "--keep-checkpoints", paramLabel = "K", defaultValue = "" + Checkpointing.DEFAULT_KEEP,
            description = "Newest valid checkpoints kept (default: ${DEFAULT-VALUE}).")
    int keepCheckpoints;

    @Option(names = "--early-stopping-patience", paramLabel = "N", defaultValue = "0",
            description = "Stop after N epochs without a lower val_loss (needs --validation-split or --validation-data; "
                    + "default: never).")
    int earlyStoppingPatience;

    @Option(names = "--restore-best", description = "With --early-stopping-patience: end with the weights of the "
            + "epoch with the lowest val_loss, not the last epoch's.")
    boolean restoreBest;

    @Override
    public Integer call() {
        options.requireLabels("train", "it learns from the labels");
        SparkConf conf = options.sparkConf("dptrain train");
        Configuration hadoop = TrainingOptions.hadoopConfiguration(conf);
        ModelFile model = options.modelFile(hadoop);
        ModelSpec spec = model.spec();
        DataInput trainInput = options.trainInput(hadoop);
        if (validationSplit != null && !(validationSplit > 0 && validationSplit < 1)) {
            throw options.usage("--validation-split: " + validationSplit
                    + " is not allowed; expected a fraction in (0, 1), e.g. 0.2");
        }
        if (resume && options.overwrite()) {
            throw options.usage("--resume and --overwrite contradict each other: --resume continues the run in "
                    + "--output, --overwrite starts it afresh; pass one of them");
        }
        Checkpointing.Resume mode = resume ? Checkpointing.Resume.REQUIRED
                : options.overwrite() ? Checkpointing.Resume.FRESH : Checkpointing.Resume.IF_PRESENT;
        TrainingConfigBuilder builder = options.config(model, options.trainInput(hadoop))
                .validationSplit(validationSplit == null ? 0 : validationSplit).stratify(stratify);
        if (test != null) {
            builder.test(options.dataInput(test, "--test", hadoop));
        }
        if (validationData != null) {
            builder.validationData(options.dataInput(validationData, "--validation-data", hadoop));
        }
        TrainingConfig config;
        try {
            config = options.build(builder
                    .checkpointing(Checkpointing.under(options.output(), checkpointEvery, keepCheckpoints, mode))
                    .earlyStopping(new EarlyStopping(earlyStoppingPatience, restoreBest)));
        } catch (ParameterException e) {
            throw options.usage(e.message(ParameterException::flag));
        }
        // A resumed run replaces the finished model it continues.
        options.outputs(hadoop, RunOutputs.MODEL, resume);
        PrintWriter out = command.commandLine().getOut();
        return options.withSpark(conf, spec, command.commandLine().getErr(), jsc -> {
            // Resolved here too, so the console's first line can name the workers and the averaging.
            TrainingConfig resolved = config.resolve(jsc.defaultParallelism());
            TrainingRun.Trained run = new TrainingRun(jsc).train(resolved, new ConsoleProgress(out, resolved));
            run.result().test().ifPresent(test -> out.println(test.line()));
            run.result().test().flatMap(test -> test.binary())
                    .ifPresent(binary -> out.println("Test - binary classifier at " + binary.summary(4)));
            if (run.reportFailure().isEmpty()) {
                out.printf("Wrote %s, %s, %s, %s and %s to %s%n", RunOutputs.MODEL, RunOutputs.HISTORY,
                        RunOutputs.PROVENANCE, TrainingReport.HTML, TrainingReport.PNG, options.output());
            } else {
                RuntimeException e = run.reportFailure().get();
                out.printf("Wrote %s, %s and %s to %s%n", RunOutputs.MODEL, RunOutputs.HISTORY, RunOutputs.PROVENANCE,
                        options.output());
                PrintWriter err = command.commandLine().getErr();
                err.println("dptrain: warning: " + TrainingReport.HTML + " and " + TrainingReport.PNG
                        + " could not be drawn (" + e + "); the model and history are written. Retry with: dptrain "
                        + "report --output " + options.output());
                err.flush();
            }
            out.flush();
            return ExitCodes.OK;
        });
    }
}
