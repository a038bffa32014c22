package dptrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.testing.FashionMnist;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.preprocessor.DataNormalization;

/**
 * {@code dptrain evaluate} on a Fashion-MNIST slice against DL4J's own Evaluation on one machine:
 * a model trained with dptrain (standardized inputs) on 3,000 images, evaluated on 2,000 others.
 */
class EvaluateCommandTest {
    static final int TEST_ROWS = 2000;

    @TempDir
    static Path dir;
    static Path model;
    static Path testImages;

    @BeforeAll
    static void trainAModel() throws IOException {
        Path train = FashionMnist.writeSlice(dir.resolve("train"), "train", "train", 0, 3000);
        testImages = FashionMnist.writeSlice(dir.resolve("test"), "t10k", "test", 0, TEST_ROWS);
        Path out = dir.resolve("model");
        TrainCommandTest.Run run = TrainCommandTest.dptrain("train", "--model", TrainCommandTest.BOOK_SPEC, "--train",
                train.toString(), "--epochs", "2", "--workers", "2", "--master", "local[2]", "--normalize",
                "standardize", "--output", out.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        model = out.resolve("model.zip");
    }

    /** DL4J on one machine: the restored network and normalizer on all rows at once. */
    record SingleMachine(Evaluation evaluation, double meanLoss) {
        static SingleMachine of(Path modelZip, Path images, int topK) throws IOException {
            MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(modelZip.toFile(), false);
            DataNormalization normalizer = ModelSerializer.restoreNormalizerFromFile(modelZip.toFile());
            DataSet data = IdxRows.read(images, 1 / 255f);
            if (normalizer != null) {
                normalizer.transform(data.getFeatures());
            }
            INDArray output = net.output(data.getFeatures(), false);
            Evaluation evaluation = new Evaluation(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), topK);
            evaluation.eval(data.getLabels(), output);
            return new SingleMachine(evaluation, net.score(data, false));
        }
    }

    @Test
    void metricsEqualDl4jsEvaluationOnOneMachine() throws IOException {
        Path out = dir.resolve("eval-out");
        TrainCommandTest.Run run = TrainCommandTest.dptrain("evaluate", "--model", model.toString(), "--data",
                testImages.toString(), "--top-k", "3", "--batch-size", "128", "--master", "local[2]", "--output",
                out.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        SingleMachine expected = SingleMachine.of(model, testImages, 3);
        Evaluation e = expected.evaluation();
        JsonNode json = new ObjectMapper().readTree(out.resolve("evaluation.json").toFile());

        assertEquals(TEST_ROWS, json.get("examples").asLong());
        assertEquals(e.accuracy(), json.get("accuracy").asDouble(), 1e-6);
        assertEquals(3, json.get("top_k").asInt());
        assertEquals(e.topNAccuracy(), json.get("top_k_accuracy").asDouble(), 1e-6);
        assertEquals(e.getTopNCorrectCount(), Math.round(json.get("top_k_accuracy").asDouble() * TEST_ROWS));
        assertTrue(e.topNAccuracy() > e.accuracy(), "top-3 counts more rows correct than top-1");
        assertEquals(expected.meanLoss(), json.get("loss").asDouble(), 1e-5 * expected.meanLoss());
        for (int c = 0; c < 10; c++) {
            JsonNode row = json.get("classes").get(c);
            assertEquals(c, row.get("class").asInt());
            assertEquals(e.precision(c), row.get("precision").asDouble(), 1e-6, "precision of class " + c);
            assertEquals(e.recall(c), row.get("recall").asDouble(), 1e-6, "recall of class " + c);
            assertEquals(e.f1(c), row.get("f1").asDouble(), 1e-6, "f1 of class " + c);
            assertEquals(e.getConfusionMatrix().getActualTotal(c), row.get("support").asInt());
            for (int p = 0; p < 10; p++) {
                assertEquals(e.getConfusionMatrix().getCount(c, p), json.get("confusion_matrix").get(c).get(p).asInt(),
                        "confusion matrix [" + c + "][" + p + "]");
            }
        }
        assertTrue(e.accuracy() > 0.6, "a trained model: accuracy " + e.accuracy());

        // The printout says what the file says.
        assertEquals(json.get("accuracy").asDouble(), number(run.out(), "accuracy: ([0-9.]+)"), 1e-6);
        assertEquals(json.get("top_k_accuracy").asDouble(), number(run.out(), "top-3 accuracy: ([0-9.]+)"), 1e-6);
        assertEquals(json.get("loss").asDouble(), number(run.out(), "loss: ([0-9.]+)"), 1e-6);
        JsonNode class7 = json.get("classes").get(7);
        Matcher line = Pattern.compile("(?m)^7\\s+([0-9.]+)\\s+([0-9.]+)\\s+([0-9.]+)\\s+([0-9]+)$").matcher(run.out());
        assertTrue(line.find(), run.out());
        assertEquals(class7.get("precision").asDouble(), Double.parseDouble(line.group(1)), 1e-6);
        assertEquals(class7.get("recall").asDouble(), Double.parseDouble(line.group(2)), 1e-6);
        assertEquals(class7.get("f1").asDouble(), Double.parseDouble(line.group(3)), 1e-6);
        assertEquals(class7.get("support").asInt(), Integer.parseInt(line.group(4)));
        Matcher matrixRow = Pattern.compile("(?m)^\\s+3((?:\\s+[0-9]+){10})$").matcher(run.out());
        assertTrue(matrixRow.find(), run.out());
        String[] counts = matrixRow.group(1).trim().split("\\s+");
        for (int p = 0; p < 10; p++) {
            assertEquals(json.get("confusion_matrix").get(3).get(p).asInt(), Integer.parseInt(counts[p]));
        }
        assertTrue(run.out().contains("Wrote evaluation.json to " + out), run.out());
    }

    @Test
    void writesBesideTheModelByDefaultAndRefusesToReplaceItWithoutOverwrite() throws IOException {
        Path copy = dir.resolve("copy");
        Files.createDirectories(copy);
        Files.copy(model, copy.resolve("model.zip"));
        String[] args = {"evaluate", "--model", copy.resolve("model.zip").toString(), "--data", testImages.toString(),
            "--master", "local[2]", "--conf", "spark.ui.enabled=false"};
        TrainCommandTest.Run first = TrainCommandTest.dptrain(args);
        assertEquals(ExitCodes.OK, first.code(), first.err());
        assertTrue(first.out().contains("top-5 accuracy"), "top-5 by default: " + first.out());
        String written = Files.readString(copy.resolve("evaluation.json"));

        TrainCommandTest.Run again = TrainCommandTest.dptrain(args);
        assertEquals(ExitCodes.INPUT, again.code(), again.err());
        assertTrue(again.err().contains("already holds an evaluation (evaluation.json)"), again.err());
        assertTrue(again.err().contains("--overwrite"), again.err());
        assertEquals(written, Files.readString(copy.resolve("evaluation.json")));
    }

    @Test
    void evaluatesASingleSigmoidUnitAsDl4jDoes() throws IOException {
        Path binary = dir.resolve("binary");
        Files.createDirectories(binary);
        MultiLayerNetwork net = new MultiLayerNetwork(dptrain.spec.ModelSpec.parse("input_shape: [3]\nlayers:\n"
                + "  - dense: {units: 1, activation: sigmoid}\nloss: binary_crossentropy\nseed: 7\n", "binary")
                .configuration());
        net.init();
        ModelSerializer.writeModel(net, binary.resolve("model.zip").toFile(), false);
        StringBuilder csv = new StringBuilder();
        float[] x = new float[300 * 3];
        float[] y = new float[300];
        for (int r = 0; r < 300; r++) {
            y[r] = r % 2;
            csv.append(r % 2);
            for (int f = 0; f < 3; f++) {
                x[r * 3 + f] = ((r * 37 + f * 11) % 100) / 50f - 1;
                csv.append(',').append(x[r * 3 + f]);
            }
            csv.append('\n');
        }
        Files.writeString(binary.resolve("data.csv"), csv);
        TrainCommandTest.Run run = TrainCommandTest.dptrain("evaluate", "--model", binary.resolve("model.zip").toString(),
                "--data", binary.resolve("data.csv").toString(), "--master", "local[2]", "--conf",
                "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        INDArray features = org.nd4j.linalg.factory.Nd4j.create(x, new long[] {300, 3}, 'c');
        INDArray labels = org.nd4j.linalg.factory.Nd4j.create(y, new long[] {300, 1}, 'c');
        Evaluation e = new Evaluation(List.of("0", "1"), 1);
        e.eval(labels, net.output(features, false));
        JsonNode json = new ObjectMapper().readTree(binary.resolve("evaluation.json").toFile());
        assertEquals(1, json.get("top_k").asInt(), "a single unit ranks nothing");
        assertEquals(e.accuracy(), json.get("accuracy").asDouble(), 1e-6);
        for (int c = 0; c < 2; c++) {
            for (int p = 0; p < 2; p++) {
                assertEquals(e.getConfusionMatrix().getCount(c, p), json.get("confusion_matrix").get(c).get(p).asInt());
            }
        }
        double loss = net.score(new DataSet(features, labels), false);
        assertEquals(loss, json.get("loss").asDouble(), 1e-5 * loss);
    }

    @Test
    void appliesTheFeatureScalingTheModelWasTrainedWith() throws IOException {
        Path folder = dir.resolve("scaled");
        Files.createDirectories(folder);
        StringBuilder csv = new StringBuilder();
        float[] x = new float[200 * 3];
        float[] y = new float[200 * 4];
        for (int r = 0; r < 200; r++) {
            int label = r % 4;
            y[r * 4 + label] = 1;
            csv.append(label);
            for (int f = 0; f < 3; f++) {
                x[r * 3 + f] = (r * 13 + f * 29) % 40 + label * 10;
                csv.append(',').append((int) x[r * 3 + f]);
            }
            csv.append('\n');
        }
        Files.writeString(folder.resolve("data.csv"), csv);
        Files.writeString(folder.resolve("four.yaml"), "input_shape: [3]\nlayers:\n  - dense: {units: 4, activation: "
                + "softmax}\nloss: categorical_crossentropy\n");
        TrainCommandTest.Run train = TrainCommandTest.dptrain("train", "--model", folder.resolve("four.yaml").toString(),
                "--train", folder.resolve("data.csv").toString(), "--scale", "40", "--epochs", "1", "--workers", "2",
                "--master", "local[2]", "--output", folder.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, train.code(), train.err());
        TrainCommandTest.Run run = TrainCommandTest.dptrain("evaluate", "--model", folder.resolve("model.zip").toString(),
                "--data", folder.resolve("data.csv").toString(), "--master", "local[2]", "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        JsonNode json = new ObjectMapper().readTree(folder.resolve("evaluation.json").toFile());
        assertEquals(1 / 40f, json.get("feature_scale").floatValue(), "the scale model.zip records, without --scale");

        MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(folder.resolve("model.zip").toFile(), false);
        INDArray features = org.nd4j.linalg.factory.Nd4j.create(x, new long[] {200, 3}, 'c').muli(1 / 40f);
        INDArray labels = org.nd4j.linalg.factory.Nd4j.create(y, new long[] {200, 4}, 'c');
        double loss = net.score(new DataSet(features, labels), false);
        assertEquals(loss, json.get("loss").asDouble(), 1e-5 * loss);
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), regex + " in " + text);
        return Double.parseDouble(m.group(1));
    }
}
