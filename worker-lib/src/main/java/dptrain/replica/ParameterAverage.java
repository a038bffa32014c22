package dptrain.replica;

import dptrain.timing.Seconds;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The example-weighted average of replica states, built by adding replica results and merging
 * partial averages (the shape Spark's {@code aggregate} and {@code treeAggregate} need).
 *
 * <p><b>Fixed order.</b> Floating-point sums depend on their order, and Spark merges partial
 * results in the order tasks finish. Results marked with their partition ({@link
 * ReplicaResult#forPartition}) are therefore folded strictly in partition order: a result that
 * arrives early waits until every lower partition has been folded. The average, its statistics
 * and its list of rejected replicas are then the same bits whatever the finishing order, the number
 * of executors or the task retries. Unmarked results (a library user averaging by hand) are folded
 * in the order they are added.
 *
 * <p>The empty average is tiny, so it can be a task's zero value without shipping a
 * parameter-sized array in every closure. One or two contributions are kept as they are (floats);
 * sums of more are held in doubles. One replica's average is therefore bit-identical to its state,
 * and two replicas' (the common case) are averaged in one pass with no parameter-sized double
 * arrays, with the same bits as the double sums.
 */
public final class ParameterAverage implements Serializable {
    private static final long serialVersionUID = 3L;

    // The folded prefix: partitions [0, folded) in order, or unmarked results in the order added.
    // Either the first one or two contributions as they are (single, second), or weighted double sums.
    private TrainingState single;
    private double singleWeight;
    private TrainingState second;
    private double secondWeight;
    private double[] weightedParameters;
    private double[] weightedOptimizerState;
    private double weight;
    private ReplicaStats stats = ReplicaStats.NONE;
    private final List<String> rejections = new ArrayList<>();
    private int folded;
    private int unmarked;
    // Marked results that arrived before a lower partition's.
    private final TreeMap<Integer, ReplicaResult> waiting = new TreeMap<>();
    private double combineSeconds;

    /** An average of nothing yet. */
    public static ParameterAverage empty() {
        return new ParameterAverage();
    }

    /** Adds one replica's result, weighted by the examples it trained on. Returns this. */
    public ParameterAverage add(ReplicaResult result) {
        long began = System.nanoTime();
        if (result.partition() < 0) {
            if (folded > 0 || !waiting.isEmpty()) {
                throw new IllegalStateException("cannot add an unmarked result to an average of marked partitions");
            }
            fold(result);
            unmarked++;
        } else {
            if (unmarked > 0) {
                throw new IllegalStateException("cannot add partition " + result.partition()
                        + "'s result to an average of unmarked results");
            }
            await(result);
            foldReady();
        }
        combineSeconds += Seconds.since(began);
        return this;
    }

    /**
     * Merges another partial average into this one. Returns the merged average: this, or {@code
     * other} when {@code other} holds the lower partitions.
     */
    public ParameterAverage merge(ParameterAverage other) {
        long began = System.nanoTime();
        double combinedSoFar = combineSeconds + other.combineSeconds;
        ParameterAverage merged;
        if (other.unmarked > 0 || unmarked > 0) {
            if (folded > 0 || !waiting.isEmpty() || other.folded > 0 || !other.waiting.isEmpty()) {
                throw new IllegalStateException("cannot merge averages of marked and unmarked results");
            }
            mergeUnordered(other);
            merged = this;
        } else {
            if (folded > 0 && other.folded > 0) {
                throw new IllegalStateException("both partial averages hold partition 0's result");
            }
            merged = other.folded > 0 ? other : this;
            ParameterAverage from = merged == this ? other : this;
            for (ReplicaResult result : from.waiting.values()) {
                merged.await(result);
            }
            merged.foldReady();
        }
        merged.combineSeconds = combinedSoFar + Seconds.since(began);
        return merged;
    }

    private void await(ReplicaResult result) {
        int partition = result.partition();
        if (partition < folded || waiting.putIfAbsent(partition, result) != null) {
            throw new IllegalStateException("partition " + partition + " contributed twice to one average");
        }
    }

    private void foldReady() {
        for (Map.Entry<Integer, ReplicaResult> first = waiting.firstEntry();
                first != null && first.getKey() == folded; first = waiting.firstEntry()) {
            fold(waiting.pollFirstEntry().getValue());
            folded++;
        }
    }

    private void fold(ReplicaResult result) {
        if (result.rejection() != null) {
            rejections.add((result.partition() < 0 ? "a replica" : "partition " + result.partition()) + ": "
                    + result.rejection());
            return;
        }
        stats = stats.plus(result.stats());
        TrainingState state = result.state();
        if (state == null || result.stats().examples() == 0) {
            return;
        }
        addWeighted(state, result.stats().examples());
    }

    private void mergeUnordered(ParameterAverage other) {
        stats = stats.plus(other.stats);
        rejections.addAll(other.rejections);
        unmarked += other.unmarked;
        if (other.second != null) {
            other.expand(); // its two contributions summed first, then added to this: the order they were added in
        }
        if (other.single != null) {
            addWeighted(other.single, other.weight);
        } else if (other.weightedParameters != null) {
            expand();
            if (weightedParameters == null) {
                weightedParameters = other.weightedParameters.clone();
                weightedOptimizerState = other.weightedOptimizerState.clone();
            } else {
                checkSameShape(other.weightedParameters.length, other.weightedOptimizerState.length);
                add(weightedParameters, other.weightedParameters);
                add(weightedOptimizerState, other.weightedOptimizerState);
            }
            weight += other.weight;
        }
    }

    /** Statistics of the accepted (not rejected) replicas. */
    public ReplicaStats stats() {
        return stats;
    }

    /** True when at least one replica contributed a state. */
    public boolean hasContributions() {
        return weight > 0;
    }

    /** Replica results folded in so far, rejected ones included: one per partition once a round is complete. */
    public int contributions() {
        return folded + unmarked;
    }

    /** Marked results still waiting for a lower partition's; 0 once a round is complete. */
    public int waiting() {
        return waiting.size();
    }

    /** Why replicas were rejected, in partition order, e.g. {@code "partition 1: the loss is NaN at step 3"}. */
    public List<String> rejections() {
        return List.copyOf(rejections);
    }

    /** Seconds spent adding and merging results, summed over wherever it happened. */
    public double combineSeconds() {
        return combineSeconds;
    }

    /** The averaged state with the given counters. */
    public TrainingState toState(int iteration, int epoch) {
        if (!waiting.isEmpty()) {
            throw new IllegalStateException("partitions " + waiting.keySet() + " arrived but partition " + folded
                    + " did not");
        }
        if (!hasContributions()) {
            throw new IllegalStateException("no replica contributed a state to this average");
        }
        if (single != null && second == null) {
            return single.withCounters(iteration, epoch);
        }
        if (second != null) {
            return averageOfTwo(iteration, epoch);
        }
        return new TrainingState(divide(weightedParameters, weight), divide(weightedOptimizerState, weight), iteration, epoch);
    }

    private void addWeighted(TrainingState state, double w) {
        if (weight == 0) {
            single = state;
            singleWeight = w;
            weight = w;
            return;
        }
        if (single != null && second == null) {
            if (state.parameterCount() != single.parameterCount()
                    || state.optimizerStateCount() != single.optimizerStateCount()) {
                throw new IllegalArgumentException("cannot average states of different shapes: "
                        + state.parameterCount() + "/" + state.optimizerStateCount() + " against "
                        + single.parameterCount() + "/" + single.optimizerStateCount());
            }
            second = state;
            secondWeight = w;
            weight += w;
            return;
        }
        expand();
        checkSameShape(state.parameterCount(), state.optimizerStateCount());
        for (int i = 0; i < weightedParameters.length; i++) {
            weightedParameters[i] += w * state.parameter(i);
        }
        for (int i = 0; i < weightedOptimizerState.length; i++) {
            weightedOptimizerState[i] += w * state.optimizerValue(i);
        }
        weight += w;
    }

    /** Which values of a state a loop reads: its parameters or its optimizer state. */
    @FunctionalInterface
    private interface Values {
        float get(TrainingState state, int i);
    }

    /**
     * The average of the two kept contributions, {@code (float) ((w0 x0 + w1 x1) / (w0 + w1))} per
     * value: what {@link #expand} and {@link #divide} compute, in one pass on all cores and without
     * the double sums (with two workers this runs once per round while the replicas wait).
     */
    private TrainingState averageOfTwo(int iteration, int epoch) {
        return new TrainingState(averageOfTwo(single.parameterCount(), TrainingState::parameter),
                averageOfTwo(single.optimizerStateCount(), TrainingState::optimizerValue), iteration, epoch);
    }

    private float[] averageOfTwo(int length, Values values) {
        TrainingState first = single;
        TrainingState next = second;
        double w0 = singleWeight;
        double w1 = secondWeight;
        double total = weight;
        float[] average = new float[length];
        ParallelLoops.forRange(length, (from, to) -> {
            for (int i = from; i < to; i++) {
                average[i] = (float) ((w0 * values.get(first, i) + w1 * values.get(next, i)) / total);
            }
        });
        return average;
    }

    /** Turns the kept contributions (one or two) into weighted double sums. */
    private void expand() {
        if (single == null) {
            return;
        }
        weightedParameters = weightedSums(single.parameterCount(), TrainingState::parameter);
        weightedOptimizerState = weightedSums(single.optimizerStateCount(), TrainingState::optimizerValue);
        single = null;
        second = null;
    }

    /** {@code w0 x0}, or {@code w0 x0 + w1 x1} with a second contribution, per value. */
    private double[] weightedSums(int length, Values values) {
        TrainingState first = single;
        TrainingState next = second;
        double w0 = singleWeight;
        double w1 = secondWeight;
        double[] sums = new double[length];
        ParallelLoops.forRange(length, (from, to) -> {
            for (int i = from; i < to; i++) {
                sums[i] = next == null ? w0 * values.get(first, i)
                        : w0 * values.get(first, i) + w1 * values.get(next, i);
            }
        });
        return sums;
    }

    private void checkSameShape(int parameters, int optimizerValues) {
        if (parameters != weightedParameters.length || optimizerValues != weightedOptimizerState.length) {
            throw new IllegalArgumentException("cannot average states of different shapes: " + parameters + "/"
                    + optimizerValues + " against " + weightedParameters.length + "/" + weightedOptimizerState.length);
        }
    }

    private static void add(double[] into, double[] values) {
        for (int i = 0; i < into.length; i++) {
            into[i] += values[i];
        }
    }

    private static float[] divide(double[] sums, double w) {
        float[] out = new float[sums.length];
        ParallelLoops.forRange(sums.length, (from, to) -> {
            for (int i = from; i < to; i++) {
                out[i] = (float) (sums[i] / w);
            }
        });
        return out;
    }
}
