package dptrain.testing;

import dptrain.driver.metrics.TrainingMetrics;
import dptrain.driver.rounds.RoundTaskHook;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * A round-task hook that notes, as each round's task starts training, how many {@code dptrain}
 * metrics sources the metrics system holds. Local mode only: the task must share the driver's
 * SparkEnv, whose metrics system the run's source goes to.
 */
public final class MetricsSourceProbe implements RoundTaskHook {
    /** One count per task and round, in the order the tasks ran. */
    public static final List<Integer> SOURCES_SEEN = new CopyOnWriteArrayList<>();

    public MetricsSourceProbe(SparkConf conf) {
    }

    /** The Spark setting that turns this hook on. */
    public static String[] enable() {
        return new String[] {RoundTaskHook.CLASS_KEY, MetricsSourceProbe.class.getName()};
    }

    @Override
    public void beforeTraining(int epoch, int round, int partition) {
        SOURCES_SEEN.add(SparkEnv.get().metricsSystem().getSourcesByName(TrainingMetrics.SOURCE_NAME).size());
    }
}
