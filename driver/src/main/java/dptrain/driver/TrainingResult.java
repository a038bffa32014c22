package dptrain.driver;

import dptrain.replica.ReplicaStats;
import dptrain.replica.TrainingState;
import java.util.List;

/**
 * What a training run produced.
 *
 * @param finalState          the averaged state after the last epoch
 * @param epochs              one record per epoch
 * @param test                loss and accuracy on the test data, or null without test data
 * @param trainingExamples    examples in the training part
 * @param validationExamples  examples held out for validation
 */
public record TrainingResult(TrainingState finalState, List<EpochRecord> epochs, ReplicaStats test,
        long trainingExamples, long validationExamples) {
}
