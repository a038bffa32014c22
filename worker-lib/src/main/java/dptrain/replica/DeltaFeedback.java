package dptrain.replica;

import java.util.HashMap;
import java.util.Map;

/**
 * The residuals that 16-bit deltas leave behind ({@link DeltaRounding}), kept where the rounding
 * happens: one per replica for what it sends (the driver keeps every partition's, a replica
 * averaging with its peers keeps its own), and one for the averaged values sent back (the driver's
 * whole state, or a replica's own chunk). Only parameters are rounded; the optimizer state
 * travels in float32.
 *
 * <p>Residuals exist only between an epoch's first round and its last (or a round that a
 * checkpoint follows): those rounds are exact and zero them, so checkpoints and {@code --resume}
 * never need them, and a stage restarted from the epoch's start or a checkpoint replays them.
 */
public final class DeltaFeedback {
    private final DeltaPrecision precision;
    private final Map<Integer, float[]> replicaResiduals = new HashMap<>();
    private float[] ownerResidual;

    public DeltaFeedback(DeltaPrecision precision) {
        if (!precision.rounds()) {
            throw new IllegalArgumentException("float32 deltas leave no residual");
        }
        this.precision = precision;
    }

    public DeltaPrecision precision() {
        return precision;
    }

    /** The residual of what partition {@code partition} sends, {@code length} zeros at first. */
    public float[] replicaResidual(int partition, int length) {
        float[] r = replicaResiduals.computeIfAbsent(partition, p -> new float[length]);
        if (r.length != length) {
            throw new IllegalArgumentException("partition " + partition + "'s residual has " + r.length
                    + " values, expected " + length);
        }
        return r;
    }

    /** The residual of the averaged values sent back, {@code length} zeros at first. */
    public float[] ownerResidual(int length) {
        if (ownerResidual == null) {
            ownerResidual = new float[length];
        } else if (ownerResidual.length != length) {
            throw new IllegalArgumentException("the averaged values' residual has " + ownerResidual.length
                    + " values, expected " + length);
        }
        return ownerResidual;
    }

    /**
     * Values rounded for the wire: {@code values} is what everyone averages or applies (the start
     * plus the decoded delta), {@code codes} the 16-bit deltas that stand for its parameters, or null
     * in an exact round (the values then travel in float32).
     */
    public record Rounded(TrainingState values, short[] codes) {
    }

    /**
     * Partition {@code result.partition()}'s contribution as it is averaged: its parameters replaced
     * by the round's start plus its rounded delta (or, when {@code exact}, the flushed delta). A
     * rejected result, or one with no state, is returned as it is and leaves its residual alone.
     */
    public ReplicaResult contribution(ReplicaResult result, TrainingState start, boolean exact) {
        if (result.rejection() != null || result.state() == null) {
            return result;
        }
        TrainingState sent = roundReplica(result.partition(), result, start, exact).values();
        return new ReplicaResult(sent, result.stats()).forPartition(result.partition());
    }

    /**
     * What partition {@code partition} sends of the state {@code trained} reached from {@code start}
     * (both whole, or both the same chunk), rounded with its residual. Null when it sends nothing
     * (rejected, or trained on nothing).
     */
    public Rounded roundReplica(int partition, ReplicaResult trained, TrainingState start, boolean exact) {
        if (trained.rejection() != null || trained.state() == null) {
            return null;
        }
        return round(start, trained.state(), replicaResidual(partition, start.parameterCount()), exact);
    }

    /** The round's {@code next} state as every replica applies it: the start plus the rounded (or flushed) delta. */
    public TrainingState outcome(TrainingState start, TrainingState next, boolean exact) {
        return roundOutcome(start, next, exact).values();
    }

    /** {@link #outcome}, with the codes that carry it to the other replicas. */
    public Rounded roundOutcome(TrainingState start, TrainingState next, boolean exact) {
        return round(start, next, ownerResidual(start.parameterCount()), exact);
    }

    private Rounded round(TrainingState start, TrainingState reached, float[] residual, boolean exact) {
        float[] s = start.parametersView();
        if (exact) {
            return new Rounded(reached.withParameters(DeltaRounding.flush(s, reached.parametersView(), residual)),
                    null);
        }
        short[] codes = DeltaRounding.encodeDeltas(precision, s, reached.parametersView(), residual);
        return new Rounded(reached.withParameters(DeltaRounding.applyDeltas(precision, s, codes)), codes);
    }

    /**
     * The values a receiver rebuilds from {@code codes}: {@code start}'s parameters (the chunk the
     * codes cover) plus the decoded deltas, with {@code rest}'s optimizer state and counters.
     */
    public static TrainingState rebuild(DeltaPrecision precision, TrainingState start, short[] codes,
            TrainingState rest) {
        return new TrainingState(DeltaRounding.applyDeltas(precision, start.parametersView(), codes),
                rest.optimizerStateView(), rest.iteration(), rest.epoch());
    }

    /** {@code values} without its parameters (they travel as codes): its optimizer state and counters. */
    public static TrainingState withoutParameters(TrainingState values) {
        return new TrainingState(new float[0], values.optimizerStateView(), values.iteration(), values.epoch());
    }

    /** True when no residual holds anything: what every exact round leaves. */
    public boolean flushed() {
        return replicaResiduals.values().stream().allMatch(DeltaFeedback::zero)
                && (ownerResidual == null || zero(ownerResidual));
    }

    private static boolean zero(float[] values) {
        for (float v : values) {
            if (v != 0f) {
                return false;
            }
        }
        return true;
    }
}
