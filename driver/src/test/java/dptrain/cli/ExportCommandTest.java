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
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import dptrain.testing.FashionMnist;
import dptrain.testing.KerasFiles;
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
    void aBinaryClassifierWithOneSigmoidUnitPredictsClassOneAboveOneHalf() throws Exception {
        Path model = dir.resolve("breast-cancer");
        TrainCommandTest.Run trained = dptrain("train", "--model", "../src/examples/breast-cancer-binary.yaml",
                "--train", SklearnData.file("breast-cancer", "train.csv").toString(), "--epochs", "3",
                "--batch-size", "16", "--workers", "2", "--master", "local[2]", "--output", model.toString(),
                "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, trained.code(), trained.err());
        Path onnx = model.resolve("model.onnx");
        TrainCommandTest.Run run = dptrain("export", "--model", model.resolve("model.zip").toString(), "--output",
                onnx.toString());
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("predicted_class: value > 0.5"), run.out());
        List<float[]> rows = new ArrayList<>();
        for (double[] row : SklearnData.rows(SklearnData.file("breast-cancer", "test.csv"))) {
            float[] features = new float[row.length - 1];
            for (int i = 1; i < row.length; i++) {
                features[i - 1] = (float) row[i];
            }
            rows.add(features);
        }
        OnnxParity.Comparison comparison = OnnxParity.compare(model.resolve("model.zip"), onnx, rows);
        assertEquals(113, comparison.sameClass(), comparison.toString());
        assertTrue(comparison.maxOutputDifference() <= 1e-5, comparison.toString());
    }

    @Test
    void aConvnetWithBatchNormalizationPoolingAndSamePaddingMatchesDl4j() throws Exception {
        String spec = "input_shape: [28, 28, 1]\nlayers:\n"
                + "  - conv2d: {filters: 4, kernel_size: 3, activation: relu}\n"
                + "  - batch_normalization:\n"
                + "  - max_pooling2d: {pool_size: 2}\n"
                + "  - conv2d: {filters: 6, kernel_size: 3, strides: 2, padding: same, activation: elu}\n"
                + "  - average_pooling2d: {pool_size: 3, strides: 2, padding: same}\n"
                + "  - flatten:\n"
                + "  - dropout: {rate: 0.3}\n"
                + "  - dense: {units: 10, activation: softmax}\n"
                + "loss: categorical_crossentropy\nseed: 3\n";
        Path model = trainAndExport("convnet", spec, FashionMnist.writeSlice(dir.resolve("conv"), "train", "train", 0,
                256).toString(), "--normalize", "minmax");
        OnnxParity.Comparison comparison = OnnxParity.compare(model.resolve("model.zip"), model.resolve("model.onnx"),
                OnnxParity.pixels("t10k", 0, 300));
        assertEquals(300, comparison.sameClass(), comparison.toString());
        assertTrue(comparison.maxOutputDifference() <= 1e-5, comparison.toString());
    }

    @Test
    void aChannelsLastImageWithGlobalPoolingMatchesDl4j() throws Exception {
        // 8x8 images of 3 channels, channels last in the row: the layout that needs DL4J's transposition.
        StringBuilder csv = new StringBuilder();
        java.util.Random random = new java.util.Random(5);
        List<float[]> rows = new ArrayList<>();
        for (int r = 0; r < 160; r++) {
            float[] row = new float[8 * 8 * 3];
            csv.append(r % 3);
            for (int i = 0; i < row.length; i++) {
                row[i] = random.nextInt(256);
                csv.append(',').append((int) row[i]);
            }
            csv.append('\n');
            rows.add(row);
        }
        Path data = dir.resolve("channels.csv");
        Files.writeString(data, csv.toString(), StandardCharsets.UTF_8);
        String spec = "input_shape: [8, 8, 3]\nlayers:\n"
                + "  - conv2d: {filters: 5, kernel_size: [3, 2], activation: tanh}\n"
                + "  - batch_normalization:\n"
                + "  - global_average_pooling2d:\n"
                + "  - dense: {units: 3, activation: softmax}\n"
                + "loss: sparse_categorical_crossentropy\nseed: 4\n";
        Path model = trainAndExport("channels", spec, data.toString(), "--scale", "255", "--normalize", "standardize");
        assertTrue(Files.readString(model.resolve("export.txt")).contains("global average pooling"));
        OnnxParity.Comparison comparison = OnnxParity.compare(model.resolve("model.zip"), model.resolve("model.onnx"),
                rows);
        assertEquals(160, comparison.sameClass(), comparison.toString());
        assertTrue(comparison.maxOutputDifference() <= 1e-5, comparison.toString());
    }

    @Test
    void anEmbeddingWithRecurrentLayersMatchesDl4j() throws Exception {
        StringBuilder csv = new StringBuilder();
        java.util.Random random = new java.util.Random(9);
        List<float[]> rows = new ArrayList<>();
        for (int r = 0; r < 300; r++) {
            float[] row = new float[12];
            boolean marker = false;
            for (int t = 0; t < row.length; t++) {
                row[t] = random.nextInt(10);
                marker |= row[t] == 0;
            }
            csv.append(marker ? 1 : 0);
            for (float token : row) {
                csv.append(',').append((int) token);
            }
            csv.append('\n');
            rows.add(row);
        }
        Path data = dir.resolve("tokens.csv");
        Files.writeString(data, csv.toString(), StandardCharsets.UTF_8);
        String spec = "input_shape: [12]\nlayers:\n"
                + "  - embedding: {input_dim: 10, output_dim: 6}\n"
                + "  - simple_rnn: {units: 5, return_sequences: true}\n"
                + "  - lstm: {units: 7}\n"
                + "  - dense: {units: 2, activation: softmax}\n"
                + "optimizer: {rmsprop: {learning_rate: 0.01}}\nloss: categorical_crossentropy\nseed: 7\n";
        Path model = trainAndExport("tokens", spec, data.toString());
        OnnxParity.Comparison comparison = OnnxParity.compare(model.resolve("model.zip"), model.resolve("model.onnx"),
                rows);
        assertEquals(300, comparison.sameClass(), comparison.toString());
        assertTrue(comparison.maxOutputDifference() <= 1e-5, comparison.toString());
    }

    @Test
    void aKerasConvnetFileWhoseLayersTakeChannelsLastImagesMatchesDl4j() throws Exception {
        java.util.Random random = new java.util.Random(3);
        Map<String, Map<String, KerasFiles.Tensor>> weights = new java.util.LinkedHashMap<>();
        weights.put("conv2d", Map.of("kernel", KerasFiles.Tensor.random(random, 0.2, 3, 3, 1, 4),
                "bias", new KerasFiles.Tensor(new float[4], 4)));
        weights.put("dense", Map.of("kernel", KerasFiles.Tensor.random(random, 0.03, 13 * 13 * 4, 10),
                "bias", new KerasFiles.Tensor(new float[10], 10)));
        Path h5 = dir.resolve("keras-convnet.h5");
        KerasFiles.writeWeights(h5, KerasFiles.sequential(List.of(KerasFiles.input("input_1", 28, 28, 1),
                KerasFiles.conv2d("conv2d", 4, 3, "valid", "relu"), KerasFiles.pooling2d("MaxPooling2D",
                        "max_pooling2d", 2), KerasFiles.flatten("flatten"), KerasFiles.dense("dense", 10, "softmax"))),
                KerasFiles.BOOK_TRAINING_CONFIG, weights);
        // The file's own weights, saved as a model.zip without training: the layout is what is under test. Such a zip
        // records no feature scaling, so --scale gives it.
        Path model = dir.resolve("keras-convnet");
        Files.createDirectories(model);
        ModelFile keras = ModelFile.read(Files.readAllBytes(h5), h5.toString());
        MultiLayerNetwork network = new MultiLayerNetwork(keras.spec().configuration());
        network.init();
        keras.initialWeights().applyTo(network);
        ModelSerializer.writeModel(network, model.resolve("model.zip").toFile(), false);
        TrainCommandTest.Run exported = dptrain("export", "--model", model.resolve("model.zip").toString(), "--output",
                model.resolve("model.onnx").toString(), "--scale", "255");
        assertEquals(ExitCodes.OK, exported.code(), exported.err());
        assertTrue(exported.out().contains("flatten, channels last"), "Keras's layers keep images NHWC: " + exported.out());
        OnnxParity.Comparison comparison = OnnxParity.compare(model.resolve("model.zip"), model.resolve("model.onnx"),
                OnnxParity.pixels("t10k", 0, 300), 1f / 255);
        assertEquals(300, comparison.sameClass(), comparison.toString());
        assertTrue(comparison.maxOutputDifference() <= 1e-5, comparison.toString());
    }

    /** Trains {@code spec} for one epoch on {@code train} and exports it to model.onnx beside its model.zip. */
    private static Path trainAndExport(String name, String spec, String train, String... flags) throws IOException {
        Path specFile = dir.resolve(name + ".yaml");
        Files.writeString(specFile, spec, StandardCharsets.UTF_8);
        Path model = dir.resolve(name);
        List<String> args = new ArrayList<>(List.of("train", "--model", specFile.toString(), "--train", train,
                "--epochs", "1", "--batch-size", "32", "--workers", "2", "--master", "local[2]", "--output",
                model.toString(), "--conf", "spark.ui.enabled=false"));
        args.addAll(List.of(flags));
        TrainCommandTest.Run trained = dptrain(args.toArray(String[]::new));
        assertEquals(ExitCodes.OK, trained.code(), trained.err());
        TrainCommandTest.Run exported = dptrain("export", "--model", model.resolve("model.zip").toString(), "--output",
                model.resolve("model.onnx").toString());
        assertEquals(ExitCodes.OK, exported.code(), exported.err());
        Files.writeString(model.resolve("export.txt"), exported.out(), StandardCharsets.UTF_8);
        return model;
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
                        "dptrain exports dense, dropout", "nothing was written"),
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
