package dptrain.cli;

import static dptrain.cli.ErrorCases.bad;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.spec.ModelSpec;
import dptrain.testing.LocalSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.factory.Nd4j;
import scala.Tuple2;

/**
 * A binary classifier (one sigmoid unit, binary_crossentropy) trained and evaluated end to end on a
 * small generated CSV whose classes overlap: the metrics at a threshold against DL4J's Evaluation,
 * and ROC and PR AUC against Spark's BinaryClassificationMetrics on the same scores, which
 * {@code predict} writes.
 */
class BinaryClassifierTest {
    static final int FEATURES = 4;
    static final int TEST_ROWS = 400;

    @TempDir
    static Path dir;
    static Path testCsv;
    static int[] testLabels;
    static Path run;
    static TrainCommandTest.Run trained;

    /** Rows of a logistic model with noise: label 1 with probability sigmoid(2 x0 - x1 + x2 / 2). */
    static int[] writeCsv(Path file, int rows, long seed) throws IOException {
        Random random = new Random(seed);
        StringBuilder csv = new StringBuilder();
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            double[] x = new double[FEATURES];
            for (int f = 0; f < FEATURES; f++) {
                x[f] = Math.round(random.nextGaussian() * 1000) / 1000.0;
            }
            double p = 1 / (1 + Math.exp(-(2 * x[0] - x[1] + x[2] / 2)));
            labels[r] = random.nextDouble() < p ? 1 : 0;
            csv.append(labels[r]);
            for (double v : x) {
                csv.append(',').append(v);
            }
            csv.append('\n');
        }
        Files.writeString(file, csv);
        return labels;
    }

    @BeforeAll
    static void trainABinaryClassifier() throws IOException {
        Path train = dir.resolve("train.csv");
        writeCsv(train, 800, 1);
        testCsv = dir.resolve("test.csv");
        testLabels = writeCsv(testCsv, TEST_ROWS, 2);
        Path spec = dir.resolve("binary.yaml");
        Files.writeString(spec, "input_shape: [4]\nlayers:\n  - dense: {units: 8, activation: relu}\n"
                + "  - dense: {units: 1, activation: sigmoid}\noptimizer: {adam: {learning_rate: 0.01}}\n"
                + "loss: binary_crossentropy\nmetrics: [accuracy]\nseed: 11\n");
        run = dir.resolve("run");
        trained = TrainCommandTest.dptrain("train", "--model", spec.toString(), "--train", train.toString(), "--test",
                testCsv.toString(), "--epochs", "4", "--batch-size", "32", "--workers", "2", "--master", "local[2]",
                "--output", run.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, trained.code(), trained.err());
        model("ten-classes.zip", "input_shape: [4]\nlayers:\n  - dense: {units: 10, activation: softmax}\n"
                + "loss: categorical_crossentropy\n");
        model("regression.zip", "input_shape: [4]\nlayers:\n  - dense: {units: 1}\nloss: mse\n");
    }

    private static void model(String name, String spec) throws IOException {
        MultiLayerNetwork net = new MultiLayerNetwork(ModelSpec.parse(spec, name).configuration());
        net.init();
        ModelSerializer.writeModel(net, dir.resolve(name).toFile(), false);
    }

    private static String modelZip() {
        return run.resolve("model.zip").toString();
    }

    /** The class-1 scores {@code predict} writes for the test rows, in row order. */
    private static float[] predictedScores() throws IOException {
        Path out = dir.resolve("predictions");
        TrainCommandTest.Run predict = TrainCommandTest.dptrain("predict", "--model", modelZip(), "--data",
                testCsv.toString(), "--output", out.toString(), "--output-format", "csv", "--overwrite", "--master",
                "local[2]", "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, predict.code(), predict.err());
        float[] scores = new float[TEST_ROWS];
        List<Path> parts;
        try (Stream<Path> files = Files.list(out)) {
            parts = files.filter(f -> f.getFileName().toString().startsWith("part-")
                    && f.getFileName().toString().endsWith(".csv")).sorted().toList();
        }
        int rows = 0;
        for (Path part : parts) {
            List<String> lines = Files.readAllLines(part);
            assertEquals("row_id,predicted_class,probability_0", lines.get(0));
            for (String line : lines.subList(1, lines.size())) {
                String[] cells = line.split(",");
                scores[Integer.parseInt(cells[0])] = Float.parseFloat(cells[2]);
                rows++;
            }
        }
        assertEquals(TEST_ROWS, rows);
        return scores;
    }

    private static JsonNode evaluate(String name, String... flags) throws IOException {
        Path out = dir.resolve(name);
        List<String> args = new ArrayList<>(List.of("evaluate", "--model", modelZip(), "--data", testCsv.toString(),
                "--output", out.toString(), "--master", "local[2]", "--conf", "spark.ui.enabled=false"));
        args.addAll(List.of(flags));
        TrainCommandTest.Run evaluate = TrainCommandTest.dptrain(args.toArray(String[]::new));
        assertEquals(ExitCodes.OK, evaluate.code(), evaluate.err());
        JsonNode json = new ObjectMapper().readTree(out.resolve("evaluation.json").toFile());
        JsonNode binary = json.get("binary");
        assertTrue(evaluate.out().contains(String.format(Locale.ROOT, "Binary classifier at threshold %s (positive "
                + "class 1): precision %.6f - recall %.6f - F1 %.6f - ROC AUC %.6f - PR AUC %.6f",
                binary.get("threshold").asDouble(), binary.get("precision").asDouble(), binary.get("recall").asDouble(),
                binary.get("f1").asDouble(), binary.get("roc_auc").asDouble(), binary.get("pr_auc").asDouble())),
                "the console says what the file says: " + evaluate.out());
        return json;
    }

    @Test
    void evaluateReportsRocAndPrAucEqualToSparksMetricsOnTheScoresPredictWrites() throws IOException {
        JsonNode binary = evaluate("eval-default").get("binary");
        float[] scores = predictedScores();
        List<Tuple2<Object, Object>> pairs = new ArrayList<>();
        for (int r = 0; r < TEST_ROWS; r++) {
            pairs.add(new Tuple2<>((double) scores[r], (double) testLabels[r]));
        }
        double roc;
        double pr;
        try (JavaSparkContext jsc = LocalSpark.start(2)) {
            BinaryClassificationMetrics spark = new BinaryClassificationMetrics(jsc.parallelize(pairs, 3).rdd());
            roc = spark.areaUnderROC();
            pr = spark.areaUnderPR();
        }
        assertEquals(roc, binary.get("roc_auc").asDouble(), 1e-9);
        assertEquals(pr, binary.get("pr_auc").asDouble(), 1e-9);
        assertTrue(roc > 0.75, "a classifier that learned something: ROC AUC " + roc);
        assertEquals(0.5, binary.get("threshold").asDouble(), "the default threshold");
        JsonNode curve = binary.get("roc_curve");
        int points = curve.get("false_positive_rate").size();
        assertEquals(points, curve.get("true_positive_rate").size());
        assertEquals(0.0, curve.get("false_positive_rate").get(0).asDouble());
        assertEquals(1.0, curve.get("true_positive_rate").get(points - 1).asDouble());
    }

    @Test
    void theThresholdDecidesAccuracyPrecisionRecallF1AndTheConfusionMatrixAsInDl4jsEvaluation() throws IOException {
        float[] scores = predictedScores();
        float[] labels = new float[TEST_ROWS];
        for (int r = 0; r < TEST_ROWS; r++) {
            labels[r] = testLabels[r];
        }
        double[] precisions = new double[2];
        int i = 0;
        for (double threshold : new double[] {0.3, 0.7}) {
            JsonNode json = evaluate("eval-" + threshold, "--threshold", Double.toString(threshold));
            JsonNode binary = json.get("binary");
            Evaluation expected = new Evaluation(threshold);
            expected.eval(Nd4j.create(labels, new long[] {TEST_ROWS, 1}, 'c'),
                    Nd4j.create(scores, new long[] {TEST_ROWS, 1}, 'c'));
            String at = "threshold " + threshold;
            assertEquals(threshold, binary.get("threshold").asDouble(), at);
            assertEquals(expected.accuracy(), binary.get("accuracy").asDouble(), 1e-12, at);
            assertEquals(expected.precision(1), binary.get("precision").asDouble(), 1e-12, at);
            assertEquals(expected.recall(1), binary.get("recall").asDouble(), 1e-12, at);
            assertEquals(expected.f1(1), binary.get("f1").asDouble(), 1e-12, at);
            assertEquals(expected.accuracy(), json.get("accuracy").asDouble(), 1e-12, "the table's accuracy too, " + at);
            for (int t = 0; t < 2; t++) {
                for (int p = 0; p < 2; p++) {
                    assertEquals(expected.getConfusionMatrix().getCount(t, p),
                            json.get("confusion_matrix").get(t).get(p).asInt(), at + " [" + t + "][" + p + "]");
                }
            }
            assertEquals(expected.getConfusionMatrix().getActualTotal(1), binary.get("positives").asLong());
            precisions[i++] = binary.get("precision").asDouble();
        }
        assertTrue(precisions[1] > precisions[0], "a higher threshold predicts class 1 more precisely");
    }

    @Test
    void trainingWithTestDataRecordsTheBinaryMetricsAndDrawsTheRocCurve() throws IOException {
        assertTrue(trained.out().contains("Test - binary classifier at threshold 0.5 (positive class 1): precision "),
                trained.out());
        JsonNode testBinary = new ObjectMapper().readTree(run.resolve("history.json").toFile()).get("test_binary");
        assertEquals(TEST_ROWS, testBinary.get("examples").asLong());
        // The final model is model.zip: evaluate scores the same rows with it, in other minibatches.
        JsonNode evaluated = evaluate("eval-like-train", "--batch-size", "32").get("binary");
        for (String figure : List.of("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc")) {
            assertEquals(evaluated.get(figure).asDouble(), testBinary.get(figure).asDouble(), 1e-9, figure);
        }
        String html = Files.readString(run.resolve("report.html"));
        assertTrue(html.matches("(?s).*<figure id=\"roc-chart-figure\">\\s*<svg.*"), "the report draws the ROC curve");
        assertTrue(html.contains(String.format(Locale.ROOT, "ROC curve (AUC %.4f)",
                testBinary.get("roc_auc").asDouble())), "its legend names the area");
    }

    static Stream<Arguments> badThresholds() {
        String ten = dir.resolve("ten-classes.zip").toString();
        String regression = dir.resolve("regression.zip").toString();
        return Stream.of(
                bad("above 1", ExitCodes.USAGE, List.of("--threshold", "1.5"),
                        "--threshold: 1.5 is not allowed; expected a number in [0, 1]"),
                bad("below 0", ExitCodes.USAGE, List.of("--threshold", "-0.1"),
                        "--threshold: -0.1 is not allowed; expected a number in [0, 1]"),
                bad("not a number", ExitCodes.USAGE, List.of("--threshold", "NaN"),
                        "--threshold: NaN is not allowed; expected a number in [0, 1]"),
                bad("text", ExitCodes.USAGE, List.of("--threshold", "abc"), "'--threshold'", "'abc'", "not a double"),
                bad("a multi-class model", ExitCodes.USAGE, List.of("--threshold", "0.3", "--model", ten),
                        "--threshold: 0.3 applies to binary classifiers only", ten + " has 10 classes",
                        "leave --threshold out"),
                bad("a regression", ExitCodes.USAGE, List.of("--threshold", "0.3", "--model", regression),
                        "--threshold: 0.3 applies to binary classifiers only", "is a regression (loss mse)"));
    }

    @ParameterizedTest(name = "--threshold for {0}")
    @MethodSource("badThresholds")
    void aBadThresholdIsAUsageErrorNamingTheFlagAndTheValue(String what, int exitCode, List<String> flags,
            List<String> mentions) throws IOException {
        Path out = dir.resolve("bad-" + what.replaceAll("[^a-z]+", "-"));
        List<String> args = new ArrayList<>(List.of("evaluate", "--data", testCsv.toString()));
        args.addAll(flags);
        if (!flags.contains("--model")) {
            args.addAll(List.of("--model", modelZip()));
        }
        args.addAll(List.of("--output", out.toString(), "--master", "local[2]", "--conf", "spark.ui.enabled=false"));
        TrainCommandTest.Run result = TrainCommandTest.dptrain(args.toArray(String[]::new));
        ErrorCases.assertClearError("--threshold for " + what, exitCode, mentions, result);
        assertTrue(result.err().contains("Try 'dptrain evaluate --help' for the flags."), result.err());
        assertFalse(Files.exists(out.resolve("evaluation.json")), "nothing written");
    }
}
