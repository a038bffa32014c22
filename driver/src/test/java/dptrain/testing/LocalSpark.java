package dptrain.testing;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** Spark contexts for tests: local mode, no UI, quiet. */
public final class LocalSpark {
    private LocalSpark() {
    }

    public static JavaSparkContext start(int threads) {
        SparkConf conf = new SparkConf()
                .setMaster("local[" + threads + "]")
                .setAppName("dptrain-test")
                .set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1");
        JavaSparkContext jsc = new JavaSparkContext(conf);
        jsc.setLogLevel("WARN");
        return jsc;
    }
}
