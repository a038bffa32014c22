package dptrain.driver.rounds;

import dptrain.exchange.RoundAssignment;
import dptrain.replica.TrainingState;

/** A round under way: its assignment and starting state, encoded for TCP connections once, when first needed. */
final class PendingRound {
    final RoundAssignment assignment;
    final TrainingState start;
    private byte[] encoded;

    PendingRound(RoundAssignment assignment, TrainingState start) {
        this.assignment = assignment;
        this.start = start;
    }

    synchronized byte[] encoded() {
        if (encoded == null) {
            encoded = start.encode();
        }
        return encoded;
    }
}
