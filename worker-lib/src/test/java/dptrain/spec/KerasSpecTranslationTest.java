package dptrain.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInitReluUniform;
import org.deeplearning4j.nn.weights.WeightInitVarScalingNormalFanAvg;
import org.deeplearning4j.nn.weights.WeightInitVarScalingNormalFanIn;
import org.deeplearning4j.nn.weights.WeightInitVarScalingUniformFanIn;
import org.deeplearning4j.nn.weights.WeightInitXavierUniform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/** Keras terms become the DL4J objects SPEC.md promises, with Keras's defaults where the spec is silent. */
class KerasSpecTranslationTest {

    private static final String MINIMAL = String.join("\n",
            "input_shape: [4]",
            "layers:",
            "  - dense: {units: 1}",
            "loss: mse",
            "");

    private static BaseLayer layer(ModelSpec spec, int index) {
        return (BaseLayer) spec.configuration().getConf(index).getLayer();
    }

    private static IUpdater updater(String optimizerLine) {
        return layer(Specs.parse(MINIMAL + optimizerLine + "\n"), 0).getIUpdater();
    }

    @Test
    void minimalSpecGetsKerasDefaults() {
        ModelSpec spec = Specs.parse(MINIMAL);
        BaseLayer output = layer(spec, 0);
        assertInstanceOf(ActivationIdentity.class, output.getActivationFn());
        assertInstanceOf(WeightInitXavierUniform.class, output.getWeightInitFn());
        assertEquals(0.0, output.getBiasInit());
        assertTrue(output.getRegularization().isEmpty());
        assertEquals(new RmsProp(0.001, 0.9, 1e-7), output.getIUpdater());
        assertEquals(42L, spec.seed());
        assertEquals(List.of(), spec.metrics());
        assertEquals(5L, spec.parameterCount());
    }

    @Test
    void bareOptimizerNamesMeanKerasDefaults() {
        assertEquals(new RmsProp(0.001, 0.9, 1e-7), updater("optimizer: rmsprop"));
        assertEquals(new Adam(0.001, 0.9, 0.999, 1e-7), updater("optimizer: adam"));
        assertEquals(new AdaGrad(0.001, 1e-7), updater("optimizer: adagrad"));
        assertEquals(new Sgd(0.01), updater("optimizer: sgd"));
    }

    @Test
    void optimizerSettingsOverrideDefaults() {
        assertEquals(new Adam(0.01, 0.8, 0.99, 1e-8),
                updater("optimizer: {adam: {learning_rate: 0.01, beta_1: 0.8, beta_2: 0.99, epsilon: 1.0e-8}}"));
        assertEquals(new RmsProp(0.01, 0.95, 1e-6),
                updater("optimizer: {rmsprop: {learning_rate: 0.01, rho: 0.95, epsilon: 1e-6}}"));
        assertEquals(new Sgd(0.1), updater("optimizer: {sgd: {learning_rate: 0.1}}"));
    }

    @Test
    void sgdWithNesterovMomentumBecomesNesterovs() {
        Nesterovs nesterovs = assertInstanceOf(Nesterovs.class,
                updater("optimizer: {sgd: {learning_rate: 0.1, momentum: 0.9, nesterov: true}}"));
        assertEquals(0.1, nesterovs.getLearningRate());
        assertEquals(0.9, nesterovs.getMomentum());
    }

    @Test
    void describedOptimizerListsEverySetting() {
        ModelSpec spec = Specs.parse(MINIMAL + "optimizer: {sgd: {momentum: 0.5, nesterov: true}}\n");
        assertEquals(Map.of("name", "sgd", "learning_rate", 0.01, "momentum", 0.5, "nesterov", true),
                spec.describe().get("optimizer"));
    }

    @Test
    void dropoutRateIsTheFractionDroppedSoDl4jGetsTheRetainProbability() {
        ModelSpec spec = Specs.parse(Specs.book("  - dense: {units: 10,", "  - dropout: {rate: 0.25}\n  - dense: {units: 10,"));
        MultiLayerConfiguration conf = spec.configuration();
        DropoutLayer dropout = assertInstanceOf(DropoutLayer.class, conf.getConf(1).getLayer());
        assertEquals(0.75, assertInstanceOf(Dropout.class, dropout.getIDropout()).getP(), 1e-12);
        assertEquals(Map.of("type", "dropout", "rate", 0.25), ((List<?>) spec.describe().get("layers")).get(1));
        assertEquals(407_050L, spec.parameterCount());
        assertEquals(512, ((OutputLayer) conf.getConf(2).getLayer()).getNIn());
        assertNull(conf.getConf(0).getLayer().getIDropout());
    }

    @Test
    void kerasL2IsDoubledBecauseDl4jHalvesItsPenalty() {
        ModelSpec spec = Specs.parse(Specs.book("{units: 512, activation: relu}", "{units: 512, activation: relu, l2: 0.01}"));
        BaseLayer hidden = layer(spec, 0);
        L2Regularization l2 = assertInstanceOf(L2Regularization.class, hidden.getRegularization().get(0));
        assertEquals(0.02, l2.getL2().valueAt(0, 0), 1e-12);
        assertTrue(layer(spec, 1).getRegularization().isEmpty());
    }

    @Test
    void leakyReluUsesKerasSlope() {
        ModelSpec spec = Specs.parse(Specs.book("activation: relu", "activation: leaky_relu"));
        ActivationLReLU leaky = assertInstanceOf(ActivationLReLU.class, layer(spec, 0).getActivationFn());
        assertEquals(0.2, leaky.getAlpha());
    }

    @Test
    void kernelInitializersMatchKerasDistributions() {
        double c = KerasVocabulary.TRUNCATED_NORMAL_STD;
        ModelSpec spec = Specs.parse(Specs.book("seed: 12345", "seed: 12345\nkernel_initializer: he_normal")
                .replace("activation: softmax", "activation: softmax, kernel_initializer: glorot_normal"));
        assertEquals(2.0 / (c * c), assertInstanceOf(WeightInitVarScalingNormalFanIn.class,
                layer(spec, 0).getWeightInitFn()).getScale(), 1e-12);
        assertEquals(1.0 / (c * c), assertInstanceOf(WeightInitVarScalingNormalFanAvg.class,
                layer(spec, 1).getWeightInitFn()).getScale(), 1e-12);
        assertEquals("he_normal", spec.describe().get("kernel_initializer"));

        ModelSpec uniform = Specs.parse(Specs.book("seed: 12345", "kernel_initializer: lecun_uniform")
                .replace("activation: softmax", "activation: softmax, kernel_initializer: he_uniform"));
        assertEquals(1.0 / Math.sqrt(3.0), assertInstanceOf(WeightInitVarScalingUniformFanIn.class,
                layer(uniform, 0).getWeightInitFn()).getScale(), 1e-12);
        assertInstanceOf(WeightInitReluUniform.class, layer(uniform, 1).getWeightInitFn());
    }

    @Test
    void biasInitializerOnesSetsDl4jBiasInit() {
        ModelSpec spec = Specs.parse(Specs.book("{units: 512, activation: relu}",
                "{units: 512, activation: relu, bias_initializer: ones}"));
        assertEquals(1.0, layer(spec, 0).getBiasInit());
        assertEquals(0.0, layer(spec, 1).getBiasInit());
    }

    @ParameterizedTest(name = "{0} with {1} {2} units gives {3}")
    @CsvSource({
            "categorical_crossentropy,        softmax, 10, ONE_HOT",
            "categorical_crossentropy,        softmax, 3,  ONE_HOT",
            "sparse_categorical_crossentropy, softmax, 10, CLASS_INDEX",
            "binary_crossentropy,             sigmoid, 1,  SCALAR",
            "binary_crossentropy,             sigmoid, 3,  ONE_HOT",
            "mse,                             linear,  1,  REAL",
            "mse,                             tanh,    4,  REAL",
            "mae,                             linear,  1,  REAL",
            "huber,                           linear,  2,  REAL",
            "mean_squared_logarithmic_error,  relu,    1,  REAL",
    })
    void targetEncodingFollowsLossAndOutputSize(String loss, String activation, int units, TargetEncoding expected) {
        String metrics = expected == TargetEncoding.REAL ? "metrics: [mae]" : "metrics: [accuracy]";
        ModelSpec spec = Specs.parse(Specs.book("loss: categorical_crossentropy", "loss: " + loss)
                .replace("metrics: [accuracy]", metrics)
                .replace("{units: 10, activation: softmax}", "{units: " + units + ", activation: " + activation + "}"));
        assertEquals(expected, spec.targetEncoding());
        assertEquals(loss, spec.lossName());
        assertEquals(units, spec.outputSize());
        assertEquals(expected == TargetEncoding.REAL, spec.isRegression());
    }

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource({"mean_squared_error, mse", "mean_absolute_error, mae", "msle, mean_squared_logarithmic_error"})
    void kerasAliasesOfRegressionLossesNameTheSameLoss(String alias, String name) {
        ModelSpec spec = Specs.parse(Specs.book("loss: categorical_crossentropy", "loss: " + alias)
                .replace("metrics: [accuracy]", "metrics: [mae, rmse]").replace("activation: softmax", "activation: linear"));
        assertEquals(name, spec.lossName());
        assertEquals(List.of("mae", "rmse"), spec.reportedMetrics());
    }

    @Test
    void aRegressionWithoutMetricsReportsMaeAndAClassifierAlwaysReportsAccuracy() {
        ModelSpec regression = Specs.parse(Specs.book("loss: categorical_crossentropy", "loss: mse")
                .replace("metrics: [accuracy]\n", "").replace("activation: softmax", "activation: linear"));
        assertEquals(List.of(), regression.metrics());
        assertEquals(List.of("mae"), regression.reportedMetrics());
        ModelSpec classifier = Specs.parse(Specs.book("metrics: [accuracy]\n", ""));
        assertEquals(List.of("accuracy"), classifier.reportedMetrics());
    }

    @ParameterizedTest(name = "{0} with {1}")
    @CsvSource(delimiter = '|', value = {
            "mse | [accuracy] | metrics[0]: \"accuracy\" is not allowed with the regression loss mse; expected mae, mse or rmse",
            "categorical_crossentropy | [accuracy, mae] | metrics[1]: \"mae\" is not allowed with the classification loss categorical_crossentropy; expected accuracy",
            "mse | [r2] | metrics[0]: \"r2\" is not a known metric; expected one of accuracy, mae, mse, rmse"})
    void metricsMustFitTheLoss(String loss, String metrics, String message) {
        SpecException e = assertThrows(SpecException.class, () -> Specs.parse(Specs.book("loss: categorical_crossentropy",
                "loss: " + loss).replace("metrics: [accuracy]", "metrics: " + metrics)));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void lossesMapToTheirDl4jLossFunctions() {
        OutputLayer sparse = (OutputLayer) Specs.parse(Specs.book("loss: categorical_crossentropy",
                "loss: sparse_categorical_crossentropy")).configuration().getConf(1).getLayer();
        assertEquals(LossSparseMCXENT.class, sparse.getLossFn().getClass());
        OutputLayer binary = (OutputLayer) Specs.parse(Specs.book("loss: categorical_crossentropy",
                "loss: binary_crossentropy").replace("activation: softmax", "activation: sigmoid"))
                .configuration().getConf(1).getLayer();
        assertEquals(LossBinaryXENT.class, binary.getLossFn().getClass());
        assertEquals(LossMSE.class, ((OutputLayer) Specs.parse(MINIMAL).configuration().getConf(0).getLayer())
                .getLossFn().getClass());
    }

    @Test
    void jsonSpecInKerasTermsReadsLikeYaml() {
        String json = "{\"input_shape\": [784], \"layers\": [{\"dense\": {\"units\": 512, \"activation\": \"relu\"}},"
                + " {\"dense\": {\"units\": 10, \"activation\": \"softmax\"}}],"
                + " \"optimizer\": {\"rmsprop\": {\"learning_rate\": 0.001}},"
                + " \"loss\": \"categorical_crossentropy\", \"metrics\": [\"accuracy\"], \"seed\": 12345}";
        assertEquals(Specs.parse(Specs.BOOK).configurationJson(), ModelSpec.parse(json, "book.json").configurationJson());
    }

    @Test
    void yamlFlowMappingStartingWithBraceIsReadAsYaml() {
        ModelSpec spec = Specs.parse("{input_shape: [4], layers: [{dense: {units: 1}}], loss: mse}");
        assertEquals(4, spec.inputSize());
    }
}
