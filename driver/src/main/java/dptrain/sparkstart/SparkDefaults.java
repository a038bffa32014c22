package dptrain.sparkstart;

import org.apache.spark.SparkConf;

/** The Spark settings dptrain's own entry points (CLI, benchmarks) start with, unless the user set them. */
public final class SparkDefaults {
    private SparkDefaults() {
    }

    /**
     * Sets, where missing: one BLAS/OpenMP thread per task (parallelism comes from Spark tasks, see
     * FIELD-NOTES), and task results up to 64 MiB sent with the task's status message instead of
     * through the block manager. A replica's result is its whole state (3.2 MB for the book's
     * network); the detour cost about 10 ms per averaging round in local[2]. Spark caps this at
     * {@code spark.rpc.message.maxSize}, so larger states still take the block manager.
     */
    public static SparkConf apply(SparkConf conf) {
        conf.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", "1");
        conf.setIfMissing("spark.task.maxDirectResultSize", String.valueOf(64L << 20));
        return conf;
    }
}
