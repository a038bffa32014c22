package dptrain.cli;

import dptrain.driver.files.EnvironmentException;
import dptrain.sparkstart.ClusterLog;
import dptrain.sparkstart.ExecutorMemoryCheck;
import dptrain.sparkstart.ExecutorStartWatch;
import dptrain.sparkstart.SparkDefaults;
import dptrain.sparkstart.SparkStart;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
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
        SparkStart.timeout(conf); // checked with the other flags, before any file is read
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

    /** What a command does with Spark once it runs. */
    @FunctionalInterface
    interface SparkWork {
        int run(JavaSparkContext jsc);
    }

    /**
     * Starts Spark quietly ({@link SparkStart}: for a cluster master, once the cluster has taken the
     * application and started an executor), warns when executors look too small for ND4J's off-heap
     * memory for a model of {@code parameterCount} parameters, runs {@code work} and stops Spark.
     * When Spark stops under {@code work}, whatever failed first says little: the failure becomes
     * one sentence about Spark's stop, an {@link EnvironmentException}; so does a run whose executors
     * keep failing as they start ({@link ExecutorStartWatch}), which would otherwise wait forever.
     *
     * @return what {@code work} returns, the command's exit code
     */
    int run(SparkConf conf, long parameterCount, PrintWriter err, CommandLine cli, SparkWork work) {
        try (ClusterLog log = ClusterLog.watch()) {
            JavaSparkContext jsc = SparkStart.start(conf, log, cli);
            Optional<ExecutorStartWatch> executorStarts = ExecutorStartWatch.attach(jsc);
            try {
                jsc.setLogLevel("WARN");
                ExecutorMemoryCheck.warnings(jsc.getConf(), parameterCount)
                        .forEach(warning -> err.println("dptrain: warning: " + warning.replaceAll("\\s*\n\\s*", " ")));
                err.flush();
                return work.run(jsc);
            } catch (RuntimeException e) {
                // Executors that kept failing to start: the watch cancelled the jobs, whatever e says of them.
                Optional<EnvironmentException> cannotStart = executorStarts.flatMap(w -> w.failure(e));
                if (cannotStart.isPresent()) {
                    throw cannotStart.get();
                }
                throw stoppedUnder(jsc, log, e);
            } finally {
                jsc.stop();
            }
        }
    }

    /**
     * {@code e} as an {@link EnvironmentException} when Spark stopped while the command ran (the
     * cluster manager ended the application, the JVM is shutting down), else {@code e} itself.
     */
    static RuntimeException stoppedUnder(JavaSparkContext jsc, ClusterLog log, RuntimeException e) {
        Optional<String> ended = log.applicationEnded();
        boolean shuttingDown = jvmShuttingDown();
        if (!jsc.sc().isStopped() && ended.isEmpty() && !shuttingDown) {
            return e;
        }
        String master = jsc.master();
        String message;
        if (shuttingDown) {
            message = "Spark stopped while dptrain was running: the JVM is shutting down (interrupted, e.g. by Ctrl-C, "
                    + "or killed by a signal)";
        } else if (master.startsWith("local")) {
            message = "Spark stopped while dptrain was running (" + master + ")" + ended.map(r -> ": " + r).orElse("")
                    + "; Spark's log says why";
        } else {
            message = "Spark stopped while dptrain was running: " + ended.map(reason -> "the cluster manager " + master
                    + " ended the application (" + reason + ")").orElse("its application on " + master + " ended (the "
                    + "connection to the cluster manager was lost, or the application was killed; Spark's log says "
                    + "which)") + "; check that the cluster manager and its workers are up, then run again";
        }
        return new EnvironmentException(message, e);
    }

    /** Whether the JVM has begun to shut down: Java refuses new shutdown hooks then. */
    private static boolean jvmShuttingDown() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }
}
