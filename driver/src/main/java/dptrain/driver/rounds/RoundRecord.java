package dptrain.driver.rounds;

import java.util.Locale;

/**
 * One averaging round, timed on the driver: what it trained on and where its time went.
 *
 * @param epoch            1-based epoch
 * @param epochs           epochs of the run
 * @param round            1-based round within the epoch
 * @param rounds           rounds per epoch
 * @param examples         training examples the accepted replicas saw in the round
 * @param loss             mean training loss over those examples, NaN when none
 * @param broadcastSeconds driver time to send the round's state snapshot (a broadcast, or writing it to the
 *                         long-lived tasks' connections, see {@link RoundTransport})
 * @param computeSeconds   the slowest replica's training time
 * @param combineSeconds   time spent adding and merging replica results into the average
 * @param jobSeconds       wall time from the state sent until every result is in and combined: the round's
 *                         Spark job (scheduling, compute, result transfer, combining), or the wait on the
 *                         round exchange when an epoch's rounds share one job
 * @param updateSeconds    driver time to turn the average into the next state and check it
 * @param seconds          wall time of the whole round
 * @param rejectedReplicas replicas rejected for non-finite loss or parameters
 */
public record RoundRecord(int epoch, int epochs, int round, int rounds, long examples, double loss,
        double broadcastSeconds, double computeSeconds, double combineSeconds, double jobSeconds,
        double updateSeconds, double seconds, int rejectedReplicas) {

    /**
     * Job time not spent computing or combining: task scheduling and launch, task and result
     * serialization, moving states and results. Never negative.
     */
    public double schedulingSeconds() {
        return Math.max(0, jobSeconds - computeSeconds - combineSeconds);
    }

    /** Training examples per second of round wall time. */
    public double examplesPerSecond() {
        return seconds > 0 ? examples / seconds : 0;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "epoch %d/%d round %d/%d: %d examples in %.3fs (broadcast %.3fs, "
                + "compute %.3fs, combine %.3fs, scheduling %.3fs, update %.3fs)", epoch, epochs, round, rounds,
                examples, seconds, broadcastSeconds, computeSeconds, combineSeconds, schedulingSeconds(),
                updateSeconds);
    }
}
