package dptrain.replica;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;

/**
 * A replica's contribution to one averaging round: the state it reached and what it did to reach
 * it. A replica whose partition had no minibatch left in the round contributes no state; a replica
 * whose loss or parameters stopped being finite is rejected and contributes no state either.
 */
public final class ReplicaResult implements Serializable {
    private static final long serialVersionUID = 2L;

    private final TrainingState state;
    private final ReplicaStats stats;
    private final int partition;
    private final String rejection;

    ReplicaResult(TrainingState state, ReplicaStats stats) {
        this(state, stats, -1, null);
    }

    private ReplicaResult(TrainingState state, ReplicaStats stats, int partition, String rejection) {
        this.state = state;
        this.stats = stats;
        this.partition = partition;
        this.rejection = rejection;
    }

    /** A replica that diverged: why (e.g. "the loss is NaN at step 17"), with the statistics it gathered. */
    static ReplicaResult rejected(String why, ReplicaStats stats) {
        return new ReplicaResult(null, stats, -1, why);
    }

    /** This result, marked as partition {@code index}'s: averaging combines results in partition order. */
    public ReplicaResult forPartition(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("partition index must be >= 0, got " + index);
        }
        return new ReplicaResult(state, stats, index, rejection);
    }

    /** The state reached, or null when the replica trained on nothing this round or was rejected. */
    TrainingState state() {
        return state;
    }

    public ReplicaStats stats() {
        return stats;
    }

    /** The partition this result came from, or -1 when not yet marked. */
    public int partition() {
        return partition;
    }

    /** Writes this result to {@code out} for {@link #readFrom}. */
    public void writeTo(DataOutputStream out) throws IOException {
        writeHead(out, partition, stats, rejection, state != null);
        if (state != null) {
            state.writeTo(out);
        }
    }

    /**
     * Writes what precedes the state in {@link #writeTo}'s format; when {@code stateFollows}, the
     * caller then writes the state in {@link TrainingState#writeTo}'s format.
     */
    static void writeHead(DataOutputStream out, int partition, ReplicaStats stats, String rejection,
            boolean stateFollows) throws IOException {
        out.writeInt(partition);
        out.writeLong(stats.examples());
        out.writeLong(stats.steps());
        out.writeLong(stats.maxStepsPerReplica());
        out.writeDouble(stats.lossSum());
        out.writeLong(stats.correct());
        out.writeDouble(stats.absoluteErrors());
        out.writeDouble(stats.squaredErrors());
        out.writeDouble(stats.computeSeconds());
        out.writeDouble(stats.maxComputeSeconds());
        out.writeBoolean(rejection != null);
        if (rejection != null) {
            out.writeUTF(rejection);
        }
        out.writeBoolean(stateFollows);
    }

    /** Reads a result written by {@link #writeTo}. */
    public static ReplicaResult readFrom(DataInputStream in) throws IOException {
        int partition = in.readInt();
        ReplicaStats stats = new ReplicaStats(in.readLong(), in.readLong(), in.readLong(), in.readDouble(),
                in.readLong(), in.readDouble(), in.readDouble(), in.readDouble(), in.readDouble());
        String rejection = in.readBoolean() ? in.readUTF() : null;
        TrainingState state = in.readBoolean() ? TrainingState.readFrom(in) : null;
        return new ReplicaResult(state, stats, partition, rejection);
    }

    /** Why the replica was rejected, or null when it was not. */
    public String rejection() {
        return rejection;
    }
}
