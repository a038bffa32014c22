package dptrain.cli;

import dptrain.report.TrainingReport;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dptrain report}: draws report.html and history.png again from a run's history.json and provenance.json. */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Writes report.html and history.png into --output from the history.json and provenance.json "
                + "that 'dptrain train' left there.")
final class ReportCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec command;

    @Option(names = "--output", required = true, paramLabel = "DIR",
            description = "The output folder of a 'dptrain train' run, on any Hadoop filesystem.")
    String output;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "Extra Spark configuration, repeatable: the "
            + "spark.hadoop.* settings of the train run that reach --output's filesystem (e.g. s3a's endpoint and "
            + "credentials).")
    Map<String, String> sparkConf = new LinkedHashMap<>();

    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() {
        // Also picks up spark-submit's settings, as train's configuration does.
        SparkConf conf = new SparkConf();
        sparkConf.forEach(conf::set);
        Configuration hadoop = SparkOptions.hadoopConfiguration(conf);
        TrainingReport.read(output, hadoop).write(output, hadoop);
        PrintWriter out = command.commandLine().getOut();
        out.printf("Wrote %s and %s to %s%n", TrainingReport.HTML, TrainingReport.PNG, output);
        out.flush();
        return ExitCodes.OK;
    }
}
