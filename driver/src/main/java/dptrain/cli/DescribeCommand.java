package dptrain.cli;

import dptrain.driver.card.ModelDescription;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dptrain describe}: prints the model card a model.zip carries. */
@Command(name = "describe", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Prints what a model.zip holds: its architecture (layers, shapes, parameters), training data, "
                + "preprocessing, final metrics and versions, from the model card 'dptrain train' writes into it; for "
                + "a zip without a card, what the network itself tells. Spark is not started.")
final class DescribeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec command;

    @Parameters(index = "0", paramLabel = "MODEL_ZIP", description = "A model.zip, on any Hadoop filesystem.")
    String model;

    @Option(names = "--json", description = "Print the description as JSON instead of text.")
    boolean json;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "Extra Spark configuration, repeatable: the "
            + "spark.hadoop.* settings that reach the model's filesystem.")
    Map<String, String> sparkConf = new LinkedHashMap<>();

    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() {
        SparkConf conf = new SparkConf();
        sparkConf.forEach(conf::set);
        ModelDescription description = ModelDescription.read(model, SparkOptions.hadoopConfiguration(conf));
        PrintWriter out = command.commandLine().getOut();
        out.print(json ? description.json() + System.lineSeparator() : description.text());
        out.flush();
        return ExitCodes.OK;
    }
}
