package dptrain.driver.rounds;

import dptrain.replica.TrainingState;

/**
 * What training has learned after a round: the state the next round starts from and, under block
 * momentum, the filter's state. Either in the driver's hands, or held by the replicas that averaged
 * it among themselves ({@link PeerRounds}) and fetched from them the first time it is asked for.
 */
public interface LearnedState {
    /** The state the next round starts from. */
    TrainingState state();

    /** Block momentum's state, or null without block momentum. */
    BlockMomentum.Filter filter();

    /** A state and filter in the driver's hands. */
    static LearnedState here(TrainingState state, BlockMomentum.Filter filter) {
        return new Here(state, filter);
    }

    /** In the driver's hands. */
    record Here(TrainingState state, BlockMomentum.Filter filter) implements LearnedState {
    }
}
