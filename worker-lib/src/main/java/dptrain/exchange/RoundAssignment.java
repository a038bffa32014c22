package dptrain.exchange;

import dptrain.replica.TrainingState;

/**
 * What the driver asks of every task in one round: train from {@code start} on minibatches
 * {@code [firstBatch, firstBatch + count)} of its partition, with dropout seeded by
 * {@code roundSeed + partition}.
 *
 * @param sequence   the round's number within the exchange (increasing, across epochs); results carry it
 * @param epoch      1-based epoch
 * @param round      1-based round within the epoch
 * @param firstBatch index of the round's first minibatch within the partition's epoch
 * @param count      minibatches per replica in the round
 * @param roundSeed  the round's dropout seed before the partition is added
 * @param start      the state every replica starts the round from
 */
public record RoundAssignment(int sequence, int epoch, int round, int firstBatch, int count, long roundSeed,
        TrainingState start) {
}
