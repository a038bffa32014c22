package dptrain.cli;

import static dptrain.cli.ErrorCases.bad;
import static dptrain.cli.TrainCommandTest.dptrain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dptrain.driver.export.OnnxExport;
import dptrain.spec.ModelSpec;
import dptrain.testing.FashionMnist;
import dptrain.testing.OnnxParity;
import dptrain.testing.SklearnData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import onnx.Onnx.ModelProto;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.misc.ElementWiseMultiplicationLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * {@code dptrain export --format onnx}: the exported graph, run in ONNX Runtime on raw rows, gives
 * what DL4J gives after the model's own scaling and normalizer; layers without an ONNX form are
 * refused by name, and nothing is written.
 */
class ExportCommandTest {
    @TempDir
    static Path dir;
    static Path book;

    @BeforeAll
    static void trainTheBooksNetworkOnASlice() throws IOException {
        Path train = FashionMnist.writeSlice(dir.resolve("idx"), "train", "train", 0, 3000);
        book = dir.resolve("book");
        TrainCommandTest.Run run = dptrain("train", "--model", TrainCommandTest.BOOK_SPEC, "--train", train.toString(),
                "--epochs", "1", "--batch-size", "64", "--workers", "2", "--normalize", "standardize",
                "--master", "local[2]", "--output", book.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        unsupportedModels();
    }

    @Test
    void theBooksNetworkInOnnxGivesDl4jsClassesAndProbabilitiesFromRawPixels() throws Exception {
        Path onnx = dir.resolve("book.onnx");
        TrainCommandTest.Run run = dptrain("export", "--model", book.resolve("model.zip").toString(), "--format", "onnx",
                "--output", onnx.toString());
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("Wrote " + onnx + " (ONNX opset 17)"), run.out());
        assertTrue(run.out().contains("standardize"), "the normalizer is folded in: " + run.out());

        ModelProto model = ModelProto.parseFrom(Files.readAllBytes(onnx));
        assertEquals(17, model.getOpsetImport(0).getVersion());
        assertEquals(List.of("Mul", "Sub", "Div", "Gemm", "Relu", "Gemm", "Softmax", "Identity", "ArgMax"),
                model.getGraph().getNodeList().stream().map(n -> n.getOpType()).toList());
        try (OrtSession session = OrtEnvironment.getEnvironment().createSession(onnx.toString())) {
            Map<String, NodeInfo> inputs = session.getInputInfo();
            assertEquals(List.of(OnnxExport.INPUT), List.copyOf(inputs.keySet()));
            assertEquals(List.of(-1L, 784L), shape(inputs.get(OnnxExport.INPUT)));
            Map<String, NodeInfo> outputs = session.getOutputInfo();
            assertEquals(List.of(OnnxExport.PROBABILITIES, OnnxExport.PREDICTED_CLASS), List.copyOf(outputs.keySet()));
            assertEquals(List.of(-1L, 10L), shape(outputs.get(OnnxExport.PROBABILITIES)));
            assertEquals(List.of(-1L), shape(outputs.get(OnnxExport.PREDICTED_CLASS)));
        }

        OnnxParity.Comparison comparison = OnnxParity.compare(book.resolve("model.zip"), onnx,
                OnnxParity.pixels("t10k", 0, 2000));
        assertEquals(2000, comparison.rows());
        assertEquals(2000, comparison.sameClass(), "rows whose class differs from DL4J's: " + comparison);
        assertTrue(comparison.maxOutputDifference() <= 1e-5, comparison.toString());
    }

    @Test
    void aRegressionWithMinMaxScalingExportsItsRealValuedOutput() throws Exception {
        Path train = SklearnData.file("diabetes", "train.csv");
        Path model = dir.resolve("diabetes");
        TrainCommandTest.Run trained = dptrain("train", "--model", RegressionCommandTest.SPEC, "--train",
                train.toString(), "--epochs", "5", "--batch-size", "16", "--workers", "2", "--normalize", "minmax",
                "--master", "local[2]", "--output", model.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, trained.code(), trained.err());
        Path onnx = dir.resolve("diabetes.onnx");
        TrainCommandTest.Run run = dptrain("export", "--model", model.resolve("model.zip").toString(), "--output",
                onnx.toString());
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("min-max"), run.out());
        try (OrtSession session = OrtEnvironment.getEnvironment().createSession(onnx.toString())) {
            assertEquals(List.of(OnnxExport.PREDICTION), List.copyOf(session.getOutputInfo().keySet()));
        }
        List<float[]> rows = new ArrayList<>();
        for (double[] row : SklearnData.rows(SklearnData.file("diabetes", "test.csv"))) {
            float[] features = new float[row.length - 1];
            for (int i = 1; i < row.length; i++) {
                features[i - 1] = (float) row[i];
            }
            rows.add(features);
        }
        OnnxParity.Comparison comparison = OnnxParity.compare(model.resolve("model.zip"), onnx, rows);
        assertEquals(88, comparison.rows());
        // Targets are in the tens to hundreds; float32 keeps about 7 digits of them.
        assertTrue(comparison.maxOutputDifference() <= 1e-4, comparison.toString());
    }

    @Test
    void anExistingOutputIsReplacedOnlyWithOverwrite() throws IOException {
        Path onnx = dir.resolve("again.onnx");
        Files.writeString(onnx, "keep me", StandardCharsets.UTF_8);
        String zip = book.resolve("model.zip").toString();
        TrainCommandTest.Run refused = dptrain("export", "--model", zip, "--output", onnx.toString());
        ErrorCases.assertClearError("existing output", ExitCodes.INPUT, List.of(onnx.toString(), "--overwrite"), refused);
        assertEquals("keep me", Files.readString(onnx));
        TrainCommandTest.Run replaced = dptrain("export", "--model", zip, "--output", onnx.toString(), "--overwrite");
        assertEquals(ExitCodes.OK, replaced.code(), replaced.err());
        assertEquals(17, ModelProto.parseFrom(Files.readAllBytes(onnx)).getOpsetImport(0).getVersion());
    }

    /** Models without an ONNX form here, and a model without the scaling record. */
    private static void unsupportedModels() throws IOException {
        MultiLayerConfiguration gated = new NeuralNetConfiguration.Builder().list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.RELU).build())
                .layer(new ElementWiseMultiplicationLayer.Builder().nIn(3).nOut(3).name("gate").build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(3).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build();
        save("gated.zip", gated);
        MultiLayerConfiguration cube = new NeuralNetConfiguration.Builder().list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.CUBE).name("cubed").build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(3).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .build();
        save("cube.zip", cube);
        save("no-scaling.zip", ModelSpec.parse("input_shape: [4]\nlayers:\n  - dense: {units: 2, activation: softmax}\n"
                + "loss: categorical_crossentropy\n", "spec").configuration());
        Files.writeString(dir.resolve("text.zip"), "input_shape: [784]\n", StandardCharsets.UTF_8);
    }

    private static void save(String name, MultiLayerConfiguration conf) throws IOException {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        ModelSerializer.writeModel(net, dir.resolve(name).toFile(), false);
    }

    static Stream<Arguments> badExports() {
        int input = ExitCodes.INPUT;
        int usage = ExitCodes.USAGE;
        return Stream.of(
                bad("a layer without an ONNX form", input, List.of("--model", p("gated.zip"), "--scale", "1"),
                        "gated.zip: layer 1 ('gate', DL4J ElementWiseMultiplicationLayer) cannot be exported to ONNX",
                        "dptrain exports dense", "nothing was written"),
                bad("an activation without an ONNX form", input, List.of("--model", p("cube.zip"), "--scale", "1"),
                        "cube.zip: layer 0 ('cubed', DL4J DenseLayer) cannot be exported to ONNX", "cube"),
                bad("a model that does not record its scaling", input, List.of("--model", p("no-scaling.zip")),
                        "no-scaling.zip: does not record the feature scaling", "--scale DIVISOR"),
                bad("a missing model", input, List.of("--model", p("nope.zip")), "nope.zip", "no such file"),
                bad("a model that is not a zip", input, List.of("--model", p("text.zip")), "text.zip",
                        "not a zip archive"),
                bad("a scale of zero", usage, List.of("--model", p("cube.zip"), "--scale", "0"), "--scale", "0"),
                bad("an unknown format", usage, List.of("--model", p("cube.zip"), "--format", "pmml"), "--format",
                        "pmml"),
                bad("no --output", usage, List.of("--model", p("cube.zip"), "--output"), "--output"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badExports")
    void refusesWithAClearMessageAndWritesNothing(String what, int exitCode, List<String> flags, List<String> mentions)
            throws IOException {
        Path out = dir.resolve("refused").resolve(what.replaceAll("[^a-z]+", "-") + ".onnx");
        List<String> args = new ArrayList<>(List.of("export"));
        args.addAll(flags);
        if (!flags.contains("--output")) {
            args.addAll(List.of("--output", out.toString()));
        }
        ErrorCases.assertClearError(what, exitCode, mentions, dptrain(args.toArray(String[]::new)));
        assertFalse(Files.exists(out.getParent()), what + ": nothing written, not even the folder");
    }

    private static String p(String name) {
        return dir.resolve(name).toString();
    }

    private static List<Long> shape(NodeInfo info) {
        return Arrays.stream(((TensorInfo) info.getInfo()).getShape()).boxed().toList();
    }
}
