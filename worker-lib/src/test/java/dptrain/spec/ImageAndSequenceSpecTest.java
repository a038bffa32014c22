package dptrain.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Convolution, pooling, embedding and recurrent layers in Keras-terms specs and DL4J configurations. */
class ImageAndSequenceSpecTest {

    private static String convnetText() throws Exception {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("src/examples/mnist-convnet.yaml");
            if (Files.isRegularFile(candidate)) {
                return Files.readString(candidate);
            }
        }
        throw new IllegalStateException("src/examples/mnist-convnet.yaml not found");
    }

    @Test
    void theBookConvnetHasKerasParameterCountAndReadsFlatImageRows() throws Exception {
        ModelSpec spec = ModelSpec.parse(convnetText(), "mnist-convnet.yaml");
        assertEquals(93_322, spec.parameterCount(), "Keras's model.summary() of the book's convnet");
        assertEquals(784, spec.inputSize());
        assertEquals(10, spec.outputSize());
        MultiLayerConfiguration conf = spec.configuration();
        assertEquals(7, conf.getConfs().size(), "flatten is no DL4J layer");
        FeedForwardToCnnPreProcessor reshape = assertInstanceOf(FeedForwardToCnnPreProcessor.class,
                conf.getInputPreProcess(0));
        assertEquals(List.of(28L, 28L, 1L), List.of(reshape.getInputHeight(), reshape.getInputWidth(),
                reshape.getNumChannels()));
        ConvolutionLayer conv = assertInstanceOf(ConvolutionLayer.class, conf.getConf(0).getLayer());
        assertEquals(ConvolutionMode.Truncate, conv.getConvolutionMode(), "Keras's padding: valid");
        assertEquals(32, conv.getNOut());
        SubsamplingLayer pool = assertInstanceOf(SubsamplingLayer.class, conf.getConf(1).getLayer());
        assertEquals(List.of(2, 2), List.of(pool.getStride()[0], pool.getStride()[1]), "strides default to pool_size");
        assertInstanceOf(CnnToFeedForwardPreProcessor.class, conf.getInputPreProcess(5));
        assertEquals(576, ((DenseLayer) conf.getConf(5).getLayer()).getNIn(), "3 x 3 x 64 after the last conv2d");
        assertFalse(spec.denseStackSupport().supported());
        assertEquals(Engine.DL4J, spec.resolvedEngine());

        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray out = net.output(Nd4j.rand(DataType.FLOAT, 3, 784));
        assertEquals(List.of(3L, 10L), List.of(out.size(0), out.size(1)), "flat rows in, one row of scores out");
    }

    @Test
    void describeRecordsEachImageLayerWithKerasDefaults() throws Exception {
        ModelSpec spec = ModelSpec.parse(convnetText(), "mnist-convnet.yaml");
        assertEquals(List.of(28, 28, 1), spec.describe().get("input_shape"));
        List<?> layers = (List<?>) spec.describe().get("layers");
        assertEquals(Map.of("type", "conv2d", "filters", 32, "kernel_size", List.of(3, 3), "strides", List.of(1, 1),
                "padding", "valid", "activation", "relu", "l2", 0.0, "kernel_initializer", "glorot_uniform",
                "bias_initializer", "zeros"), layers.get(0));
        assertEquals(Map.of("type", "max_pooling2d", "pool_size", List.of(2, 2), "strides", List.of(2, 2),
                "padding", "valid"), layers.get(1));
        assertEquals(Map.of("type", "flatten"), layers.get(5));
    }

    @Test
    void samePaddingAndStridesGiveKerasOutputSizes() {
        ModelSpec spec = Specs.parse(String.join("\n",
                "input_shape: [28, 28, 1]",
                "layers:",
                "  - conv2d: {filters: 4, kernel_size: [3, 5], strides: 2, padding: same}", // 14 x 14
                "  - average_pooling2d: {pool_size: 3, strides: 2, padding: same}",        // 7 x 7
                "  - batch_normalization: {momentum: 0.9}",
                "  - flatten:",
                "  - dense: {units: 3, activation: softmax}",
                "loss: categorical_crossentropy"));
        MultiLayerConfiguration conf = spec.configuration();
        assertEquals(7 * 7 * 4, ((OutputLayer) conf.getConf(3).getLayer()).getNIn());
        org.deeplearning4j.nn.conf.layers.BatchNormalization batchNorm =
                (org.deeplearning4j.nn.conf.layers.BatchNormalization) conf.getConf(2).getLayer();
        assertEquals(0.9, batchNorm.getDecay(), "Keras's momentum is DL4J's decay");
        assertEquals(0.001, batchNorm.getEps(), "Keras's default epsilon");
        assertEquals(4, batchNorm.getNOut(), "normalized per channel of the image");
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        assertEquals(3, net.output(Nd4j.rand(DataType.FLOAT, 2, 784)).size(1));
    }

    @Test
    void batchNormalizationAfterFlattenNormalizesEachFeatureAsKerasDoes() {
        ModelSpec spec = Specs.parse(String.join("\n",
                "input_shape: [4, 4, 2]",
                "layers:",
                "  - conv2d: {filters: 3, kernel_size: 2}",
                "  - flatten:",
                "  - batch_normalization:",
                "  - dense: {units: 2, activation: softmax}",
                "loss: categorical_crossentropy"));
        MultiLayerConfiguration conf = spec.configuration();
        assertEquals(3 * 3 * 3, ((org.deeplearning4j.nn.conf.layers.BatchNormalization) conf.getConf(1).getLayer())
                .getNOut());
        assertInstanceOf(CnnToFeedForwardPreProcessor.class, conf.getInputPreProcess(1));
    }

    /** Value of pixel (h, w) in channel c of the hand-made 2 x 2 x 2 image: each position says where it is. */
    private static float pixel(int h, int w, int c) {
        return 100 * h + 10 * w + c + 1;
    }

    @Test
    void aFlatRowInKerasChannelsLastOrderReachesTheConvolutionAsTheSameImage() {
        ModelSpec spec = Specs.parse(String.join("\n",
                "input_shape: [2, 2, 2]",
                "layers:",
                "  - conv2d: {filters: 1, kernel_size: 1}",
                "  - flatten:",
                "  - dense: {units: 2, activation: softmax}",
                "loss: categorical_crossentropy"));
        assertEquals(8, spec.inputSize());
        MultiLayerConfiguration conf = spec.configuration();
        assertEquals(new ChannelsLastRowsPreProcessor(new long[] {2, 2, 2}), conf.getInputPreProcess(0));
        assertEquals(conf, MultiLayerConfiguration.fromJson(conf.toJson()), "the preprocessor survives DL4J JSON");
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        // A 1 x 1 convolution that passes channel 1 through and drops channel 0.
        INDArray weights = net.getLayer(0).getParam("W");
        weights.assign(0);
        weights.putScalar(new long[] {0, 1, 0, 0}, 1f);
        net.getLayer(0).getParam("b").assign(0);
        float[] row = new float[8];
        int i = 0;
        for (int h = 0; h < 2; h++) {
            for (int w = 0; w < 2; w++) {
                for (int c = 0; c < 2; c++) {
                    row[i++] = pixel(h, w, c); // Keras's (height, width, channels) order, row-major
                }
            }
        }
        INDArray convolved = net.feedForward(Nd4j.createFromArray(new float[][] {row}), false).get(1);
        for (int h = 0; h < 2; h++) {
            for (int w = 0; w < 2; w++) {
                assertEquals(pixel(h, w, 1), convolved.getFloat(0, 0, h, w), "pixel (" + h + ", " + w + ")");
            }
        }
    }

    @Test
    void theReshapeOfRowsIsUndoneExactlyInBackprop() {
        ChannelsLastRowsPreProcessor sequence = new ChannelsLastRowsPreProcessor(new long[] {3, 2});
        INDArray rows = Nd4j.createFromArray(new float[][] {{0, 1, 10, 11, 20, 21}, {5, 6, 7, 8, 9, 10}});
        INDArray steps = sequence.preProcess(rows, 2, LayerWorkspaceMgr.noWorkspaces());
        assertEquals(List.of(2L, 2L, 3L), List.of(steps.size(0), steps.size(1), steps.size(2)), "NCW");
        assertEquals(21f, steps.getFloat(0, 1, 2), "feature 1 of step 2");
        assertEquals(10f, steps.getFloat(0, 0, 1), "feature 0 of step 1");
        assertEquals(rows, sequence.backprop(steps, 2, LayerWorkspaceMgr.noWorkspaces()));
    }

    @Test
    void embeddingAndLstmTakeTokenIdsAndKeepTheVocabularySize() {
        ModelSpec spec = Specs.parse(String.join("\n",
                "input_shape: [12]",
                "layers:",
                "  - embedding: {input_dim: 20, output_dim: 8}",
                "  - lstm: {units: 16}",
                "  - dense: {units: 2, activation: softmax}",
                "loss: categorical_crossentropy"));
        assertEquals(12, spec.inputSize(), "one token id per time step");
        MultiLayerConfiguration conf = spec.configuration();
        EmbeddingSequenceLayer embedding = assertInstanceOf(EmbeddingSequenceLayer.class, conf.getConf(0).getLayer());
        assertEquals(20, embedding.getNIn(), "the vocabulary, not the input type's one id per step");
        assertFalse(embedding.hasBias(), "Keras's Embedding has no bias");
        LastTimeStep last = assertInstanceOf(LastTimeStep.class, conf.getConf(1).getLayer());
        LSTM lstm = assertInstanceOf(LSTM.class, last.getUnderlying());
        assertEquals(8, lstm.getNIn());
        // 20*8 embedding + 4*(8*16 + 16*16 + 16) LSTM + 16*2 + 2 output
        assertEquals(160 + 1600 + 34, spec.parameterCount());
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray tokens = Nd4j.createFromArray(new float[][] {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 19}});
        assertEquals(2, net.output(tokens).size(1));
    }

    @Test
    void floatSequencesFeedRecurrentLayersAndReturnSequencesChains() {
        ModelSpec spec = Specs.parse(String.join("\n",
                "input_shape: [5, 3]",
                "layers:",
                "  - simple_rnn: {units: 4, return_sequences: true}",
                "  - lstm: {units: 6}",
                "  - dense: {units: 1, activation: linear}",
                "loss: mse"));
        assertEquals(15, spec.inputSize());
        MultiLayerConfiguration conf = spec.configuration();
        assertEquals(new ChannelsLastRowsPreProcessor(new long[] {5, 3}), conf.getInputPreProcess(0));
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray rows = Nd4j.rand(DataType.FLOAT, 4, 15);
        net.fit(rows, Nd4j.rand(DataType.FLOAT, 4, 1));
        assertEquals(List.of(4L, 1L), List.of(net.output(rows).size(0), net.output(rows).size(1)));
    }

    /** Each row: a spec's layers and input shape, the key path and a piece of the message it must give. */
    @ParameterizedTest(name = "{2}")
    @CsvSource(delimiter = '|', textBlock = """
            [28, 28, 1] | [{conv2d: {filters: 8, kernel_size: 3}}, {dense: {units: 2, activation: softmax}}] | layers[1].dense | but its input is an image (26, 26, 8); expected flatten or global_average_pooling2d before it
            [5, 5, 1]   | [{conv2d: {filters: 8, kernel_size: 3}}, {conv2d: {filters: 8, kernel_size: 4}}, {flatten: }, {dense: {units: 2, activation: softmax}}] | layers[1].conv2d.kernel_size | [4, 4] is larger than its input, an image (3, 3, 8); expected a kernel of at most 3 x 3, or padding: same
            [5, 5, 1]   | [{conv2d: {filters: 8, kernel_size: 3}}, {max_pooling2d: {pool_size: 4}}, {flatten: }, {dense: {units: 2, activation: softmax}}] | layers[1].max_pooling2d.pool_size | [4, 4] is larger than its input, an image (3, 3, 8)
            [784]       | [{conv2d: {filters: 8, kernel_size: 3}}, {flatten: }, {dense: {units: 2, activation: softmax}}] | layers[0].conv2d | conv2d takes an image (height, width, channels), but its input is a flat vector (784)
            [28, 28, 1] | [{conv2d: {filters: 8, kernel_size: [3, 3, 3]}}, {flatten: }, {dense: {units: 2, activation: softmax}}] | layers[0].conv2d.kernel_size | [3,3,3] is not allowed; expected a whole number >= 1 or a list of two
            [28, 28, 1] | [{conv2d: {kernel_size: 3}}, {flatten: }, {dense: {units: 2, activation: softmax}}] | layers[0].conv2d.filters | is missing
            [28, 28, 1] | [{conv2d: {filters: 8, kernel_size: 3, padding: full}}, {flatten: }, {dense: {units: 2, activation: softmax}}] | layers[0].conv2d.padding | "full" is not a known padding; expected one of valid, same
            [10, 4]     | [{gru: {units: 8}}, {dense: {units: 2, activation: softmax}}] | layers[0].gru | DL4J 1.0.0-M2.1 has no GRU layer for a MultiLayerNetwork; expected lstm or simple_rnn
            [10, 4]     | [{lstm: {units: 8, return_sequences: true}}, {dense: {units: 2, activation: softmax}}] | layers[1].dense | expected return_sequences: false on the recurrent layer before it
            [10, 4]     | [{lstm: {units: 8, return_sequences: true}}, {flatten: }, {dense: {units: 2, activation: softmax}}] | layers[1].flatten | flatten of a sequence (10, 8) is not available
            [10]        | [{dense: {units: 4}}, {embedding: {input_dim: 5, output_dim: 2}}, {dense: {units: 2, activation: softmax}}] | layers[1].embedding | embedding takes token ids, but its input is a flat vector (4); expected embedding as the first layer
            [10]        | [{lstm: {units: 4}}, {dense: {units: 2, activation: softmax}}] | layers[0].lstm | lstm takes a sequence (timesteps, features), but its input is a flat vector (10)
            [10, 4]     | [{lstm: {units: 4, return_sequences: true}}, {batch_normalization: }, {dense: {units: 2, activation: softmax}}] | layers[1].batch_normalization | batch_normalization takes an image or a flat vector
            """)
    void shapeErrorsNameTheLayerAndWhatWouldFit(String inputShape, String layers, String keyPath, String message) {
        SpecException e = assertThrows(SpecException.class, () -> Specs.parse("input_shape: " + inputShape
                + "\nlayers: " + layers + "\nloss: categorical_crossentropy\n"));
        assertEquals(keyPath, e.keyPath(), e::getMessage);
        assertTrue(e.getMessage().startsWith("test.yaml: " + keyPath + ": "), e::getMessage);
        assertTrue(e.getMessage().contains(message), e::getMessage);
    }

    @Test
    void aDl4jConvnetConfigurationWithItsInputTypeIsAccepted() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).list()
                .layer(new ConvolutionLayer.Builder(5, 5).nOut(6).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder().kernelSize(2, 2).stride(2, 2).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1)).build();
        ModelSpec spec = ModelSpec.fromConfiguration(conf, "lenet.json");
        assertEquals(784, spec.inputSize());
        assertEquals(conf.toJson(), spec.configuration().toJson());
        assertEquals(Engine.DL4J, spec.resolvedEngine());
    }

    @Test
    void aDl4jConvolutionWithoutAPreprocessorIsRefusedBecauseRowsAreFlat() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list()
                .layer(new ConvolutionLayer.Builder(5, 5).nIn(1).nOut(6).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(6).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .build();
        SpecException e = assertThrows(SpecException.class, () -> ModelSpec.fromConfiguration(conf, "conv.json"));
        assertEquals("confs[0].layer", e.keyPath());
        assertTrue(e.getMessage().contains("ConvolutionLayer is not allowed as the first layer with parameters without "
                + "an input preprocessor"), e::getMessage);
    }

    @Test
    void aDl4jRecurrentOutputOfEveryTimeStepIsRefused() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list()
                .layer(new EmbeddingSequenceLayer.Builder().nIn(10).nOut(4).inputLength(6).build())
                .layer(new LSTM.Builder().nOut(5).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.recurrent(1, 6)).overrideNinUponBuild(false).build();
        SpecException e = assertThrows(SpecException.class, () -> ModelSpec.fromConfiguration(conf, "rnn.json"));
        assertEquals("inputPreProcessors.2", e.keyPath(), e::getMessage);
        assertTrue(e.getMessage().contains("LastTimeStep"), e::getMessage);
    }
}
