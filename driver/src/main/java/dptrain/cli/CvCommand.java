package dptrain.cli;

import dptrain.driver.TrainingConfig;
import dptrain.driver.output.RunOutputs;
import dptrain.driver.run.TrainingRun;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dptrain cv}: K-fold cross-validation, each fold trained data-parallel. */
@Command(name = "cv", mixinStandardHelpOptions = true, sortOptions = false,
        description = "K-fold cross-validation of --model on --train: each fold trains on the other folds "
                + "(normalization refitted on them) and is evaluated on the held-out fold. Writes cv.json.")
final class CvCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec command;

    @Mixin
    TrainingOptions options;

    @Option(names = "--folds", paramLabel = "K", defaultValue = "5",
            description = "Number of folds, at least 2 (default: ${DEFAULT-VALUE}).")
    int folds;

    @Override
    public Integer call() {
        if (folds < 2) {
            throw options.usage("--folds: " + folds + " is not allowed; expected a whole number >= 2");
        }
        options.requireLabels("cv", "it trains and scores every fold on the labels");
        SparkConf conf = options.sparkConf("dptrain cv");
        Configuration hadoop = TrainingOptions.hadoopConfiguration(conf);
        ModelFile model = options.modelFile(hadoop);
        ModelSpec spec = model.spec();
        TrainingConfig config = options.build(options.config(model, options.trainInput(hadoop)));
        options.outputs(hadoop, RunOutputs.CROSS_VALIDATION);
        PrintWriter out = command.commandLine().getOut();
        return options.withSpark(conf, spec, command.commandLine().getErr(), jsc -> {
            TrainingConfig resolved = config.resolve(jsc.defaultParallelism());
            TrainingRun.CrossValidated run = new TrainingRun(jsc).crossValidate(resolved, folds,
                    new ConsoleProgress(out, resolved));
            out.println(run.summary().line());
            out.printf("Wrote %s and %s to %s%n", RunOutputs.CROSS_VALIDATION, RunOutputs.PROVENANCE, options.output());
            out.flush();
            return ExitCodes.OK;
        });
    }
}
