package dptrain.cli;

import static dptrain.cli.ErrorCases.bad;
import static dptrain.cli.TrainCommandTest.dptrain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.driver.card.ModelCard;
import dptrain.spec.ModelSpec;
import dptrain.testing.FashionMnist;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The model card: {@code train} writes it into model.zip, {@code describe} prints it as text and
 * JSON; a model.zip without one (as older dptrain wrote them) is still described, from its
 * network, and still evaluates; bad files get one sentence naming them.
 */
class DescribeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path zip;
    static Path withoutCard;

    @BeforeAll
    static void trainASmallRun() throws IOException {
        Path train = FashionMnist.writeSlice(dir.resolve("idx"), "train", "train", 0, 1000);
        Path test = FashionMnist.writeSlice(dir.resolve("idx"), "t10k", "test", 0, 100);
        Path out = dir.resolve("run");
        TrainCommandTest.Run run = dptrain("train", "--model", TrainCommandTest.BOOK_SPEC, "--train", train.toString(),
                "--test", test.toString(), "--validation-split", "0.2", "--epochs", "1", "--batch-size", "64",
                "--workers", "2", "--normalize", "minmax", "--master", "local[2]", "--output", out.toString(),
                "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        zip = out.resolve("model.zip");
        withoutCard = dir.resolve("older.zip");
        copyWithout(zip, withoutCard, ModelCard.ENTRY::equals);
        Files.writeString(dir.resolve("text.zip"), "input_shape: [784]\n", StandardCharsets.UTF_8);
        Files.createDirectories(dir.resolve("folder.zip"));
        try (ZipOutputStream other = new ZipOutputStream(Files.newOutputStream(dir.resolve("other.zip")))) {
            other.putNextEntry(new ZipEntry("notes.txt"));
            other.write("not a model".getBytes(StandardCharsets.UTF_8));
            other.closeEntry();
        }
        Path badCard = dir.resolve("bad-card.zip");
        copyWithout(zip, badCard, ModelCard.ENTRY::equals);
        appendEntry(badCard, ModelCard.ENTRY, "{\"card_version\": 1, ");
    }

    @Test
    void describePrintsTheCardThatTrainWroteIntoModelZip() {
        TrainCommandTest.Run run = dptrain("describe", zip.toString());
        assertEquals(ExitCodes.OK, run.code(), run.err());
        String text = run.out();
        for (String expected : List.of(zip + ": classifier of 10 classes (loss categorical_crossentropy)",
                "Architecture: 784 inputs (input_shape [784]), 407,050 parameters",
                "DenseLayer", "[512]", "relu", "401,920", "OutputLayer", "[10]", "softmax", "5,130",
                "Preprocessing: features multiplied by 0.003921569 (--scale 255), normalization minmax "
                        + "(fitted on the 800 training examples)",
                "train-images-idx3-ubyte (idx), 800 training and 200 validation examples",
                "Test data: ", "Training: 1 of 1 epochs, 2 workers, batch size 64, averaging every 16 minibatches",
                "optimizer rmsprop (learning_rate 0.001, rho 0.9, epsilon 1.0E-7)",
                "Final metrics: epoch 1, loss ", "test_accuracy ", "Versions: dptrain ", "DL4J 1.0.0-M2.1",
                "Spark 4.2.0")) {
            assertTrue(text.contains(expected), "should contain '" + expected + "':\n" + text);
        }
        assertFalse(text.contains("card: missing"), text);
    }

    @Test
    void describeJsonGivesTheCardsSectionsWithFiguresAsNumbers() throws IOException {
        TrainCommandTest.Run run = dptrain("describe", zip.toString(), "--json");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        JsonNode doc = JSON.readTree(run.out());
        assertEquals("present", doc.get("card").asText());
        assertEquals(ModelCard.VERSION, doc.get("card_version").asInt());
        assertEquals(407050, doc.get("architecture").get("parameters").asLong());
        assertEquals("[512]", doc.get("architecture").get("layers").get(0).get("output_shape").toString());
        assertEquals(100, doc.get("final_metrics").get("test_examples").asInt());
        assertTrue(doc.get("final_metrics").get("test_accuracy").isNumber(), doc.toString());
        assertEquals("minmax", doc.get("preprocessing").get("normalization").asText());
        assertEquals(800, doc.get("training_data").get("training_examples").asInt());
        assertEquals("4.2.0", doc.get("versions").get("spark").asText());
    }

    @Test
    void aModelZipWithoutACardIsDescribedFromItsNetworkAndStillEvaluates() throws IOException {
        TrainCommandTest.Run run = dptrain("describe", withoutCard.toString());
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("Model card: missing"), run.out());
        assertTrue(run.out().contains("Architecture: 784 inputs, 407,050 parameters"), run.out());
        assertTrue(run.out().contains("features multiplied by 0.003921569 (--scale 255), normalization minmax"),
                run.out());
        assertFalse(run.out().contains("Final metrics"), "nothing to say about training: " + run.out());
        JsonNode doc = JSON.readTree(dptrain("describe", withoutCard.toString(), "--json").out());
        assertEquals("missing", doc.get("card").asText());
        assertEquals(2, doc.get("architecture").get("layers").size());

        TrainCommandTest.Run evaluated = dptrain("evaluate", "--model", withoutCard.toString(), "--data",
                dir.resolve("idx/test-images-idx3-ubyte").toString(), "--output", dir.resolve("eval").toString(),
                "--master", "local[2]", "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, evaluated.code(), evaluated.err());
    }

    @Test
    void aConvnetsLayersAreListedWithKerasOrderShapesAndBatchNormalizationWithoutAnActivation() throws IOException {
        Path convnet = dir.resolve("convnet.zip");
        MultiLayerNetwork net = new MultiLayerNetwork(ModelSpec.parse("input_shape: [8, 8, 3]\nlayers:\n"
                + "  - conv2d: {filters: 4, kernel_size: 3, activation: relu}\n  - batch_normalization:\n"
                + "  - max_pooling2d: {pool_size: 2}\n  - flatten:\n  - dense: {units: 3, activation: softmax}\n"
                + "loss: categorical_crossentropy\n", "convnet").configuration());
        net.init();
        ModelSerializer.writeModel(net, convnet.toFile(), false);
        JsonNode layers = JSON.readTree(dptrain("describe", convnet.toString(), "--json").out())
                .get("architecture").get("layers");
        assertEquals("[6,6,4]", layers.get(0).get("output_shape").toString(), "height, width, channels");
        assertEquals("BatchNormalization", layers.get(1).get("type").asText());
        assertFalse(layers.get(1).has("activation"), "DL4J applies none there: " + layers.get(1));
        assertEquals("[3,3,4]", layers.get(2).get("output_shape").toString());
        assertEquals(net.numParams(), JSON.readTree(dptrain("describe", convnet.toString(), "--json").out())
                .get("architecture").get("parameters").asLong());
    }

    static Stream<Arguments> badFiles() {
        int input = ExitCodes.INPUT;
        return Stream.of(
                bad("a missing file", input, List.of(p("nope.zip")), "nope.zip", "no such file"),
                bad("a folder", input, List.of(p("folder.zip")), "folder.zip", "is a folder"),
                bad("not a zip", input, List.of(p("text.zip")), "text.zip", "is not a zip archive"),
                bad("a zip that is not a model", input, List.of(p("other.zip")), "other.zip", "not a DL4J model"),
                bad("a card that is not JSON", input, List.of(p("bad-card.zip")),
                        "bad-card.zip: its model card (dptrain-model-card.json) is not the JSON object"),
                bad("no model", ExitCodes.USAGE, List.of(), "MODEL_ZIP"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void badFilesGetOneSentenceNamingThem(String what, int exitCode, List<String> args, List<String> mentions) {
        String[] all = Stream.concat(Stream.of("describe"), args.stream()).toArray(String[]::new);
        ErrorCases.assertClearError(what, exitCode, mentions, dptrain(all));
    }

    private static String p(String name) {
        return dir.resolve(name).toString();
    }

    private static void copyWithout(Path from, Path to, Predicate<String> drop) throws IOException {
        try (InputStream in = Files.newInputStream(from); ZipInputStream source = new ZipInputStream(in);
                OutputStream out = Files.newOutputStream(to); ZipOutputStream target = new ZipOutputStream(out)) {
            for (ZipEntry entry = source.getNextEntry(); entry != null; entry = source.getNextEntry()) {
                if (!drop.test(entry.getName())) {
                    target.putNextEntry(new ZipEntry(entry.getName()));
                    source.transferTo(target);
                    target.closeEntry();
                }
            }
        }
    }

    private static void appendEntry(Path zipFile, String name, String content) throws IOException {
        Path copy = zipFile.resolveSibling(zipFile.getFileName() + ".tmp");
        copyWithout(zipFile, copy, n -> false);
        try (InputStream in = Files.newInputStream(copy); ZipInputStream source = new ZipInputStream(in);
                OutputStream out = Files.newOutputStream(zipFile); ZipOutputStream target = new ZipOutputStream(out)) {
            for (ZipEntry entry = source.getNextEntry(); entry != null; entry = source.getNextEntry()) {
                target.putNextEntry(new ZipEntry(entry.getName()));
                source.transferTo(target);
                target.closeEntry();
            }
            target.putNextEntry(new ZipEntry(name));
            target.write(content.getBytes(StandardCharsets.UTF_8));
            target.closeEntry();
        }
        Files.delete(copy);
    }
}
