package dptrain.cli;

import static dptrain.cli.TrainCommandTest.dptrain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.testing.Tables;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An embedding and LSTM network trains data-parallel on token-id sequences from Parquet. */
class SequenceTrainingTest {
    static final String MARKER_SPEC = "../src/examples/marker-lstm.yaml";

    @TempDir
    Path dir;

    /**
     * The rule of src/examples/marker-sequences.py: 12 tokens of 1-9, and in half of the rows the marker 0 at one
     * random position, labelled 1. A model that does not read the whole sequence stays at chance, 0.5.
     */
    static List<Row> markerSequences(int count, long seed) {
        Random random = new Random(seed);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < count; r++) {
            List<Double> tokens = new ArrayList<>();
            for (int t = 0; t < 12; t++) {
                tokens.add((double) (1 + random.nextInt(9)));
            }
            int label = random.nextInt(2);
            if (label == 1) {
                tokens.set(random.nextInt(12), 0.0);
            }
            rows.add(RowFactory.create(tokens, label));
        }
        return rows;
    }

    @Test
    void anEmbeddingAndLstmLearnTheMarkerRuleOnTwoWorkersFromParquet() throws IOException {
        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.DoubleType))
                .add("label", DataTypes.IntegerType);
        Path train = dir.resolve("train.parquet");
        Path test = dir.resolve("test.parquet");
        Tables.writeParquet(train, schema, markerSequences(2000, 1));
        Tables.writeParquet(test, schema, markerSequences(500, 2));
        Path out = dir.resolve("out");
        TrainCommandTest.Run run = dptrain("train", "--model", MARKER_SPEC, "--train", train.toString(),
                "--test", test.toString(), "--epochs", "4", "--batch-size", "32", "--workers", "2",
                "--master", "local[2]", "--output", out.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        JsonNode history = new ObjectMapper().readTree(out.resolve("history.json").toFile());
        double accuracy = history.get("test_accuracy").asDouble();
        assertTrue(accuracy > 0.8, "test accuracy " + accuracy + " (chance: 0.5)\n" + run.out());
    }

    /** The marker rule on ragged sequences: token 11 marks the positive rows, 1-10 fill, 0 is left for padding. */
    static final String RAGGED_MARKER_SPEC = String.join("\n",
            "input_shape: [12]",
            "layers:",
            "  - embedding: {input_dim: 12, output_dim: 8}",
            "  - lstm: {units: 16}",
            "  - dense: {units: 2, activation: softmax}",
            "optimizer: {rmsprop: {learning_rate: 0.01}}",
            "loss: categorical_crossentropy",
            "metrics: [accuracy]",
            "seed: 7", "");

    /**
     * 6 to 18 tokens of 1-10; in half of the rows the marker 11 at a random one of the last 12 positions (the ones
     * that truncating 'pre' keeps), labelled 1.
     */
    static List<Row> raggedMarkerSequences(int count, long seed) {
        Random random = new Random(seed);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < count; r++) {
            int length = 6 + random.nextInt(13);
            List<Integer> tokens = new ArrayList<>();
            for (int t = 0; t < length; t++) {
                tokens.add(1 + random.nextInt(10));
            }
            int label = random.nextInt(2);
            if (label == 1) {
                tokens.set(length - 1 - random.nextInt(Math.min(length, 12)), 11);
            }
            rows.add(RowFactory.create(tokens, label));
        }
        return rows;
    }

    @Test
    void raggedTokenSequencesArePaddedAndTruncatedAsKerasPadSequencesDoesAndTheModelLearns() throws IOException {
        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.IntegerType))
                .add("label", DataTypes.IntegerType);
        Path spec = dir.resolve("ragged.yaml");
        java.nio.file.Files.writeString(spec, RAGGED_MARKER_SPEC);
        Path train = dir.resolve("train.parquet");
        Path test = dir.resolve("test.parquet");
        Tables.writeParquet(train, schema, raggedMarkerSequences(2000, 1));
        Tables.writeParquet(test, schema, raggedMarkerSequences(500, 2));
        Path out = dir.resolve("out");
        TrainCommandTest.Run run = dptrain("train", "--model", spec.toString(), "--train", train.toString(),
                "--test", test.toString(), "--pad-sequences", "pre", "--truncate-sequences", "pre", "--epochs", "4",
                "--batch-size", "32", "--workers", "2", "--master", "local[2]", "--output", out.toString(),
                "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        double accuracy = new ObjectMapper().readTree(out.resolve("history.json").toFile()).get("test_accuracy")
                .asDouble();
        assertTrue(accuracy > 0.8, "test accuracy " + accuracy + " (chance: 0.5)\n" + run.out());
        JsonNode provenance = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
        assertTrue(provenance.toString().contains("\"pad_sequences\":\"pre\""), provenance.toString());
    }

    @Test
    void raggedSequencesWithoutPaddingAndTokenIdsBeyondTheVocabularyAreRefusedNamingTheRecord() throws IOException {
        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.IntegerType))
                .add("label", DataTypes.IntegerType);
        Path spec = dir.resolve("ragged.yaml");
        java.nio.file.Files.writeString(spec, RAGGED_MARKER_SPEC);
        Path train = dir.resolve("ragged.parquet");
        List<Row> rows = new ArrayList<>();
        rows.add(RowFactory.create(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2), 0));
        rows.add(RowFactory.create(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9), 0));
        rows.add(RowFactory.create(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 12), 1));
        Tables.writeParquet(train, schema, rows);
        TrainCommandTest.Run run = dptrain("train", "--model", spec.toString(), "--train", train.toString(),
                "--master", "local[2]", "--output", dir.resolve("out").toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.INPUT, run.code(), run.err());
        assertTrue(run.err().contains("record 2: column 'features' holds a sequence of 9 steps; expected 12, "
                + "input_shape's timesteps (padding is off: --pad-sequences pre|post, or the Spark ML param padSequences, pads it with 0"), run.err());
        assertTrue(run.err().contains("record 3: column 'features' holds token id 12 at step 12; expected a whole "
                + "number in [0, 12), the embedding's input_dim"), run.err());
        assertTrue(run.err().contains(".parquet"), "names the file: " + run.err());
    }
}
