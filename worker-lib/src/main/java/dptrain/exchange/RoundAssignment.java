package dptrain.exchange;

/**
 * What the driver asks of every task in one round: train from the round's starting state (which
 * follows the assignment on the connection, see {@link RoundClient#receiveState}) on minibatches
 * {@code [firstBatch, firstBatch + minibatches)} of its partition, with dropout seeded by
 * {@code roundSeed + partition}.
 *
 * @param sequence   the round's number within the exchange (increasing, across epochs); results carry it
 * @param epoch      1-based epoch
 * @param round      1-based round within the epoch
 * @param firstBatch index of the round's first minibatch within the partition's epoch
 * @param minibatches minibatches per replica in the round
 * @param roundSeed  the round's dropout seed before the partition is added
 */
public record RoundAssignment(int sequence, int epoch, int round, int firstBatch, int minibatches, long roundSeed) {
}
