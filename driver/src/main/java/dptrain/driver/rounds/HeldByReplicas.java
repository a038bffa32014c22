package dptrain.driver.rounds;

import dptrain.replica.TrainingState;

/**
 * A learned state that the replicas averaging among themselves hold ({@link PeerRounds}): round
 * {@code sequence}'s, held by epoch job {@code job}'s tasks. Fetched from them, each task its
 * chunk, the first time it is asked for, and kept.
 */
final class HeldByReplicas implements LearnedState {
    private final PeerRounds rounds;
    private final int sequence;
    private final int job;
    private LearnedState fetched;

    HeldByReplicas(PeerRounds rounds, int sequence, int job) {
        this.rounds = rounds;
        this.sequence = sequence;
        this.job = job;
    }

    /** True when it is the state {@code rounds}' tasks in job {@code currentJob} hold now, after round {@code latest}. */
    boolean isLatest(PeerRounds current, int currentJob, int latest) {
        return rounds == current && job == currentJob && sequence == latest;
    }

    private synchronized LearnedState fetched() {
        if (fetched == null) {
            fetched = rounds.fetchHeld(sequence, job);
        }
        return fetched;
    }

    @Override
    public TrainingState state() {
        return fetched().state();
    }

    @Override
    public BlockMomentum.Filter filter() {
        return fetched().filter();
    }
}
