package dptrain.driver.rounds;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * How an epoch whose rounds run in one job with a task per worker ({@link EpochJobRounds}, {@link
 * PeerRounds}) waits for task slots when it starts short of them (an executor lost, its replacement
 * not registered yet), and whether it may then run its rounds as a job each. Spark would refuse
 * the barrier job and retry it only every 15 s ({@code
 * spark.scheduler.barrier.maxConcurrentTasksCheck.interval}), failing it after 40 tries; so the
 * epoch waits for the slots itself and starts as soon as they are there.
 */
record SlotWait(Duration timeout, boolean mayFallBack) {

    /**
     * Waits up to the timeout for a task slot per worker. Empty when they came, or when the epoch
     * may not fall back (its job then waits in Spark); otherwise why epoch {@code epoch} runs its
     * rounds as {@code fallback} describes.
     */
    Optional<String> shortOfSlots(JavaSparkContext jsc, int workers, int epoch, String fallback) {
        int slots = RoundExchangeSettings.taskSlots(jsc);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (slots < workers && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for task slots for epoch " + epoch, e);
            }
            slots = RoundExchangeSettings.taskSlots(jsc);
        }
        if (slots >= workers || !mayFallBack) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT, "%s: the cluster has %d task slot%s for %d workers (an executor "
                + "was lost and no replacement registered within %s, %s)", fallback, slots, slots == 1 ? "" : "s",
                workers, timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms",
                RoundExchangeSettings.SLOT_WAIT_KEY));
    }
}
