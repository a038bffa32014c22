package dptrain.spec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Keras's huber loss, which dptrain adds to DL4J's: values, gradient, and the trip through configuration JSON. */
class LossHuberTest {
    private final LossHuber huber = new LossHuber();
    // Errors (output - label): 0.5 (quadratic), -2 (linear), 3 (linear), 0 — over two rows of two outputs.
    private final INDArray labels = Nd4j.createFromArray(new float[][] {{1f, 2f}, {-1f, 4f}});
    private final INDArray outputs = Nd4j.createFromArray(new float[][] {{1.5f, 0f}, {2f, 4f}});

    @Test
    void isQuadraticInsideDeltaAndLinearBeyondItAveragedOverTheOutputs() {
        // Per value: 0.5·0.25 = 0.125; 1·(2 - 0.5) = 1.5; 1·(3 - 0.5) = 2.5; 0. Rows: (0.125 + 1.5) / 2, 2.5 / 2.
        INDArray perRow = huber.computeScoreArray(labels, outputs, new ActivationIdentity(), null);
        assertArrayEquals(new float[] {0.8125f, 1.25f}, perRow.data().asFloat(), 1e-6f);
        assertEquals((0.8125 + 1.25) / 2, huber.computeScore(labels, outputs, new ActivationIdentity(), null, true),
                1e-6);
    }

    @Test
    void itsGradientIsTheErrorClippedToDeltaOverTheOutputCount() {
        INDArray gradient = huber.computeGradient(labels, outputs, new ActivationIdentity(), null);
        assertArrayEquals(new float[] {0.25f, -0.5f, 0.5f, 0f}, gradient.data().asFloat(), 1e-6f);
    }

    @Test
    void survivesTheConfigurationJsonThatExecutorsRebuildNetworksFrom() {
        ModelSpec spec = Specs.parse(Specs.book("loss: categorical_crossentropy", "loss: huber")
                .replace("metrics: [accuracy]", "metrics: [mae]").replace("activation: softmax", "activation: linear"));
        MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(spec.configurationJson());
        OutputLayer output = (OutputLayer) conf.getConf(1).getLayer();
        assertInstanceOf(LossHuber.class, output.getLossFn());
        assertEquals(LossHuber.DEFAULT_DELTA, ((LossHuber) output.getLossFn()).getDelta());
        assertEquals("huber", spec.lossName());
    }
}
