package dptrain.cli;

import dptrain.driver.files.AtomicFiles;
import dptrain.driver.files.InputException;
import dptrain.driver.files.InputFiles;
import dptrain.driver.files.ParameterException;
import dptrain.driver.inference.BinaryMetrics;
import dptrain.driver.inference.DistributedInference;
import dptrain.driver.inference.SavedModel;
import dptrain.driver.input.DataInput;
import dptrain.driver.output.EvaluationReport;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dptrain evaluate}: metrics of a trained model on labelled data, computed where the data lives. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluates the trained --model on the labelled --data, data-parallel on Spark. A classifier: "
                + "loss, accuracy, top-k accuracy, per-class precision/recall/F1 and the confusion matrix; for a "
                + "binary classifier also precision, recall and F1 of class 1 at --threshold, ROC AUC and PR AUC. A "
                + "regression: loss, MAE, MSE, RMSE, R² and a residual summary. Prints a table and writes "
                + "evaluation.json.")
final class EvaluateCommand implements Callable<Integer> {
    /** The k of top-k accuracy when --top-k is not given (fewer when the model has fewer classes). */
    static final int DEFAULT_TOP_K = 5;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec command;

    @Mixin
    SavedModelOptions options;

    @Option(names = "--top-k", paramLabel = "K",
            description = "Count a row as correct in top-k accuracy when its class is among the model's K most probable "
                    + "(default: " + DEFAULT_TOP_K + ", or the number of classes when the model has fewer).")
    Integer topK;

    @Option(names = "--threshold", paramLabel = "T",
            description = "Binary classifiers only: predict class 1 when its score (the probability of class 1) is "
                    + "above T, a number in [0, 1] (default: " + BinaryMetrics.DEFAULT_THRESHOLD + ").")
    Double threshold;

    @Option(names = "--output", paramLabel = "DIR",
            description = "Folder for evaluation.json, on any Hadoop filesystem (default: the folder holding --model).")
    String output;

    @Option(names = "--overwrite", description = "Replace an evaluation.json that --output already holds.")
    boolean overwrite;

    @Override
    public Integer call() {
        if (topK != null && topK < 1) {
            throw options.usage("--top-k: " + topK + " is not allowed; expected a whole number >= 1");
        }
        OptionalDouble givenThreshold = threshold == null ? OptionalDouble.empty() : OptionalDouble.of(threshold);
        givenThreshold.ifPresent(t -> usageOf(() -> BinaryMetrics.checkThreshold(t)));
        options.requireLabels("evaluate", "it compares the predictions with the labels");
        SparkConf conf = options.sparkConf("dptrain evaluate");
        Configuration hadoop = SparkOptions.hadoopConfiguration(conf);
        SavedModel model = options.savedModel(hadoop);
        if (topK != null && model.spec().isRegression()) {
            throw options.usage("--top-k: " + model.uri() + " is a regression model (loss "
                    + model.spec().lossName() + "), which has no classes to rank; expected no --top-k");
        }
        // Top-k ranks the output units; a single thresholded unit ranks nothing, so its k is 1.
        int ranked = model.spec().outputSize();
        if (topK != null && topK > ranked) {
            throw options.usage("--top-k: " + topK + " is more than the " + ranked + (ranked == 1 ? " output unit"
                    : " classes") + " of " + model.uri() + "; expected at most " + ranked);
        }
        int k = topK != null ? topK : Math.min(DEFAULT_TOP_K, ranked);
        usageOf(() -> BinaryMetrics.threshold(model.spec(), model.uri(), givenThreshold));
        DataInput data = options.dataInput(hadoop, model);
        String folder = output != null ? output : new Path(InputFiles.qualified(model.uri(), hadoop)).getParent().toString();
        String flag = output != null ? "--output" : "--output (default: the model's folder)";
        checkOutput(hadoop, folder, flag);
        PrintWriter out = command.commandLine().getOut();
        Instant start = Instant.now();
        return options.withSpark(conf, model, command.commandLine().getErr(), jsc -> {
            DistributedInference.Evaluated result = new DistributedInference(jsc).evaluate(model, data,
                    options.batchSize, k, givenThreshold);
            if (result.report().badRecords() > 0) {
                out.println(result.report().describeSkipped("--data"));
            }
            EvaluationReport report = new EvaluationReport(model, data, result);
            report.print(out);
            report.write(folder, hadoop, start, Instant.now());
            out.printf("Wrote %s to %s%n", EvaluationReport.FILE, folder);
            out.flush();
            return ExitCodes.OK;
        });
    }

    /** Runs a check of the library's; its {@link ParameterException} is a usage error naming the flag. */
    private void usageOf(Runnable check) {
        try {
            check.run();
        } catch (ParameterException e) {
            throw options.usage(e.message(ParameterException::flag));
        }
    }

    private void checkOutput(Configuration hadoop, String folder, String flag) {
        AtomicFiles files = new AtomicFiles(hadoop);
        Path target = new Path(folder, EvaluationReport.FILE);
        if (!overwrite && files.exists(target)) {
            String where = output != null ? "--output " + folder : "the model's folder " + folder + " (the default --output)";
            throw new InputException(where + " already holds an evaluation (" + EvaluationReport.FILE
                    + "); pass --overwrite to replace it, or choose another folder with --output");
        }
        files.checkWritable(new Path(folder), flag);
    }
}
