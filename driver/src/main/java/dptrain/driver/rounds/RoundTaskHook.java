package dptrain.driver.rounds;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * A seam for tests: what a round's task runs just before and just after its replica trains.
 * Production runs none. A test names an implementation in {@value #CLASS_KEY}: a class on the
 * executors' classpath with a public constructor taking the Spark configuration. Each task finds
 * it through its executor's configuration, so no production signature carries it (the fault
 * injection that shows retries and speculation change nothing lives in the test sources).
 */
public interface RoundTaskHook {
    /** The Spark setting naming the hook's class; unset in production. */
    String CLASS_KEY = "spark.dptrain.test.roundTaskHook";

    /** No hook. */
    RoundTaskHook NONE = new RoundTaskHook() { };

    /** Before the replica trains on the round's minibatches. */
    default void beforeTraining(int epoch, int round, int partition) {
    }

    /** After the replica trained, before its result is sent. */
    default void afterTraining(int epoch, int round, int partition) {
    }

    /** The hook this executor's configuration names, or {@link #NONE}. */
    static RoundTaskHook current() {
        SparkEnv env = SparkEnv.get();
        String name = env == null ? "" : env.conf().get(CLASS_KEY, "");
        if (name.isBlank()) {
            return NONE;
        }
        try {
            return Class.forName(name.trim(), true, Thread.currentThread().getContextClassLoader())
                    .asSubclass(RoundTaskHook.class).getConstructor(SparkConf.class).newInstance(env.conf());
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException(CLASS_KEY + "=" + name + ": expected a RoundTaskHook with a public "
                    + "constructor taking the SparkConf, on the executors' classpath (" + e + ")", e);
        }
    }
}
