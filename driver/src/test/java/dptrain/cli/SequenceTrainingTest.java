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
}
