package dptrain.driver.rounds;

import dptrain.replica.DeltaFeedback;
import dptrain.replica.ParameterAverage;
import dptrain.replica.ReplicaResult;
import dptrain.replica.ReplicaStats;
import dptrain.replica.RoundCombine;
import dptrain.replica.TrainingState;
import java.util.List;

/**
 * How one averaging round reaches the replicas and where their results are combined. Every way
 * gives the same bits; they differ in cost:
 * <ul>
 *   <li>{@link JobPerRound}: each round is its own Spark job (the state broadcast, the results
 *       tree-aggregated and combined on the driver). Works anywhere; each round pays Spark's job
 *       scheduling.</li>
 *   <li>{@link EpochJobRounds}: an epoch's rounds run in one Spark barrier job whose tasks stay up
 *       and exchange states with the driver ({@link RoundExchange}), in memory when they run in the
 *       driver's JVM (local mode). The driver combines. Needs a task slot per worker.</li>
 *   <li>{@link PeerRounds}: an epoch's rounds in one barrier job whose replicas average among
 *       themselves over Spark's network layer; the driver sends small orders and receives small
 *       reports, and a state only when it needs one. Needs a task slot per worker.</li>
 * </ul>
 * Chosen by {@link RoundExchangeSettings}.
 */
public interface RoundTransport extends AutoCloseable {

    /**
     * A finished round: what it learned ({@code next}: the start when no replica contributed), what
     * the replicas did, whether the next state is finite, and where the driver's time went.
     *
     * @param contributions replica results combined, rejected ones included: one per worker
     * @param contributed   at least one replica contributed a state
     * @param traffic       bytes the driver and one replica moved over the network, where counted; else null
     */
    record Round(LearnedState next, ReplicaStats stats, List<String> rejections, int contributions,
            boolean contributed, boolean finite, double sendSeconds, double waitSeconds, double combineSeconds,
            RoundTraffic traffic) {

        /**
         * A round whose results were averaged on the driver: its end as {@link RoundCombine} computes it,
         * its parameters then rounded as the replicas apply them when {@code feedback} is given.
         */
        static Round combinedHere(ParameterAverage average, LearnedState start, BlockMomentum momentum,
                DeltaFeedback feedback, boolean exact, double sendSeconds, double waitSeconds) {
            BlockMomentum.Filter filter = start.filter();
            RoundCombine.Filter combineFilter = momentum.enabled()
                    ? new RoundCombine.Filter(momentum.arithmetic(), filter.global(), filter.delta())
                    : RoundCombine.Filter.PLAIN;
            RoundCombine.Outcome o = RoundCombine.of(average, start.state(), combineFilter);
            BlockMomentum.Filter nextFilter = momentum.enabled()
                    ? new BlockMomentum.Filter(o.filter().global(), o.filter().delta()) : filter;
            TrainingState next = feedback != null && o.contributed() ? feedback.outcome(start.state(), o.next(), exact)
                    : o.next();
            return new Round(LearnedState.here(next, nextFilter), o.stats(), o.rejections(), o.contributions(),
                    o.contributed(), o.finite(), sendSeconds, waitSeconds, o.combineSeconds(), null);
        }
    }

    /**
     * The replicas' results folded in partition order, each first rounded as {@code feedback} says
     * (when given) against the round's {@code start}: the driver's share of {@link DeltaFeedback}.
     */
    static ParameterAverage averageOf(Iterable<ReplicaResult> byPartition, TrainingState start, DeltaFeedback feedback,
            boolean exact) {
        ParameterAverage average = ParameterAverage.empty();
        for (ReplicaResult result : byPartition) {
            average = average.add(feedback == null ? result : feedback.contribution(result, start, exact));
        }
        return average;
    }

    /**
     * Every partition's replica trains on minibatches {@code [firstBatch, firstBatch + minibatchesPerRound)} of its
     * partition from {@code start}; returns the round's end, the results averaged in partition order.
     * An {@code exact} round (an epoch's last, or one a checkpoint follows) leaves every replica with
     * one state and nothing held back: float32 deltas, residuals flushed.
     */
    Round train(LearnedState start, int epoch, int round, int firstBatch, int minibatchesPerRound, long roundSeed,
            boolean exact);

    /**
     * Epoch {@code epoch} is about to start its rounds; returns how they will travel, as {@link
     * #describe} does for the run. A transport may run an epoch differently from the last one, e.g.
     * a job per round while an executor lost since has no replacement yet; the text then says why.
     */
    default String beginEpoch(int epoch) {
        return describe();
    }

    /**
     * The epoch's last round is done (the run may stop here or go on with the next epoch). A state
     * the replicas hold ({@link PeerRounds}) must be fetched before this: their tasks end here.
     */
    void endEpoch();

    /** Stops whatever still runs, after success or failure. */
    @Override
    void close();

    /** How rounds travel, for the log, e.g. "one Spark job per round". */
    String describe();
}
