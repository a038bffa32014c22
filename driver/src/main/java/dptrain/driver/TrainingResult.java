package dptrain.driver;

import dptrain.data.FeatureNormalizer;
import dptrain.driver.inference.BinaryMetrics;
import dptrain.driver.inference.ConfusionMatrix;
import dptrain.driver.inference.RegressionEvaluation;
import dptrain.driver.input.ValidationReport;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.replica.ReplicaStats;
import dptrain.replica.TrainingState;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What a training run produced.
 *
 * @param finalState          the averaged state after the last epoch (the best epoch's under --restore-best)
 * @param normalizer          the normalization fitted on the training data, empty for none
 * @param epochs              one record per epoch
 * @param rounds              one record per averaging round, in order
 * @param test                the final model on the test data, empty without test data
 * @param trainingExamples    examples in the training part
 * @param validationExamples  examples held out for validation
 * @param trainingData        what reading the training data found (skipped bad records)
 */
public record TrainingResult(TrainingState finalState, Optional<FeatureNormalizer> normalizer, List<EpochRecord> epochs,
        List<RoundRecord> rounds, Optional<TestOutcome> test, long trainingExamples, long validationExamples,
        ValidationReport trainingData) {

    /**
     * The final model on the test data, evaluated once after training.
     *
     * @param stats     loss and what the outputs scored
     * @param metrics   the model's metrics by Keras name ({@code accuracy}, or {@code mae}, ...), in its order
     * @param confusion per-class counts (rows true classes, columns predicted), empty for a regression
     * @param regression a regression model's errors, R², residuals and predicted-against-actual sample, empty for a
     *                   classifier
     * @param data      what reading the test data found (skipped bad records)
     * @param binary    for a binary classifier, its metrics at the default threshold; empty otherwise
     */
    public record TestOutcome(ReplicaStats stats, Map<String, Double> metrics, Optional<ConfusionMatrix> confusion,
            Optional<RegressionEvaluation> regression, ValidationReport data, Optional<BinaryMetrics> binary) {

        /** E.g. {@code Test - loss: 0.3512 - accuracy: 0.8734 (10000 examples)}. */
        public String line() {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "Test - loss: %.4f", stats.meanLoss()));
            metrics.forEach((name, value) -> line.append(String.format(Locale.ROOT, " - %s: %.4f", name, value)));
            return line.append(" (").append(stats.examples()).append(" examples)").toString();
        }
    }
}
