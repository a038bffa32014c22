package dptrain.driver.rounds;

import dptrain.replica.ParameterAverage;
import dptrain.replica.TrainingState;

/**
 * How one averaging round reaches the replicas and how their results come back. Both ways give the
 * same bits; they differ in cost:
 * <ul>
 *   <li>{@link JobPerRound}: each round is its own Spark job (the state broadcast, the results
 *       tree-aggregated). Works anywhere; each round pays Spark's job scheduling.</li>
 *   <li>{@link EpochJobRounds}: an epoch's rounds run in one Spark barrier job whose tasks stay up
 *       and exchange states with the driver over a socket ({@link RoundExchange}), or in memory when
 *       they run in the driver's JVM (local mode). Needs a task slot per worker and executors that can
 *       connect to the driver.</li>
 * </ul>
 * Chosen by {@link RoundExchangeSettings}.
 */
public interface RoundTransport extends AutoCloseable {

    /** The round's average, and the driver's time to send the state and to wait for the results. */
    record Round(ParameterAverage average, double sendSeconds, double waitSeconds) {
    }

    /**
     * Every partition's replica trains on minibatches {@code [firstBatch, firstBatch + minibatchesPerRound)} of its
     * partition from {@code start}; returns their results averaged in partition order.
     */
    Round train(TrainingState start, int epoch, int round, int firstBatch, int minibatchesPerRound, long roundSeed);

    /**
     * Epoch {@code epoch} is about to start its rounds; returns how they will travel, as {@link
     * #describe} does for the run. A transport may run an epoch differently from the last one, e.g.
     * a job per round while an executor lost since has no replacement yet; the text then says why.
     */
    default String beginEpoch(int epoch) {
        return describe();
    }

    /** The epoch's last round is done (the run may stop here or go on with the next epoch). */
    void endEpoch();

    /** Stops whatever still runs, after success or failure. */
    @Override
    void close();

    /** How rounds travel, for the log, e.g. "one Spark job per round". */
    String describe();
}
