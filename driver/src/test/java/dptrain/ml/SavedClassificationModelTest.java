package dptrain.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Models saved by an earlier release keep loading: test resources hold a DptrainClassificationModel
 * saved at commit dd3c5b8 (before the estimator and model shared their code with the regressor),
 * with the predictions it made then.
 */
class SavedClassificationModelTest {
    private static final String SAVED = "/dptrain/ml/classification-model-dd3c5b8";

    private static SparkSession spark;

    @BeforeAll
    static void startSpark() {
        spark = SparkSession.builder().master("local[2]").appName("dptrain-ml-saved-model-test")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }

    @Test
    void aClassificationModelSavedByAnEarlierReleaseLoadsWithItsParamsAndPredictsAsItDidThen()
            throws IOException, URISyntaxException {
        Path saved = Path.of(SavedClassificationModelTest.class.getResource(SAVED).toURI());
        // Each line: the 4 features; the prediction; the 3 probabilities, as the saving release computed them.
        List<String[]> expected = Files.readAllLines(saved.resolve("expected-predictions.txt")).stream()
                .map(line -> line.split(";")).toList();

        DptrainClassificationModel model = DptrainClassificationModel.load(saved.toString());

        assertEquals("dptrainClassifier_71fef765727c", model.uid());
        assertEquals("x", model.getOrDefault(model.featuresCol()));
        assertEquals("guess", model.getOrDefault(model.predictionCol()));
        assertEquals("p", model.getOrDefault(model.probabilityCol()));
        assertEquals(3, model.numClasses());
        assertEquals(4, model.numFeatures());
        assertFalse(model.hasSummary());
        List<Row> rows = new ArrayList<>();
        for (String[] line : expected) {
            rows.add(RowFactory.create(Vectors.dense(numbers(line[0]))));
        }
        List<Row> predicted = model.transform(spark.createDataFrame(rows, new StructType().add("x", new VectorUDT())))
                .collectAsList();
        assertEquals(expected.size(), predicted.size());
        for (int i = 0; i < expected.size(); i++) {
            Row row = predicted.get(i);
            assertArrayEquals(numbers(expected.get(i)[0]), ((Vector) row.getAs("x")).toArray(), "row order");
            assertEquals(Double.parseDouble(expected.get(i)[1]), row.<Double>getAs("guess"), "row " + i);
            assertArrayEquals(numbers(expected.get(i)[2]), ((Vector) row.getAs("p")).toArray(), "row " + i);
        }
    }

    private static double[] numbers(String csv) {
        return Arrays.stream(csv.split(",")).mapToDouble(Double::parseDouble).toArray();
    }
}
