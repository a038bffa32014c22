package dptrain.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** DL4J's own configuration JSON is a spec too, and a spec survives Java serialization unchanged. */
class Dl4jConfigurationSpecTest {

    /** A network written directly against DL4J, not through a Keras-terms spec. */
    private static MultiLayerConfiguration dl4jConfiguration(LossFunctions.LossFunction loss, Activation outputActivation,
                                                             int outputs) {
        return new NeuralNetConfiguration.Builder()
                .seed(7)
                .updater(new Adam(0.01))
                .weightInit(WeightInit.RELU)
                .list()
                .layer(new DenseLayer.Builder().nOut(16).activation(Activation.TANH).build())
                .layer(new DropoutLayer.Builder(0.8).build())
                .layer(new OutputLayer.Builder(loss).nOut(outputs).activation(outputActivation).build())
                .setInputType(InputType.feedForward(20))
                .build();
    }

    private static MultiLayerConfiguration classifier() {
        return dl4jConfiguration(LossFunctions.LossFunction.MCXENT, Activation.SOFTMAX, 3);
    }

    @Test
    void configurationRoundTripsToIdenticalJson() {
        MultiLayerConfiguration conf = classifier();
        ModelSpec spec = ModelSpec.fromConfiguration(conf, "built-in-test");
        assertEquals(conf.toJson(), spec.configuration().toJson());
        assertNotSame(spec.configuration(), spec.configuration());
    }

    @Test
    void dl4jJsonIsParsedAsAConfiguration() {
        MultiLayerConfiguration conf = classifier();
        ModelSpec spec = ModelSpec.parse(conf.toJson(), "conf.json");
        assertEquals(conf.toJson(), spec.configuration().toJson());
        assertEquals(20, spec.inputSize());
        assertEquals(3, spec.outputSize());
        assertEquals("categorical_crossentropy", spec.lossName());
        assertEquals(TargetEncoding.ONE_HOT, spec.targetEncoding());
        assertEquals(7L, spec.seed());
        assertEquals(20 * 16 + 16 + 16 * 3 + 3, spec.parameterCount());
    }

    @Test
    void kerasSpecsDl4jJsonReadsBackToTheSameSpec() {
        ModelSpec book = Specs.parse(Specs.BOOK);
        ModelSpec fromJson = ModelSpec.parse(book.configurationJson(), "book-dl4j.json");
        assertEquals(book.configurationJson(), fromJson.configurationJson());
        assertEquals(book.inputSize(), fromJson.inputSize());
        assertEquals(book.lossName(), fromJson.lossName());
        assertEquals(book.parameterCount(), fromJson.parameterCount());
    }

    @Test
    void dl4jJsonFileIsRecognisedByContent(@TempDir Path dir) throws Exception {
        MultiLayerConfiguration conf = classifier();
        Path file = Files.writeString(dir.resolve("model.json"), conf.toJson());
        ModelSpec spec = ModelSpec.read(file);
        assertEquals(conf.toJson(), spec.configurationJson());
        assertEquals(file.toString(), spec.source());
    }

    @Test
    void dl4jYamlIsAcceptedToo() {
        MultiLayerConfiguration conf = classifier();
        assertEquals(conf.toJson(), ModelSpec.parse(conf.toYaml(), "conf.yaml").configuration().toJson());
    }

    @Test
    void dl4jLossesGetTheirKerasNamesAndEncodings() {
        ModelSpec sparse = ModelSpec.fromConfiguration(
                dl4jConfiguration(LossFunctions.LossFunction.SPARSE_MCXENT, Activation.SOFTMAX, 3), "sparse");
        assertEquals("sparse_categorical_crossentropy", sparse.lossName());
        assertEquals(TargetEncoding.CLASS_INDEX, sparse.targetEncoding());
        ModelSpec binary = ModelSpec.fromConfiguration(
                dl4jConfiguration(LossFunctions.LossFunction.XENT, Activation.SIGMOID, 1), "binary");
        assertEquals("binary_crossentropy", binary.lossName());
        assertEquals(TargetEncoding.SCALAR, binary.targetEncoding());
        ModelSpec other = ModelSpec.fromConfiguration(
                dl4jConfiguration(LossFunctions.LossFunction.L1, Activation.IDENTITY, 2), "l1");
        assertEquals("dl4j:LossL1", other.lossName());
    }

    @Test
    void describeOfDl4jConfigurationUsesKerasNamesWhereTheyExist() {
        Map<String, Object> description = ModelSpec.fromConfiguration(classifier(), "built").describe();
        assertEquals("dl4j", description.get("format"));
        assertEquals(List.of(20), description.get("input_shape"));
        assertEquals("adam", ((Map<?, ?>) description.get("optimizer")).get("name"));
        assertEquals(0.01, ((Map<?, ?>) description.get("optimizer")).get("learning_rate"));
        Map<?, ?> dropout = (Map<?, ?>) ((List<?>) description.get("layers")).get(1);
        assertEquals(0.2, (Double) dropout.get("rate"), 1e-12);
        assertEquals(7L, description.get("seed"));
    }

    @Test
    void jsonThatDl4jCannotReadIsASpecException() {
        String json = classifier().toJson().replace("org.deeplearning4j.nn.conf.layers.DenseLayer", "no.such.Layer");
        SpecException e = assertThrows(SpecException.class, () -> ModelSpec.parse(json, "broken.json"));
        assertEquals("confs[0].layer", e.keyPath(), e::getMessage);
        assertTrue(e.getMessage().startsWith("broken.json: confs[0].layer: this is not a DL4J MultiLayerConfiguration"),
                e::getMessage);
        assertTrue(e.getMessage().contains("no.such.Layer"), e::getMessage);
    }

    @Test
    void configurationWithoutOutputLayerIsRejected() {
        MultiLayerConfiguration noOutput = new NeuralNetConfiguration.Builder().list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(2).build())
                .build();
        SpecException e = assertThrows(SpecException.class,
                () -> ModelSpec.parse(noOutput.toJson(), "no-output.json"));
        assertEquals("confs[0].layer", e.keyPath());
        assertTrue(e.getMessage().contains("DenseLayer is not allowed as the last layer"), e::getMessage);
    }

    @Test
    void specSurvivesJavaSerialization() throws Exception {
        ModelSpec spec = Specs.parse(Specs.BOOK);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(spec);
        }
        ModelSpec copy;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (ModelSpec) in.readObject();
        }
        assertEquals(spec.configuration().toJson(), copy.configuration().toJson());
        assertEquals(spec.describe(), copy.describe());
        assertEquals(spec.inputSize(), copy.inputSize());
        assertEquals(spec.outputSize(), copy.outputSize());
        assertEquals(spec.targetEncoding(), copy.targetEncoding());
        assertEquals(spec.lossName(), copy.lossName());
        assertEquals(spec.seed(), copy.seed());
        assertEquals(spec.metrics(), copy.metrics());
        assertEquals(spec.source(), copy.source());
        assertTrue(bytes.size() < 20_000, () -> "serialized spec is " + bytes.size() + " bytes");
    }

    @Test
    void describeCannotBeChangedByCallers() {
        ModelSpec spec = Specs.parse(Specs.BOOK);
        assertThrows(UnsupportedOperationException.class, () -> spec.describe().put("seed", 1L));
        @SuppressWarnings("unchecked")
        Map<String, Object> optimizer = (Map<String, Object>) spec.describe().get("optimizer");
        assertThrows(UnsupportedOperationException.class, () -> optimizer.put("learning_rate", 1.0));
    }
}
