package dptrain.cli;

import dptrain.driver.files.AtomicFiles;
import dptrain.driver.files.InputFiles;
import dptrain.driver.inference.DistributedInference;
import dptrain.driver.inference.SavedModel;
import dptrain.driver.input.DataInput;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dptrain predict}: batch inference with a trained model, written as Parquet or CSV. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Predicts every row of --data with the trained --model, data-parallel on Spark, and writes "
                + "row_id, predicted_class and one probability_<c> column per class to --output, in input order.")
final class PredictCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec command;

    @Mixin
    SavedModelOptions options;

    @Option(names = "--output", required = true, paramLabel = "URI",
            description = "Folder the predictions are written to (Spark part files), on any Hadoop filesystem; "
                    + "written under a temporary name and renamed into place when complete.")
    String output;

    @Option(names = "--output-format", paramLabel = "parquet|csv", defaultValue = "parquet",
            description = "parquet or csv (with a header line) (default: ${DEFAULT-VALUE}).")
    DistributedInference.OutputFormat outputFormat;

    @Option(names = "--id-col", paramLabel = "NAME",
            description = "Parquet input: a key column copied into the output next to row_id.")
    String idColumn;

    @Option(names = "--overwrite", description = "Replace what --output already holds.")
    boolean overwrite;

    @Override
    public Integer call() {
        SparkConf conf = options.sparkConf("dptrain predict");
        Configuration hadoop = SparkOptions.hadoopConfiguration(conf);
        SavedModel model = options.savedModel(hadoop);
        DataInput data = options.dataInput(hadoop, model);
        String target = InputFiles.qualified(output, hadoop);
        new AtomicFiles(hadoop).checkFolderTarget(new Path(output), overwrite, "--output");
        DistributedInference.checkIdColumn(data, idColumn);
        PrintWriter out = command.commandLine().getOut();
        return options.withSpark(conf, model, command.commandLine().getErr(), jsc -> {
            DistributedInference.Predicted result = new DistributedInference(jsc).predict(model, data,
                    options.batchSize, idColumn, target, outputFormat, overwrite);
            if (result.report().badRecords() > 0) {
                out.println(result.report().describeSkipped("--data"));
            }
            out.printf("Wrote predictions for %d rows of %s to %s (%s)%n", result.rows(), data.uri(), output,
                    outputFormat.cliName());
            out.flush();
            return ExitCodes.OK;
        });
    }
}
