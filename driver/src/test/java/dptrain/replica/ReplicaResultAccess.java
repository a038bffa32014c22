package dptrain.replica;

/** Lets driver tests build replica results the way a replica does (the constructor is package-private). */
public final class ReplicaResultAccess {
    private ReplicaResultAccess() {
    }

    public static ReplicaResult of(TrainingState state, ReplicaStats stats) {
        return new ReplicaResult(state, stats);
    }

    public static TrainingState state(ReplicaResult result) {
        return result.state();
    }
}
