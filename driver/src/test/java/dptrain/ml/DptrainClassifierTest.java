package dptrain.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.files.InputException;
import dptrain.testing.FashionMnist;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.CrossValidator;
import org.apache.spark.ml.tuning.CrossValidatorModel;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark ML API on slices of the real Fashion-MNIST: a Pipeline that learns and survives save
 * and load, a CrossValidator over learning rates, and the messages of bad params and columns.
 */
class DptrainClassifierTest {
    /** The book's network (src/examples/mnist-mlp.yaml), inline. */
    private static final String BOOK_NETWORK = """
            input_shape: [784]
            layers:
              - dense: {units: 512, activation: relu}
              - dense: {units: 10, activation: softmax}
            optimizer: {rmsprop: {learning_rate: 0.001}}
            loss: categorical_crossentropy
            seed: 12345
            """;

    private static final int SIDE = 28;

    private static SparkSession spark;

    @TempDir
    Path dir;

    @BeforeAll
    static void startSpark() {
        spark = SparkSession.builder().master("local[2]").appName("dptrain-ml-test")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }

    @Test
    void aPipelineOfAssemblerScalerAndClassifierLearnsAndPredictsTheSameAfterSaveAndLoad() throws IOException {
        Dataset<Row> train = imageRows("train", 0, 2000);
        Dataset<Row> test = imageRows("t10k", 0, 1000);
        DptrainClassifier classifier = new DptrainClassifier().setSpec(BOOK_NETWORK).setEpochs(2).setBatchSize(64)
                .setWorkers(2).setSeed(7);
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {assembler(), scaler(), classifier});

        PipelineModel fitted = pipeline.fit(train);
        DptrainClassificationModel model = (DptrainClassificationModel) fitted.stages()[2];
        assertEquals(2, model.summary().size(), "one history record per epoch");
        assertTrue(model.summary().get(1).loss() < model.summary().get(0).loss(), "the loss falls");
        List<Row> before = fitted.transform(test).select("id", "label", "prediction", "probability").orderBy("id")
                .collectAsList();
        long correct = before.stream().filter(row -> row.<Double>getAs("prediction").equals(row.getAs("label"))).count();
        double accuracy = correct / (double) before.size();
        assertTrue(accuracy > 0.6, "accuracy on 1,000 held-out images: " + accuracy + "; chance is 0.1");
        for (Row row : before) {
            double[] p = ((Vector) row.getAs("probability")).toArray();
            assertEquals(10, p.length);
            assertEquals(1.0, Arrays.stream(p).sum(), 1e-4, "softmax probabilities sum to 1");
            assertEquals(argmax(p), row.<Double>getAs("prediction"), "the prediction is the most probable class");
        }

        String saved = dir.resolve("pipeline-model").toString();
        fitted.write().save(saved);
        PipelineModel loaded = PipelineModel.load(saved);
        List<Row> after = loaded.transform(test).select("id", "label", "prediction", "probability").orderBy("id")
                .collectAsList();
        assertEquals(before.size(), after.size());
        for (int i = 0; i < before.size(); i++) {
            assertEquals(before.get(i).<Double>getAs("prediction"), after.get(i).<Double>getAs("prediction"));
            assertArrayEquals(((Vector) before.get(i).getAs("probability")).toArray(),
                    ((Vector) after.get(i).getAs("probability")).toArray(), "row " + i);
        }

        assertFalse(((DptrainClassificationModel) loaded.stages()[2]).hasSummary(), "summaries are not saved");
        // The weights are a plain DL4J model zip under the stage's folder.
        Path zip;
        try (var found = Files.walk(Path.of(saved))) {
            zip = found.filter(p -> p.endsWith(Path.of("dl4j", "model.zip"))).findFirst().orElseThrow();
        }
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(zip.toFile(), false);
        assertEquals(model.network().params(), restored.params());
    }

    @Test
    void aCrossValidatorPicksTheBetterOfTwoLearningRates(TestReporter report) throws IOException {
        Dataset<Row> train = pixelVectors("train", 0, 1000);
        DptrainClassifier classifier = new DptrainClassifier().setSpec(BOOK_NETWORK).setEpochs(2).setBatchSize(32)
                .setWorkers(2).setSeed(7);
        ParamMap[] grid = new ParamGridBuilder().addGrid(classifier.learningRate(), new double[] {1e-3, 1e-1}).build();
        CrossValidator cv = new CrossValidator().setEstimator(classifier).setEstimatorParamMaps(grid)
                .setEvaluator(accuracy()).setNumFolds(2).setSeed(3);

        CrossValidatorModel best = cv.fit(train);

        double[] metrics = best.avgMetrics();
        assertEquals(2, metrics.length, "one mean accuracy per learning rate");
        report.publishEntry("avgMetrics (accuracy) for learningRate 1e-3, 1e-1", Arrays.toString(metrics));
        assertTrue(metrics[0] > 0.6, "accuracy with learning rate 1e-3: " + metrics[0]);
        assertTrue(metrics[0] > metrics[1], "1e-3 beats 1e-1 for RMSprop: " + Arrays.toString(metrics));
        DptrainClassifier chosen = (DptrainClassifier) best.bestModel().parent();
        assertEquals(1e-3, chosen.getOrDefault(chosen.learningRate()));
    }

    @Test
    void anUnfittedClassifierSavesAndLoadsWithItsParams() throws IOException {
        DptrainClassifier classifier = new DptrainClassifier().setSpec(BOOK_NETWORK).setEpochs(3).setLearningRate(0.01)
                .setFeaturesCol("pixels").setValidationFraction(0.1);
        String path = dir.resolve("classifier").toString();
        classifier.write().save(path);
        DptrainClassifier loaded = DptrainClassifier.load(path);
        assertEquals(classifier.uid(), loaded.uid());
        assertEquals(BOOK_NETWORK, loaded.getSpec());
        assertEquals(3, loaded.getEpochs());
        assertEquals(0.01, loaded.getOrDefault(loaded.learningRate()));
        assertEquals("pixels", loaded.getFeaturesCol());
        assertEquals(0.1, loaded.getValidationFraction());
        assertEquals(classifier.getBatchSize(), loaded.getBatchSize(), "defaults survive too");
    }

    @Test
    void badParamsAreRefusedNamingTheParamAndTheValue() {
        DptrainClassifier classifier = new DptrainClassifier();
        assertMessage("DptrainClassifier epochs: 0 is not allowed; expected a whole number >= 1",
                assertThrows(IllegalArgumentException.class, () -> classifier.setEpochs(0)));
        assertMessage("DptrainClassifier batchScope: 'replica' is not allowed; expected worker, global or auto",
                assertThrows(IllegalArgumentException.class, () -> classifier.setBatchScope("replica")));
        assertEquals("global", classifier.getBatchScope());
        assertMessage("DptrainClassifier deltaPrecision: 'half' is not allowed; expected float32, float16 or bfloat16",
                assertThrows(IllegalArgumentException.class, () -> classifier.setDeltaPrecision("half")));
        assertEquals("float32", classifier.getDeltaPrecision());
        assertEquals("bfloat16", classifier.setDeltaPrecision("bfloat16").getDeltaPrecision());
        assertMessage("DptrainClassifier optimizerState: 'shared' is not allowed; expected averaged or local",
                assertThrows(IllegalArgumentException.class, () -> classifier.setOptimizerState("shared")));
        assertEquals("averaged", classifier.getOptimizerState());
        assertMessage("DptrainClassifier learningRate: -0.1 is not allowed; expected a number > 0",
                assertThrows(IllegalArgumentException.class, () -> classifier.setLearningRate(-0.1)));
        assertMessage("DptrainClassifier validationFraction: 1.0 is not allowed; expected a fraction in [0, 1)",
                assertThrows(IllegalArgumentException.class, () -> classifier.setValidationFraction(1.0)));
        assertMessage("DptrainClassifier labelCol: ' ' is not allowed; expected a column name",
                assertThrows(IllegalArgumentException.class, () -> classifier.setLabelCol(" ")));
    }

    @Test
    void aBadSpecIsRefusedNamingTheKeyAndTheValue() {
        Dataset<Row> data = vectors(8, 4);
        String badUnits = BOOK_NETWORK.replace("units: 512", "units: -5");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DptrainClassifier().setSpec(badUnits).fit(data));
        assertEquals("DptrainClassifier spec (inline text): layers[0].dense.units: -5 is not allowed; expected a "
                + "whole number >= 1", e.getMessage());

        String missing = dir.resolve("no-such-spec.yaml").toString();
        e = assertThrows(IllegalArgumentException.class, () -> new DptrainClassifier().setSpec(missing).fit(data));
        assertMessage("DptrainClassifier spec: " + missing + ": no such file", e);

        e = assertThrows(IllegalArgumentException.class, () -> new DptrainClassifier().fit(data));
        assertMessage("DptrainClassifier spec: not set", e);
    }

    @Test
    void missingColumnsAndWrongColumnTypesAreRefusedBeforeTraining() {
        Dataset<Row> data = vectors(8, 4);
        DptrainClassifier classifier = new DptrainClassifier().setSpec(smallNetwork(4, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> classifier.copy(new ParamMap()).setFeaturesCol("pixels").fit(data));
        assertMessage("DptrainClassifier featuresCol: the DataFrame has no column 'pixels'; its columns are features, "
                + "label, note", e);

        e = assertThrows(IllegalArgumentException.class,
                () -> classifier.copy(new ParamMap()).setFeaturesCol("note").fit(data));
        assertMessage("DptrainClassifier featuresCol: column 'note' holds string; expected a Spark ML vector or an "
                + "array of numbers", e);

        e = assertThrows(IllegalArgumentException.class,
                () -> classifier.copy(new ParamMap()).setLabelCol("note").fit(data));
        assertEquals("DptrainClassifier labelCol: column 'note' holds string; expected numeric class indices 0..C-1",
                e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> classifier.copy(new ParamMap()).setPredictionCol("label").fit(data));
        assertMessage("DptrainClassifier predictionCol: column 'label' already exists", e);
    }

    @Test
    void badRowsAndTooLargeBatchesAreRefusedBeforeTraining() {
        Dataset<Row> data = vectors(8, 4);
        InputException bad = assertThrows(InputException.class,
                () -> new DptrainClassifier().setSpec(smallNetwork(4, 2)).fit(data));
        assertMessage("DptrainClassifier input: 2 records are bad:\n  DataFrame record 3: label 2 is out of range; "
                + "expected a class in [0, 2) for the model's 2 output units\n  DataFrame record 6: label 2", bad);

        bad = assertThrows(InputException.class, () -> new DptrainClassifier().setSpec(smallNetwork(5, 3)).fit(data));
        assertMessage("DptrainClassifier input: 8 records are bad; the first 5:\n  DataFrame record 1: the example has "
                + "4 features; expected 5 to match the model's input_shape", bad);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DptrainClassifier().setSpec(smallNetwork(4, 3)).setBatchSize(16).fit(data));
        assertEquals("DptrainClassifier batchSize: 16 is larger than the 8 rows left for training (of 8); expected at "
                + "most that many", e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> new DptrainClassifier().setSpec(smallNetwork(4, 3))
                .setBatchSize(1).setWorkers(8).setValidationFraction(0.5).fit(data));
        assertEquals("DptrainClassifier workers: 8 workers need at least as many training rows, but there are 4 (of 8)",
                e.getMessage());
    }

    // --- helpers

    /**
     * Records {@code [from, from + count)} of {@code set}: id, label and the image's 28 rows of pixels
     * (0..255) as vector columns row0..row27. (784 scalar pixel columns work as well, but Spark's
     * planning of so wide a table made this test 3× slower.)
     */
    private static Dataset<Row> imageRows(String set, int from, int count) throws IOException {
        byte[] pixels = FashionMnist.pixels(set, from, count);
        byte[] labels = FashionMnist.labels(set, from, count);
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false)
                .add("label", DataTypes.DoubleType, false);
        for (int r = 0; r < SIDE; r++) {
            // The size in the column's metadata spares VectorAssembler a job to look at the first row.
            schema = schema.add(new AttributeGroup("row" + r, SIDE).toStructField());
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Object[] values = new Object[2 + SIDE];
            values[0] = from + i;
            values[1] = (double) labels[i];
            for (int r = 0; r < SIDE; r++) {
                double[] row = new double[SIDE];
                for (int c = 0; c < SIDE; c++) {
                    row[c] = pixels[i * FashionMnist.PIXELS + r * SIDE + c] & 0xff;
                }
                values[2 + r] = Vectors.dense(row);
            }
            rows.add(RowFactory.create(values));
        }
        return spark.createDataFrame(rows, schema);
    }

    /** Records {@code [from, from + count)} of {@code set}: label and the pixels / 255 as a vector "features". */
    private static Dataset<Row> pixelVectors(String set, int from, int count) throws IOException {
        byte[] pixels = FashionMnist.pixels(set, from, count);
        byte[] labels = FashionMnist.labels(set, from, count);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            double[] x = new double[FashionMnist.PIXELS];
            for (int p = 0; p < x.length; p++) {
                x[p] = (pixels[i * FashionMnist.PIXELS + p] & 0xff) / 255.0;
            }
            rows.add(RowFactory.create((double) labels[i], Vectors.dense(x)));
        }
        StructType schema = new StructType().add("label", DataTypes.DoubleType, false)
                .add("features", new VectorUDT(), false);
        return spark.createDataFrame(rows, schema);
    }

    private static VectorAssembler assembler() {
        return new VectorAssembler()
                .setInputCols(IntStream.range(0, SIDE).mapToObj(r -> "row" + r).toArray(String[]::new))
                .setOutputCol("pixels");
    }

    private static StandardScaler scaler() {
        return new StandardScaler().setInputCol("pixels").setOutputCol("features");
    }

    private static MulticlassClassificationEvaluator accuracy() {
        return new MulticlassClassificationEvaluator().setMetricName("accuracy");
    }

    /** {@code rows} rows of 4-value vectors with labels 0, 1, 2, 0, 1, 2, ... and a string column. */
    private static Dataset<Row> vectors(int rows, int size) {
        List<Row> data = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            data.add(RowFactory.create(Vectors.dense(new double[size]).toDense(), (double) (i % 3), "row " + i));
        }
        StructType schema = new StructType()
                .add("features", new VectorUDT(), false)
                .add("label", DataTypes.DoubleType, false)
                .add("note", DataTypes.StringType, false);
        return spark.createDataFrame(data, schema);
    }

    private static String smallNetwork(int inputs, int classes) {
        return "{\"input_shape\": [" + inputs + "], \"layers\": [{\"dense\": {\"units\": " + classes
                + ", \"activation\": \"softmax\"}}], \"loss\": \"categorical_crossentropy\"}";
    }

    private static double argmax(double[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return best;
    }

    private static void assertMessage(String expectedStart, Throwable e) {
        assertTrue(e.getMessage().startsWith(expectedStart), "expected a message starting with\n" + expectedStart
                + "\nbut got\n" + e.getMessage());
    }
}
