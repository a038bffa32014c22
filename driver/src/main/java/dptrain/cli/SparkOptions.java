package dptrain.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import scala.Tuple2;

/** The flags every Spark command shares (--master, --conf, --verbose) and how Spark is started from them. */
final class SparkOptions {

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master, e.g. local[2] or spark://host:7077 (default: spark-submit's, else local[*]).")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "Extra Spark configuration, repeatable.")
    Map<String, String> sparkConf = new LinkedHashMap<>();

    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;

    /** Spark's configuration: the flags, spark-submit's settings, and dptrain's defaults ({@link SparkDefaults}). */
    SparkConf sparkConf(String appName) {
        SparkConf conf = new SparkConf().setAppName(appName);
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        sparkConf.forEach(conf::set);
        return SparkDefaults.apply(conf);
    }

    /** The Hadoop configuration the driver reads inputs with: spark.hadoop.* settings apply. */
    static Configuration hadoopConfiguration(SparkConf conf) {
        Configuration hadoop = new Configuration();
        for (Tuple2<String, String> kv : conf.getAllWithPrefix("spark.hadoop.")) {
            hadoop.set(kv._1(), kv._2());
        }
        return hadoop;
    }

    /**
     * Starts Spark quietly and warns when executors look too small for ND4J's off-heap memory for a
     * model of {@code parameterCount} parameters.
     */
    JavaSparkContext startSpark(SparkConf conf, long parameterCount, PrintWriter err, CommandLine cli) {
        JavaSparkContext jsc;
        try {
            jsc = new JavaSparkContext(conf);
        } catch (Exception e) {
            // Spark reports a bad master URL as a SparkException: checked, but thrown unchecked from Scala.
            if (String.valueOf(e.getMessage()).contains("Master URL")) {
                throw new CommandLine.ParameterException(cli, "--master: '" + conf.get("spark.master")
                        + "' is not a Spark master; expected local[N], spark://HOST:PORT, yarn or k8s://HOST:PORT");
            }
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
        }
        jsc.setLogLevel("WARN");
        ExecutorMemoryCheck.warnings(jsc.getConf(), parameterCount)
                .forEach(warning -> err.println("dptrain: warning: " + warning.replaceAll("\\s*\n\\s*", " ")));
        err.flush();
        return jsc;
    }
}
