package dptrain.cli;

import static dptrain.cli.TrainCommandTest.dptrain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.testing.SklearnData;
import dptrain.testing.Tables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression end to end on scikit-learn's diabetes data (442 patients, 10 features, a real-valued target): train
 * with a test set, evaluate, and predict from labelled and unlabelled copies of the same rows in CSV, LibSVM and
 * Parquet; a model with two outputs from two CSV columns and from a Parquet array column.
 */
class RegressionCommandTest {
    static final String SPEC = "../src/examples/diabetes-regression.yaml";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;
    static Path model;
    static Path train;
    static Path test;

    @TempDir
    Path out;

    @BeforeAll
    static void trainOnce() {
        train = SklearnData.file("diabetes", "train.csv");
        test = SklearnData.file("diabetes", "test.csv");
        model = shared.resolve("model");
        TrainCommandTest.Run run = dptrain("train", "--model", SPEC, "--train", train.toString(), "--test",
                test.toString(), "--epochs", "30", "--batch-size", "16", "--workers", "2", "--master", "local[2]",
                "--validation-split", "0.2", "--output", model.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().matches("(?s).*Epoch 30/30 - [0-9.]+s - loss: [0-9.]+ - mae: [0-9.]+ - val_loss: [0-9.]+ "
                + "- val_mae: [0-9.]+\n.*Test - loss: [0-9.]+ - mae: [0-9.]+ \\(88 examples\\).*"), run.out());
    }

    @Test
    void historyUsesKerasRegressionKeysAndTheTestHasR2ResidualsAndASample() throws IOException {
        JsonNode history = JSON.readTree(model.resolve("history.json").toFile());
        List<String> keys = new ArrayList<>();
        history.get("history").fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("loss", "mae", "val_loss", "val_mae"), keys);
        JsonNode last = history.get("epochs").get(29);
        assertFalse(last.has("accuracy"), last.toString());
        double baseline = meanPredictorMae(SklearnData.rows(train), SklearnData.rows(test));
        double testMae = history.get("test_mae").asDouble();
        assertTrue(testMae < 0.9 * baseline, "test MAE " + testMae + " against " + baseline
                + " for always predicting the training mean");
        assertTrue(history.get("test_r2").asDouble() > 0.1, "R² " + history.get("test_r2"));
        JsonNode residuals = history.get("test_residuals");
        assertTrue(residuals.get("min").asDouble() <= residuals.get("q1").asDouble()
                && residuals.get("q1").asDouble() <= residuals.get("median").asDouble()
                && residuals.get("median").asDouble() <= residuals.get("q3").asDouble()
                && residuals.get("q3").asDouble() <= residuals.get("max").asDouble(), residuals.toString());
        JsonNode sample = history.get("test_predictions_sample");
        assertEquals(88, sample.get("actual").size(), "the whole test set fits in the sample");
        assertFalse(history.has("test_confusion_matrix"));

        String html = Files.readString(model.resolve("report.html"));
        for (String id : List.of("loss-chart", "mae-chart", "predicted-actual-chart")) {
            java.util.regex.Matcher svg = java.util.regex.Pattern.compile("<svg[^>]*id=['\"]" + id + "['\"].*?</svg>",
                    java.util.regex.Pattern.DOTALL).matcher(html);
            assertTrue(svg.find(), id + " missing");
            assertTrue(svg.group().contains("<path") || svg.group().contains("<ellipse"), id + " draws nothing");
        }
        assertFalse(html.contains("accuracy-chart"));
        assertTrue(html.contains("Test R²"), "the summary names R²");
    }

    @Test
    void evaluateReportsSparksRegressionMetricsOfThePredictionsThatPredictWrites() throws IOException {
        TrainCommandTest.Run evaluated = dptrain("evaluate", "--model", model.resolve("model.zip").toString(),
                "--data", test.toString(), "--master", "local[2]", "--output", out.toString(),
                "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, evaluated.code(), evaluated.err());
        assertTrue(evaluated.out().contains("Residuals (actual - predicted)"), evaluated.out());
        JsonNode evaluation = JSON.readTree(out.resolve("evaluation.json").toFile());

        double[] predicted = predictCsv(test, "--label-column", "0");
        List<double[]> rows = SklearnData.rows(test);
        double absolute = 0;
        double squared = 0;
        double mean = rows.stream().mapToDouble(r -> r[0]).average().orElseThrow();
        double total = 0;
        for (int i = 0; i < rows.size(); i++) {
            double error = rows.get(i)[0] - predicted[i];
            absolute += Math.abs(error);
            squared += error * error;
            total += (rows.get(i)[0] - mean) * (rows.get(i)[0] - mean);
        }
        int n = rows.size();
        assertEquals(n, evaluation.get("examples").asInt());
        // predict writes floats: the sums agree to float precision of values around 150.
        assertEquals(absolute / n, evaluation.get("mae").asDouble(), 1e-3);
        assertEquals(squared / n, evaluation.get("mse").asDouble(), 1e-1);
        assertEquals(Math.sqrt(squared / n), evaluation.get("rmse").asDouble(), 1e-3);
        assertEquals(1 - squared / total, evaluation.get("r2").asDouble(), 1e-5);
        JsonNode history = JSON.readTree(model.resolve("history.json").toFile());
        assertEquals(history.get("test_mae").asDouble(), evaluation.get("mae").asDouble(), 1e-4,
                "train's test figure and evaluate's are the same model on the same rows");
        assertFalse(evaluation.has("accuracy"));
    }

    @Test
    void predictGivesTheSamePredictionsForUnlabelledCopiesOfTheSameRows() throws IOException {
        List<double[]> rows = SklearnData.rows(test);
        double[] labelled = predictCsv(test, "--label-column", "0");

        Path unlabelledCsv = shared.resolve("unlabelled.csv");
        Files.write(unlabelledCsv, rows.stream().map(r -> join(Arrays.copyOfRange(r, 1, r.length), ",")).toList());
        assertPredictionsEqual(labelled, predictCsv(unlabelledCsv, "--label-column", "none"), "CSV --label-column none");
        assertPredictionsEqual(labelled, predictCsv(unlabelledCsv, "--no-label"), "CSV --no-label");

        Path libsvm = shared.resolve("labelled.libsvm");
        Path unlabelledLibsvm = shared.resolve("unlabelled.libsvm");
        Files.write(libsvm, rows.stream().map(r -> r[0] + " " + libsvmFeatures(r)).toList());
        Files.write(unlabelledLibsvm, rows.stream().map(RegressionCommandTest::libsvmFeatures).toList());
        assertPredictionsEqual(labelled, predict(libsvm, "--format", "libsvm"), "LibSVM with targets");
        assertPredictionsEqual(labelled, predict(unlabelledLibsvm, "--format", "libsvm", "--no-label"),
                "LibSVM without targets");

        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.DoubleType), false)
                .add("label", DataTypes.DoubleType, false);
        List<Row> tableRows = rows.stream().map(r -> RowFactory.create(toList(Arrays.copyOfRange(r, 1, r.length)),
                r[0])).toList();
        Path parquet = shared.resolve("labelled.parquet");
        Tables.writeParquet(parquet, schema, tableRows);
        Path unlabelledParquet = shared.resolve("unlabelled.parquet");
        Tables.writeParquet(unlabelledParquet, new StructType().add(schema.apply("features")),
                tableRows.stream().map(r -> RowFactory.create(r.get(0))).toList());
        double[] fromParquet = predict(parquet, "--format", "parquet");
        assertPredictionsEqual(fromParquet, predict(unlabelledParquet, "--format", "parquet", "--no-label"),
                "Parquet without targets");
        // Parquet's partitions batch the rows differently from the text files', and a GEMM's last bit can depend
        // on the batch: the same model, to float precision.
        for (int i = 0; i < labelled.length; i++) {
            assertEquals(labelled[i], fromParquet[i], 1e-5 * Math.abs(labelled[i]), "Parquet row " + i);
        }
    }

    @Test
    void twoOutputsLearnFromTwoCsvColumnsAndFromAParquetArrayColumn() throws IOException {
        Path spec = shared.resolve("two-outputs.yaml");
        Files.writeString(spec, Files.readString(Path.of(SPEC)).replace("- dense: {units: 1}", "- dense: {units: 2}")
                .replace("metrics: [mae]", "metrics: [mae, rmse]"));
        // Targets: the progression, and the progression in tens, in the last two columns.
        List<double[]> rows = SklearnData.rows(train);
        Path csv = shared.resolve("two-targets.csv");
        Files.write(csv, rows.stream().map(r -> join(Arrays.copyOfRange(r, 1, r.length), ",") + "," + r[0] + ","
                + r[0] / 10).toList());
        TrainCommandTest.Run fromCsv = dptrain("train", "--model", spec.toString(), "--train", csv.toString(),
                "--label-column", "10,11", "--epochs", "3", "--batch-size", "16", "--workers", "2",
                "--master", "local[2]", "--output", out.resolve("csv").toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, fromCsv.code(), fromCsv.err());
        assertTrue(fromCsv.out().contains("- mae: ") && fromCsv.out().contains("- rmse: "), fromCsv.out());

        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.DoubleType), false)
                .add("targets", DataTypes.createArrayType(DataTypes.DoubleType), false);
        Path parquet = shared.resolve("two-targets.parquet");
        Tables.writeParquet(parquet, schema, rows.stream().map(r -> RowFactory.create(
                toList(Arrays.copyOfRange(r, 1, r.length)), List.of(r[0], r[0] / 10))).toList());
        TrainCommandTest.Run fromParquet = dptrain("train", "--model", spec.toString(), "--train", parquet.toString(),
                "--label-col", "targets", "--epochs", "3", "--batch-size", "16", "--workers", "2",
                "--master", "local[2]", "--output", out.resolve("parquet").toString(),
                "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, fromParquet.code(), fromParquet.err());
        // Same rows in the same order, the same network and seed: the same history.
        JsonNode a = JSON.readTree(out.resolve("csv/history.json").toFile()).get("history");
        JsonNode b = JSON.readTree(out.resolve("parquet/history.json").toFile()).get("history");
        assertEquals(a.get("mae").toString(), b.get("mae").toString());
        assertEquals(a.get("rmse").toString(), b.get("rmse").toString());
    }

    /** What always predicting the training targets' mean scores on the test set: the bar any model must clear. */
    static double meanPredictorMae(List<double[]> train, List<double[]> test) {
        double mean = train.stream().mapToDouble(r -> r[0]).average().orElseThrow();
        return test.stream().mapToDouble(r -> Math.abs(r[0] - mean)).average().orElseThrow();
    }

    private double[] predictCsv(Path data, String... flags) throws IOException {
        List<String> args = new ArrayList<>(List.of(flags));
        args.addAll(List.of("--format", "csv"));
        return predict(data, args.toArray(String[]::new));
    }

    /** The {@code prediction} column of predict's CSV output, in row_id order. */
    private double[] predict(Path data, String... flags) throws IOException {
        Path predictions = out.resolve("predictions-" + System.nanoTime());
        List<String> args = new ArrayList<>(List.of("predict", "--model", model.resolve("model.zip").toString(),
                "--data", data.toString(), "--output", predictions.toString(), "--output-format", "csv",
                "--master", "local[2]", "--conf", "spark.ui.enabled=false"));
        args.addAll(List.of(flags));
        TrainCommandTest.Run run = dptrain(args.toArray(String[]::new));
        assertEquals(ExitCodes.OK, run.code(), run.err());
        List<String> lines = new ArrayList<>();
        try (Stream<Path> files = Files.list(predictions)) {
            for (Path part : files.filter(f -> f.getFileName().toString().endsWith(".csv")).sorted().toList()) {
                List<String> content = Files.readAllLines(part);
                assertEquals("row_id,prediction", content.get(0));
                lines.addAll(content.subList(1, content.size()));
            }
        }
        return lines.stream().map(line -> line.split(","))
                .sorted(Comparator.comparingLong(fields -> Long.parseLong(fields[0])))
                .mapToDouble(fields -> Double.parseDouble(fields[1])).toArray();
    }

    private static void assertPredictionsEqual(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": rows");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 0.0, what + ": row " + i);
        }
    }

    private static String libsvmFeatures(double[] row) {
        StringBuilder text = new StringBuilder();
        for (int i = 1; i < row.length; i++) {
            text.append(i == 1 ? "" : " ").append(i).append(':').append(row[i]);
        }
        return text.toString();
    }

    private static String join(double[] values, String separator) {
        return String.join(separator, Arrays.stream(values).mapToObj(Double::toString).toList());
    }

    private static List<Double> toList(double[] values) {
        return Arrays.stream(values).boxed().toList();
    }
}
