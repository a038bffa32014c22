package dptrain.driver;

import dptrain.data.FeatureNormalizer;
import dptrain.driver.input.ValidationReport;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.replica.ReplicaStats;
import dptrain.replica.TrainingState;
import java.util.List;

/**
 * What a training run produced.
 *
 * @param finalState          the averaged state after the last epoch
 * @param normalizer          the normalization fitted on the training data, or null for none
 * @param epochs              one record per epoch
 * @param rounds              one record per averaging round, in order
 * @param test                loss and accuracy on the test data, or null without test data
 * @param trainingExamples    examples in the training part
 * @param validationExamples  examples held out for validation
 * @param trainingData        what reading the training data found (skipped bad records)
 * @param testData            what reading the test data found, or null without test data
 */
public record TrainingResult(TrainingState finalState, FeatureNormalizer normalizer, List<EpochRecord> epochs,
        List<RoundRecord> rounds, ReplicaStats test,
        long trainingExamples, long validationExamples, ValidationReport trainingData, ValidationReport testData) {
}
