package dptrain.replica;

import java.io.Serializable;

/**
 * A replica's contribution to one averaging round: the state it reached and what it did to reach
 * it. A replica whose partition had no minibatch left in the round contributes no state.
 */
public final class ReplicaResult implements Serializable {
    private static final long serialVersionUID = 1L;

    private final TrainingState state;
    private final ReplicaStats stats;

    ReplicaResult(TrainingState state, ReplicaStats stats) {
        this.state = state;
        this.stats = stats;
    }

    /** The state reached, or null when the replica trained on nothing this round. */
    TrainingState state() {
        return state;
    }

    public ReplicaStats stats() {
        return stats;
    }
}
