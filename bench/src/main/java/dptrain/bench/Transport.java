package dptrain.bench;

import dptrain.driver.rounds.RoundExchangeSettings;
import java.util.function.Supplier;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * How rounds travel: {@link RoundExchangeSettings#MODE_KEY} and {@link
 * RoundExchangeSettings#IN_PROCESS_KEY}, set per run as local properties.
 */
enum Transport {
    /** dptrain's default: in local[2], an epoch's rounds in one job, states in memory. */
    AUTO("auto", true, "round exchange"),
    JOB_PER_ROUND("jobs", true, "a Spark job per round"),
    IN_MEMORY("socket", true, "round exchange, in memory"),
    /** What the round exchange costs where tasks run in other JVMs: over TCP, even in local mode. */
    OVER_TCP("socket", false, "round exchange over TCP"),
    /** The replicas averaging among themselves over Spark's network layer (loopback in local mode). */
    PEERS("peers", false, "among the replicas");

    final String mode;
    final boolean inProcess;
    final String label;

    Transport(String mode, boolean inProcess, String label) {
        this.mode = mode;
        this.inProcess = inProcess;
        this.label = label;
    }

/** Runs {@code run} with rounds travelling as {@code transport} says, for this thread. */
<T> T run(JavaSparkContext jsc, Supplier<T> run) {
    jsc.setLocalProperty(RoundExchangeSettings.MODE_KEY, mode);
    jsc.setLocalProperty(RoundExchangeSettings.IN_PROCESS_KEY, Boolean.toString(inProcess));
    try {
        return run.get();
    } finally {
        jsc.setLocalProperty(RoundExchangeSettings.MODE_KEY, null);
        jsc.setLocalProperty(RoundExchangeSettings.IN_PROCESS_KEY, null);
    }
}
}
