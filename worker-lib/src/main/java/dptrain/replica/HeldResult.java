package dptrain.replica;

import java.io.DataOutputStream;
import java.io.IOException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A round trained by {@link ReplicaTrainer#trainHeldState}: its statistics, and the reached state
 * still in the replica's network rather than copied into a {@link TrainingState}. A long-lived task
 * writes it to the driver as a {@link ReplicaResult} (the same bytes) straight from the network's
 * memory. Valid until the replica's next round.
 */
public final class HeldResult {
    private final MultiLayerNetwork net;
    private final ReplicaStats stats;
    private final boolean hasState;
    private final String rejection;

    HeldResult(MultiLayerNetwork net, ReplicaStats stats, boolean hasState, String rejection) {
        this.net = net;
        this.stats = stats;
        this.hasState = hasState;
        this.rejection = rejection;
    }

    public ReplicaStats stats() {
        return stats;
    }

    /**
     * Writes this round as partition {@code partition}'s {@link ReplicaResult}, for
     * {@link ReplicaResult#readFrom}: with the reached state unless the replica trained on nothing
     * or was rejected.
     */
    public void writeTo(DataOutputStream out, int partition) throws IOException {
        if (partition < 0) {
            throw new IllegalArgumentException("partition index must be >= 0, got " + partition);
        }
        ReplicaResult.writeHead(out, partition, stats, rejection, hasState);
        if (hasState) {
            TrainingState.writeFrom(net, out);
        }
    }
}
