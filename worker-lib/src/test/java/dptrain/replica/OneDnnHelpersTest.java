package dptrain.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.data.Example;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

/** The oneDNN path as the build ships it: nd4j-native's oneDNN libraries are on the classpath and load. */
class OneDnnHelpersTest {
    private static final ModelSpec SPEC = ModelSpec.parse("""
            input_shape: [12, 12, 1]
            layers:
              - conv2d: {filters: 4, kernel_size: 3, activation: relu}
              - max_pooling2d: {pool_size: 2}
              - flatten:
              - dense: {units: 3, activation: softmax}
            loss: categorical_crossentropy
            seed: 4
            """, "small-convnet");

    @Test
    void theShippedLibrariesHaveOneDnnAndConvolutionAndPoolingLayersGetItsHelpers() {
        assertTrue(OneDnnHelpers.available(), "nd4j-native's linux-x86_64-onednn libraries must load");
        MultiLayerNetwork net = new MultiLayerNetwork(SPEC.configuration());
        net.init();
        assertNull(net.getLayer(0).getHelper(), "DL4J M2.1 never sets one itself");
        assertEquals(2, OneDnnHelpers.attach(net));
        assertInstanceOf(MKLDNNConvHelper.class, net.getLayer(0).getHelper());
        assertInstanceOf(MKLDNNSubsamplingHelper.class, net.getLayer(1).getHelper());
        assertNull(net.getLayer(2).getHelper(), "dense layers keep DL4J's own code");
        assertEquals(0, OneDnnHelpers.attach(net), "a layer that has a helper keeps it");
    }

    @Test
    void channelsLastLayersKeepDl4jsOwnCode() {
        org.deeplearning4j.nn.conf.MultiLayerConfiguration conf = new org.deeplearning4j.nn.conf.NeuralNetConfiguration
                .Builder().seed(1).list()
                .layer(new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(3, 3).nOut(4)
                        .dataFormat(org.deeplearning4j.nn.conf.CNN2DFormat.NHWC).build())
                .layer(new org.deeplearning4j.nn.conf.layers.SubsamplingLayer.Builder(2, 2)
                        .dataFormat(org.deeplearning4j.nn.conf.CNN2DFormat.NHWC).build())
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nOut(3)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
                .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(12, 12, 1,
                        org.deeplearning4j.nn.conf.CNN2DFormat.NHWC))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        assertEquals(0, OneDnnHelpers.attach(net), "NHWC layers get no oneDNN helper");
        assertNull(net.getLayer(0).getHelper());
    }

    @Test
    void aConvnetReplicaTrainsAsDl4jFitWithTheSameHelpersBitForBitAndLearns() {
        List<Minibatch> data = batches();
        MultiLayerNetwork plain = new MultiLayerNetwork(SPEC.configuration());
        plain.init();
        OneDnnHelpers.attach(plain);
        TrainingState start = TrainingState.of(plain);
        ReplicaTrainer replica = new ReplicaTrainer(SPEC);
        ReplicaResult first = null;
        TrainingState state = start;
        for (int epoch = 0; epoch < 8; epoch++) {
            ReplicaResult result = replica.train(state, data.iterator(), Integer.MAX_VALUE, epoch);
            first = first == null ? result : first;
            state = result.state();
            for (Minibatch b : data) {
                plain.fit(b.featuresArray(), b.targetsArray());
            }
            assertArrayEquals(plain.params().toFloatVector(), state.copyParameters(), "epoch " + (epoch + 1));
        }
        ReplicaResult last = replica.train(state, data.iterator(), Integer.MAX_VALUE, 8);
        double firstAccuracy = first.stats().accuracy();
        assertTrue(last.stats().accuracy() > 0.9 && last.stats().accuracy() > firstAccuracy,
                "accuracy " + firstAccuracy + " then " + last.stats().accuracy());
    }

    /** Three classes: a bright 4x4 square in the top-left, top-right or bottom-middle of a noisy 12x12 image. */
    private static List<Minibatch> batches() {
        Random random = new Random(7);
        List<Example> examples = new ArrayList<>();
        int[][] corners = {{0, 0}, {0, 8}, {8, 4}};
        for (int i = 0; i < 96; i++) {
            int label = i % 3;
            float[] x = new float[144];
            for (int p = 0; p < 144; p++) {
                x[p] = random.nextFloat() * 0.3f;
            }
            for (int r = 0; r < 4; r++) {
                for (int c = 0; c < 4; c++) {
                    x[(corners[label][0] + r) * 12 + corners[label][1] + c] += 1f;
                }
            }
            examples.add(new Example(x, label));
        }
        List<Minibatch> batches = new ArrayList<>();
        new MinibatchBuilder(16, 144, 3, SPEC.targetEncoding(), 1f).batches(examples.iterator())
                .forEachRemaining(batches::add);
        return batches;
    }
}
