package dptrain.cli;

import dptrain.driver.inference.DistributedInference;
import dptrain.driver.inference.SavedModel;
import dptrain.driver.input.DataInput;
import java.io.PrintWriter;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The flags of the commands that apply a trained model to data (evaluate, predict): the model,
 * the data with every data flag train has, the rows per forward pass, and Spark's flags.
 */
final class SavedModelOptions {

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec command;

    @Option(names = "--model", required = true, paramLabel = "MODEL_ZIP",
            description = "A trained model: the model.zip 'dptrain train' writes (DL4J ModelSerializer zip; its "
                    + "normalizer and feature scaling are applied to the data).")
    String model;

    @Option(names = "--data", required = true, paramLabel = "URI",
            description = "The data: a file, folder or glob on any Hadoop filesystem, in any format train reads. For "
                    + "IDX, the images file (its labels file is found beside it; with --no-label none is needed) or a "
                    + "folder holding one pair.")
    String data;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "256",
            description = "Rows per forward pass; changes speed and memory only, not results (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Mixin
    DataOptions dataOptions;

    @Mixin
    SparkOptions spark;

    SparkConf sparkConf(String appName) {
        return spark.sparkConf(appName);
    }

    /** The model --model names, loaded and checked on the driver. */
    SavedModel savedModel(Configuration hadoop) {
        if (batchSize < 1) {
            throw usage("--batch-size: " + batchSize + " is not allowed; expected a whole number >= 1");
        }
        return SavedModel.load(model, hadoop);
    }

    /**
     * The data --data names, checked against the model's input size where that is cheap, and scaled as the model was trained (the scaling model.zip records) unless
     * --scale says otherwise.
     */
    DataInput dataInput(Configuration hadoop, SavedModel saved) {
        DataInput input = dataOptions.dataInput(data, "--data", hadoop, saved.featureScale(), command.commandLine());
        DistributedInference.checkFeatureCount(saved, input, hadoop);
        return input;
    }

    /** Refuses --no-label for {@code commandName}, which needs labels for {@code why}. */
    void requireLabels(String commandName, String why) {
        dataOptions.requireLabels(commandName, why, command.commandLine());
    }

    /** Starts Spark, runs {@code work} and stops Spark ({@link SparkOptions#run}). */
    int withSpark(SparkConf conf, SavedModel saved, PrintWriter err, SparkOptions.SparkWork work) {
        return spark.run(conf, saved.spec().parameterCount(), err, command.commandLine(), work);
    }

    CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(command.commandLine(), message);
    }
}
