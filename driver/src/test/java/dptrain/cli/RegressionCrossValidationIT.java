package dptrain.cli;

import static dptrain.cli.TrainCommandTest.dptrain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.testing.SklearnData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The book's K-fold workflow for small data, on scikit-learn's diabetes training split (354 patients): 4 folds,
 * features standardized with the training folds' statistics, the mean validation MAE over the folds. Two workers
 * must reach the MAE of one (which SingleMachineEquivalenceTest holds to single-process DL4J) within 5%, and both
 * must beat always predicting the mean by a wide margin.
 */
class RegressionCrossValidationIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path out;

    @Test
    void twoWorkersReachTheMeanValidationMaeOfOneWithinFivePercent() throws IOException {
        Path train = SklearnData.file("diabetes", "train.csv");
        JsonNode one = crossValidate(train, 1);
        JsonNode two = crossValidate(train, 2);
        double single = one.get("mean_val_mae").asDouble();
        double parallel = two.get("mean_val_mae").asDouble();
        assertTrue(Math.abs(parallel - single) <= 0.05 * single,
                "mean val_mae with 2 workers " + parallel + ", with 1 " + single);

        // The mean predictor's MAE on each held-out fold is about the data's mean absolute deviation.
        List<double[]> rows = SklearnData.rows(train);
        double baseline = RegressionCommandTest.meanPredictorMae(rows, rows);
        assertTrue(single < 0.8 * baseline, "val_mae " + single + " against " + baseline + " for the mean");
        assertEquals(4, two.get("folds").size());
        for (JsonNode fold : two.get("folds")) {
            assertTrue(fold.get("val_mae").asDouble() > 0, fold.toString());
        }
        assertTrue(two.get("std_val_mae").asDouble() > 0, "folds differ");
        assertEquals(100, two.get("mean_history").get("val_mae").size(), "one mean per epoch, to choose epochs by");
    }

    private JsonNode crossValidate(Path train, int workers) throws IOException {
        Path folder = out.resolve("cv-" + workers);
        TrainCommandTest.Run run = dptrain("cv", "--model", RegressionCommandTest.SPEC, "--train", train.toString(),
                "--folds", "4", "--epochs", "100", "--batch-size", "16", "--batch-scope", "worker",
                "--workers", Integer.toString(workers),
                "--master", "local[2]", "--output", folder.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("4-fold cross-validation - val_loss: "), run.out());
        assertTrue(run.out().matches("(?s).*Fold 4/4 - val_loss: [0-9.]+ - val_mae: [0-9.]+\n.*"), run.out());
        return JSON.readTree(folder.resolve("cv.json").toFile());
    }
}
