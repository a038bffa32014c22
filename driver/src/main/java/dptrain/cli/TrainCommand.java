package dptrain.cli;

import dptrain.driver.ConfusionMatrix;
import dptrain.driver.DataInput;
import dptrain.driver.DistributedTrainer;
import dptrain.driver.RunOutputs;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingResult;
import dptrain.report.TrainingReport;
import dptrain.spec.ModelSpec;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
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

    @Option(names = "--stratify", description = "With --validation-split: hold out the same fraction of every class.")
    boolean stratify;

    @Override
    public Integer call() {
        SparkConf conf = options.sparkConf("dptrain train");
        Configuration hadoop = TrainingOptions.hadoopConfiguration(conf);
        ModelSpec spec = options.spec(hadoop);
        DataInput trainInput = options.trainInput(hadoop);
        DataInput testInput = test == null ? null : options.dataInput(test, "--test", hadoop);
        if (validationSplit != null && !(validationSplit > 0 && validationSplit < 1)) {
            throw options.usage("--validation-split: " + validationSplit
                    + " is not allowed; expected a fraction in (0, 1), e.g. 0.2");
        }
        if (stratify && validationSplit == null) {
            throw options.usage("--stratify needs --validation-split: there is nothing to stratify without it");
        }
        TrainingConfig config = options.config(spec, trainInput, testInput, validationSplit == null ? 0 : validationSplit,
                stratify);
        RunOutputs outputs = options.outputs(hadoop, RunOutputs.MODEL);
        PrintWriter out = command.commandLine().getOut();
        Instant start = Instant.now();
        try (JavaSparkContext jsc = options.startSpark(conf, spec, command.commandLine().getErr())) {
            config = options.withWorkers(config, jsc);
            TrainingResult result = new DistributedTrainer(jsc).train(config, new ConsoleProgress(out, config));
            if (result.test() != null) {
                out.printf(Locale.ROOT, "Test - loss: %.4f - accuracy: %.4f (%d examples)%n", result.test().meanLoss(),
                        result.test().accuracy(), result.test().examples());
            }
            ConfusionMatrix testConfusion = ConfusionMatrix.ofTestData(jsc, config, result);
            outputs.writeModel(config, result);
            outputs.writeHistory(result, testConfusion);
            outputs.writeProvenance(config, jsc.version(), jsc.master(), start, Instant.now());
            // Drawn from the files just written, exactly as 'dptrain report' draws them again.
            TrainingReport.read(options.output(), hadoop).write(options.output(), hadoop);
            out.printf("Wrote %s, %s, %s, %s and %s to %s%n", RunOutputs.MODEL, RunOutputs.HISTORY,
                    RunOutputs.PROVENANCE, TrainingReport.HTML, TrainingReport.PNG, options.output());
            out.flush();
        }
        return ExitCodes.OK;
    }
}
