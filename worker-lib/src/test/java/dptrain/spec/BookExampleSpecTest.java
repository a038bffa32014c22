package dptrain.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInitXavierUniform;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/** The MNIST network of Chollet's chapter 2, read from src/examples/mnist-mlp.yaml. */
class BookExampleSpecTest {

    private static ModelSpec spec;
    private static MultiLayerConfiguration conf;

    @BeforeAll
    static void readExample() {
        spec = ModelSpec.read(Specs.bookExampleFile());
        conf = spec.configuration();
    }

    @Test
    void hiddenLayerIs512ReluUnitsOn784Inputs() {
        DenseLayer hidden = assertInstanceOf(DenseLayer.class, conf.getConf(0).getLayer());
        assertEquals(784, hidden.getNIn());
        assertEquals(512, hidden.getNOut());
        assertInstanceOf(ActivationReLU.class, hidden.getActivationFn());
    }

    @Test
    void outputLayerIs10SoftmaxUnitsWithMulticlassCrossEntropy() {
        assertEquals(2, conf.getConfs().size());
        OutputLayer output = assertInstanceOf(OutputLayer.class, conf.getConf(1).getLayer());
        assertEquals(512, output.getNIn());
        assertEquals(10, output.getNOut());
        assertInstanceOf(ActivationSoftmax.class, output.getActivationFn());
        assertEquals(LossMCXENT.class, output.getLossFn().getClass());
    }

    @Test
    void everyLayerUsesRmsPropWithKerasSettings() {
        for (int i = 0; i < 2; i++) {
            RmsProp rmsProp = assertInstanceOf(RmsProp.class,
                    ((BaseLayer) conf.getConf(i).getLayer()).getIUpdater());
            assertEquals(0.001, rmsProp.getLearningRate());
            assertEquals(0.9, rmsProp.getRmsDecay());
            assertEquals(1e-7, rmsProp.getEpsilon());
        }
    }

    @Test
    void weightsAreXavierUniformAndBiasesZero() {
        for (int i = 0; i < 2; i++) {
            BaseLayer layer = (BaseLayer) conf.getConf(i).getLayer();
            assertInstanceOf(WeightInitXavierUniform.class, layer.getWeightInitFn());
            assertEquals(0.0, layer.getBiasInit());
        }
    }

    @Test
    void seedAndFactsComeFromTheSpec() {
        assertEquals(12345L, spec.seed());
        assertEquals(12345L, conf.getConf(0).getSeed());
        assertEquals(784, spec.inputSize());
        assertEquals(10, spec.outputSize());
        assertEquals("categorical_crossentropy", spec.lossName());
        assertEquals(TargetEncoding.ONE_HOT, spec.targetEncoding());
        assertEquals(List.of("accuracy"), spec.metrics());
        assertEquals(Specs.bookExampleFile().toString(), spec.source());
    }

    @Test
    void networkInitializesWith407050Parameters() {
        MultiLayerNetwork network = new MultiLayerNetwork(spec.configuration());
        network.init();
        assertEquals(784 * 512 + 512 + 512 * 10 + 10, network.numParams());
        assertEquals(407_050L, spec.parameterCount());
    }

    @Test
    void describeListsEveryChoiceWithDefaultsApplied() {
        Map<String, Object> description = spec.describe();
        assertEquals(List.of("source", "format", "input_shape", "input_size", "layers", "optimizer", "loss",
                "metrics", "seed", "kernel_initializer", "normalization", "bias_initializer", "output_size", "target_encoding",
                "parameter_count", "engine", "engine_used"), List.copyOf(description.keySet()));
        assertEquals("auto", description.get("engine"));
        assertEquals("dense", description.get("engine_used"), "the book network is a plain dense stack");
        assertEquals(List.of(784), description.get("input_shape"));
        assertEquals(Map.of("name", "rmsprop", "learning_rate", 0.001, "rho", 0.9, "epsilon", 1e-7),
                description.get("optimizer"));
        assertEquals(Map.of("type", "dense", "units", 512, "activation", "relu", "l2", 0.0,
                "kernel_initializer", "glorot_uniform", "bias_initializer", "zeros"),
                ((List<?>) description.get("layers")).get(0));
        assertEquals("glorot_uniform", description.get("kernel_initializer"));
        assertEquals(12345L, description.get("seed"));
        assertEquals(407_050L, description.get("parameter_count"));
    }

    @Test
    void twoDimensionalInputShapeIsFlattened() {
        ModelSpec flattened = Specs.parse(Specs.book("input_shape: [784]", "input_shape: [28, 28]"));
        assertEquals(784, flattened.inputSize());
        assertEquals(List.of(28, 28), flattened.describe().get("input_shape"));
        assertEquals(spec.configurationJson(), flattened.configurationJson());
    }
}
