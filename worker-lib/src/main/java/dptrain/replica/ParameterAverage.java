package dptrain.replica;

import java.io.Serializable;

/**
 * The example-weighted average of replica states, built by adding replica results and merging
 * partial averages (the shape {@code treeAggregate} needs).
 *
 * <p>The empty average is tiny, so it can be a task's zero value without shipping a
 * parameter-sized array in every closure. A single contribution is kept as it is (floats); sums
 * of two or more are held in doubles, so one replica's average is bit-identical to its state.
 */
public final class ParameterAverage implements Serializable {
    private static final long serialVersionUID = 1L;

    private TrainingState single;
    private double[] weightedParameters;
    private double[] weightedOptimizerState;
    private double weight;
    private ReplicaStats stats = ReplicaStats.NONE;

    /** An average of nothing yet. */
    public static ParameterAverage empty() {
        return new ParameterAverage();
    }

    /** Adds one replica's result, weighted by the examples it trained on. Returns this. */
    public ParameterAverage add(ReplicaResult result) {
        stats = stats.plus(result.stats());
        TrainingState state = result.state();
        if (state == null || result.stats().examples() == 0) {
            return this;
        }
        addWeighted(state, result.stats().examples());
        return this;
    }

    /** Merges another partial average into this one. Returns this. */
    public ParameterAverage merge(ParameterAverage other) {
        stats = stats.plus(other.stats);
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
        return this;
    }

    public ReplicaStats stats() {
        return stats;
    }

    /** True when at least one replica contributed a state. */
    public boolean hasContributions() {
        return weight > 0;
    }

    /** The averaged state with the given counters. */
    public TrainingState toState(int iteration, int epoch) {
        if (!hasContributions()) {
            throw new IllegalStateException("no replica contributed a state to this average");
        }
        if (single != null) {
            return single.withCounters(iteration, epoch);
        }
        return new TrainingState(divide(weightedParameters, weight), divide(weightedOptimizerState, weight), iteration, epoch);
    }

    private void addWeighted(TrainingState state, double w) {
        if (weight == 0) {
            single = state;
            weight = w;
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

    /** Turns a kept single contribution into weighted double sums. */
    private void expand() {
        if (single == null) {
            return;
        }
        weightedParameters = new double[single.parameterCount()];
        for (int i = 0; i < weightedParameters.length; i++) {
            weightedParameters[i] = weight * single.parameter(i);
        }
        weightedOptimizerState = new double[single.optimizerStateCount()];
        for (int i = 0; i < weightedOptimizerState.length; i++) {
            weightedOptimizerState[i] = weight * single.optimizerValue(i);
        }
        single = null;
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
        for (int i = 0; i < sums.length; i++) {
            out[i] = (float) (sums[i] / w);
        }
        return out;
    }
}
