package dptrain.replica;

import dptrain.timing.Seconds;
import java.util.List;

/**
 * What ends an averaging round, after the replicas' results are folded in partition order ({@link
 * ParameterAverage}): the average becomes the next state, block momentum filters its parameters,
 * and the result is checked. The driver runs it on whole states; with averaging among the replicas,
 * each replica runs it on the chunk it owns ({@link StateChunks}). Every step is per value, so both
 * give the same bits.
 */
public final class RoundCombine {
    private RoundCombine() {
    }

    /**
     * Block momentum's state for the values being combined: the global model {@code W_g} and the
     * last block update {@code Δ}. Null fields mean plain averaging.
     */
    public record Filter(MomentumFilter settings, float[] global, float[] delta) {
        public static final Filter PLAIN = new Filter(null, null, null);

        boolean enabled() {
            return settings != null;
        }
    }

    /**
     * A round's end: the next state (the start when no replica contributed), the filter after it,
     * what the replicas did, and whether the next state is finite.
     *
     * @param contributions replica results folded, rejected ones included
     */
    public record Outcome(TrainingState next, Filter filter, ReplicaStats stats, List<String> rejections,
            int contributions, boolean contributed, boolean finite, double combineSeconds) {
    }

    /**
     * Ends a round that started from {@code start} (a whole state or a chunk) with the folded
     * {@code average} of the replicas' results on the same values.
     */
    public static Outcome of(ParameterAverage average, TrainingState start, Filter filter) {
        long began = System.nanoTime();
        ReplicaStats stats = average.stats();
        if (!average.hasContributions()) {
            return new Outcome(start, filter, stats, average.rejections(), average.contributions(), false, true,
                    average.combineSeconds());
        }
        TrainingState next = average.toState(start.iteration() + (int) stats.maxStepsPerReplica(), start.epoch());
        Filter nextFilter = filter;
        if (filter.enabled()) {
            float[] parameters = next.copyParameters();
            MomentumFilter.Advanced advanced = filter.settings().advance(filter.global(), filter.delta(), parameters);
            nextFilter = new Filter(filter.settings(), advanced.global(), advanced.delta());
            next = next.withParameters(parameters);
        }
        boolean finite = next.isFinite();
        return new Outcome(next, nextFilter, stats, average.rejections(), average.contributions(), true, finite,
                average.combineSeconds() + Seconds.since(began));
    }

    /**
     * Where replica {@code trained} starts its next round when it keeps its optimizer state
     * ({@link OptimizerStateScope#LOCAL}): {@code next}'s parameters and counters with the optimizer
     * state it reached, or with {@code fallback}'s when it reached none (rejected, or trained on
     * nothing). The driver and a replica averaging with its peers apply the same rule.
     */
    public static TrainingState withOwnOptimizerState(TrainingState next, ReplicaResult trained,
            TrainingState fallback) {
        TrainingState own = trained.rejection() == null && trained.state() != null ? trained.state() : fallback;
        return new TrainingState(next.parametersView(), own.optimizerStateView(), next.iteration(), next.epoch());
    }

    /** {@code values}' parameters and counters without its optimizer state: what travels when it stays local. */
    public static TrainingState parametersOnly(TrainingState values) {
        return new TrainingState(values.parametersView(), new float[0], values.iteration(), values.epoch());
    }

    /** A whole state from parameters-only chunks ({@link #parametersOnly}) and a whole optimizer state. */
    public static TrainingState assemble(StateChunks chunks, TrainingState[] parametersOnly, TrainingState optimizer) {
        float[][] parameters = new float[parametersOnly.length][];
        for (int p = 0; p < parameters.length; p++) {
            parameters[p] = parametersOnly[p].parametersView();
        }
        return new TrainingState(chunks.assemble(parameters), optimizer.optimizerStateView(),
                parametersOnly[0].iteration(), parametersOnly[0].epoch());
    }

    /**
     * Partition {@code partition}'s contribution to the average of one chunk: its chunk of the state
     * it reached (null when it trained on nothing) with the statistics of its whole round, or its
     * rejection.
     */
    public static ReplicaResult chunkResult(int partition, ReplicaStats stats, String rejection, TrainingState chunk) {
        ReplicaResult result = rejection != null ? ReplicaResult.rejected(rejection, stats)
                : new ReplicaResult(chunk, stats);
        return result.forPartition(partition);
    }
}
