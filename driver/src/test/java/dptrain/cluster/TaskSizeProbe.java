package dptrain.cluster;

import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;

/**
 * A Spark application that shows what {@code spark.rpc.message.maxSize} bounds: it runs a job whose task carries
 * a 4 MB array (a partition holding it, the way data parallelized from the driver travels) and a job whose closure
 * captures a 4 MB array, and prints what happened to each. {@link StandaloneClusterIT} submits it.
 */
public final class TaskSizeProbe {
    static final String TASK_REFUSED = "task carrying 4 MB: refused: ";
    static final String TASK_RAN = "task carrying 4 MB: ran";
    static final String CLOSURE_REFUSED = "closure capturing 4 MB: refused: ";
    static final String CLOSURE_RAN = "closure capturing 4 MB: ran";

    private TaskSizeProbe() {
    }

    public static void main(String[] args) {
        float[] fourMegabytes = new float[1 << 20];
        for (int i = 0; i < fourMegabytes.length; i++) {
            fourMegabytes[i] = i;
        }
        try (JavaSparkContext jsc = new JavaSparkContext(new SparkConf().setAppName("dptrain task-size probe"))) {
            jsc.setLogLevel("WARN");
            try {
                jsc.parallelize(List.of(fourMegabytes), 1).count();
                System.out.println(TASK_RAN);
            } catch (Exception e) { // SparkException, which Scala throws undeclared
                System.out.println(TASK_REFUSED + e.getMessage().lines().findFirst().orElse(""));
            }
            try {
                jsc.parallelize(List.of(1, 2), 2).map(new CapturingFunction(fourMegabytes)).collect();
                System.out.println(CLOSURE_RAN);
            } catch (Exception e) { // SparkException, which Scala throws undeclared
                System.out.println(CLOSURE_REFUSED + e.getMessage().lines().findFirst().orElse(""));
            }
        }
    }

    /** A function that holds a large array, as a lambda capturing it would. */
    static final class CapturingFunction implements Function<Integer, Integer> {
        private static final long serialVersionUID = 1L;
        private final float[] values;

        CapturingFunction(float[] values) {
            this.values = values;
        }

        @Override
        public Integer call(Integer i) {
            return values.length + i;
        }
    }
}
