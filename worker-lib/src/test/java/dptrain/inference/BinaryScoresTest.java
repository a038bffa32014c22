package dptrain.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dptrain.data.Example;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.spec.ModelSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A binary classifier's scores, row by row, and their evaluation at a threshold. */
class BinaryScoresTest {
    private static final int ROWS = 50;

    private static List<Example> examples() {
        List<Example> examples = new ArrayList<>();
        for (int r = 0; r < ROWS; r++) {
            examples.add(new Example(new float[] {(r * 7 % 11) / 5f - 1, (r * 3 % 13) / 6f - 1, r % 2}, r % 3 == 0 ? 1 : 0));
        }
        return examples;
    }

    private static InferenceModel model(String spec) {
        ModelSpec parsed = ModelSpec.parse(spec, "binary");
        MultiLayerNetwork net = new MultiLayerNetwork(parsed.configuration());
        net.init();
        return InferenceModel.of(net, parsed);
    }

    /** The examples in minibatches of 8 (the last one smaller), as a partition's iterator. */
    private static Iterator<Minibatch> batches(InferenceModel model) {
        return new MinibatchBuilder(8, 3, model.outputSize(), model.encoding(), 1f).batches(examples().iterator());
    }

    private static INDArray features() {
        float[] x = new float[ROWS * 3];
        List<Example> examples = examples();
        for (int r = 0; r < ROWS; r++) {
            System.arraycopy(examples.get(r).features(), 0, x, r * 3, 3);
        }
        return Nd4j.create(x, new long[] {ROWS, 3}, 'c');
    }

    private static List<BinaryScores.Scored> scores(InferenceModel model) {
        List<BinaryScores.Scored> scores = new ArrayList<>();
        BinaryScores.of(model, batches(model)).forEachRemaining(scores::add);
        return scores;
    }

    @Test
    void aSingleSigmoidUnitsScoreIsItsOutputInRowOrder() {
        InferenceModel model = model("input_shape: [3]\nlayers:\n  - dense: {units: 1, activation: sigmoid}\n"
                + "loss: binary_crossentropy\nseed: 3\n");
        List<BinaryScores.Scored> scores = scores(model);
        INDArray expected = model.network().output(features(), false);
        assertEquals(ROWS, scores.size());
        for (int r = 0; r < ROWS; r++) {
            assertEquals(expected.getFloat(r, 0), scores.get(r).score(), 1e-6f, "row " + r);
            assertEquals(r % 3 == 0 ? 1 : 0, scores.get(r).label(), "row " + r);
        }
    }

    @Test
    void twoOutputUnitsScoreWithTheSecondUnitClassOnesProbability() {
        InferenceModel model = model("input_shape: [3]\nlayers:\n  - dense: {units: 2, activation: softmax}\n"
                + "loss: categorical_crossentropy\nseed: 3\n");
        List<BinaryScores.Scored> scores = scores(model);
        INDArray expected = model.network().output(features(), false);
        for (int r = 0; r < ROWS; r++) {
            assertEquals(expected.getFloat(r, 1), scores.get(r).score(), 1e-6f, "row " + r);
        }
    }

    @Test
    void theScoresEvaluationAtAThresholdCountsAsTheWholeOutputsEvaluationDoes() {
        InferenceModel model = model("input_shape: [3]\nlayers:\n  - dense: {units: 2, activation: softmax}\n"
                + "loss: categorical_crossentropy\nseed: 5\n");
        List<BinaryScores.Scored> scores = scores(model);
        float median = scores.stream().map(BinaryScores.Scored::score).sorted().toList().get(ROWS / 2);
        for (double threshold : new double[] {0.5, median, 0.0, 1.0}) {
            Evaluation fromScores = BinaryScores.evaluation(scores.iterator(), threshold);
            Evaluation fromOutputs = PartitionEvaluation.of(model, batches(model), 1, threshold).evaluation();
            for (int t = 0; t < 2; t++) {
                for (int p = 0; p < 2; p++) {
                    assertEquals(fromOutputs.getConfusionMatrix().getCount(t, p),
                            fromScores.getConfusionMatrix().getCount(t, p), "threshold " + threshold + " [" + t + "][" + p + "]");
                }
            }
            assertEquals(ROWS, fromScores.getNumRowCounter());
        }
        Evaluation atMedian = BinaryScores.evaluation(scores.iterator(), median);
        assertEquals(ROWS / 2 - 1, atMedian.getConfusionMatrix().getPredictedTotal(1),
                "rows scored above the median of 50 distinct scores");
    }

    @Test
    void modelsOfMoreThanTwoUnitsHaveNoBinaryScore() {
        assertEquals(0, BinaryScores.scoreColumn(1));
        assertEquals(1, BinaryScores.scoreColumn(2));
        assertThrows(IllegalArgumentException.class, () -> BinaryScores.scoreColumn(3));
    }
}
