package dptrain.driver.rounds;

import java.util.Optional;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * An epoch's rounds in one job ({@link EpochJobRounds}, {@link PeerRounds}), except for an epoch
 * that starts short of a task slot per worker: that one waits for the slots and, if they do not
 * come in time, runs its rounds as a Spark job each ({@link SlotWait}). The next epoch looks again.
 */
final class SlotWaitingRounds implements RoundTransport {
    private final RoundTransport epochJob;
    private final JobPerRound jobs;
    private final SlotWait slotWait;
    private final JavaSparkContext jsc;
    private final int workers;
    /** True while an epoch runs a job per round because the cluster lacks task slots. */
    private boolean fallingBack;

    SlotWaitingRounds(RoundTransport epochJob, JobPerRound jobs, SlotWait slotWait, JavaSparkContext jsc,
            int workers) {
        this.epochJob = epochJob;
        this.jobs = jobs;
        this.slotWait = slotWait;
        this.jsc = jsc;
        this.workers = workers;
    }

    @Override
    public String beginEpoch(int epoch) {
        Optional<String> shortOf = slotWait.shortOfSlots(jsc, workers, epoch, jobs.describe());
        fallingBack = shortOf.isPresent();
        return shortOf.orElseGet(() -> epochJob.beginEpoch(epoch));
    }

    @Override
    public Round train(LearnedState start, int epoch, int round, int firstBatch, int minibatchesPerRound,
            long roundSeed, boolean exact) {
        return (fallingBack ? jobs : epochJob).train(start, epoch, round, firstBatch, minibatchesPerRound, roundSeed,
                exact);
    }

    @Override
    public void endEpoch() {
        if (!fallingBack) {
            epochJob.endEpoch();
        }
        fallingBack = false;
    }

    @Override
    public void close() {
        epochJob.close();
    }

    @Override
    public String describe() {
        return epochJob.describe();
    }
}
