package dptrain.testing;

import dptrain.driver.rounds.RoundTaskHook;
import java.io.Serializable;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;

/**
 * A round-task hook that stops the SparkContext while a round runs, as a cluster manager does when it
 * ends the application: partition 0's task of epoch E, round R ({@value #AT_KEY}=E:R, default 1:2)
 * stops it from another thread and waits. Local mode only: the task must share the driver's JVM.
 */
public final class StopSpark implements RoundTaskHook, Serializable {
    private static final long serialVersionUID = 1L;
    static final String AT_KEY = "spark.dptrain.test.stopSparkAt";
    /** Applications this JVM's hooks have stopped; once each. */
    private static final Set<String> STOPPED = ConcurrentHashMap.newKeySet();
    private static final List<Thread> STOPPERS = new CopyOnWriteArrayList<>();

    private final String at;

    /** The Spark settings that turn this hook on. */
    public static String enable() {
        return RoundTaskHook.CLASS_KEY + "=" + StopSpark.class.getName();
    }

    public StopSpark(SparkConf conf) {
        this.at = conf.get(AT_KEY, "1:2").trim();
    }

    @Override
    public void beforeTraining(int epoch, int round, int partition) {
        if (partition != 0 || !at.equals(epoch + ":" + round)) {
            return;
        }
        SparkContext sc = SparkContext.getOrCreate();
        if (!STOPPED.add(sc.applicationId())) {
            return;
        }
        Thread stopper = new Thread(sc::stop, "test-stops-spark");
        STOPPERS.add(stopper);
        stopper.start();
        // The round stays under way until Spark is stopping.
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!sc.isStopped() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Waits until every stop this JVM's hooks began has finished: a SparkContext that finishes stopping
     * clears Spark's process-wide state, which must not happen under the next test's context.
     */
    public static void awaitStops() throws InterruptedException {
        for (Thread stopper : STOPPERS) {
            stopper.join(60_000);
        }
    }
}
