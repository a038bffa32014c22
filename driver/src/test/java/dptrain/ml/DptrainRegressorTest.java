package dptrain.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.files.InputException;
import dptrain.driver.rounds.EpochRecord;
import dptrain.testing.SklearnData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.evaluation.RegressionEvaluator;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.Param;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DptrainRegressor on scikit-learn's diabetes data (354 training and 88 test patients, 10
 * features, a real-valued target): a Pipeline with a StandardScaler that beats predicting the
 * mean and survives save and load, a CrossValidator with RegressionEvaluator, a model with two
 * outputs, and the messages of bad specs, params and rows.
 */
class DptrainRegressorTest {
    /** src/examples/diabetes-regression.yaml without its normalization, which the Pipeline's StandardScaler does. */
    private static final String DIABETES_NETWORK = """
            input_shape: [10]
            layers:
              - dense: {units: 64, activation: relu}
              - dense: {units: 64, activation: relu}
              - dense: {units: 1}
            optimizer: {rmsprop: {learning_rate: 0.01}}
            loss: mse
            metrics: [mae]
            seed: 12345
            """;

    private static SparkSession spark;
    private static Dataset<Row> train;
    private static Dataset<Row> test;
    private static double trainingMean;

    @TempDir
    Path dir;

    @BeforeAll
    static void startSparkAndReadTheData() throws IOException {
        spark = SparkSession.builder().master("local[2]").appName("dptrain-ml-regressor-test")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        List<double[]> trainRows = SklearnData.rows(SklearnData.file("diabetes", "train.csv"));
        train = diabetes(trainRows);
        test = diabetes(SklearnData.rows(SklearnData.file("diabetes", "test.csv")));
        trainingMean = trainRows.stream().mapToDouble(row -> row[0]).average().orElseThrow();
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }

    @Test
    void aPipelineOfScalerAndRegressorBeatsPredictingTheMeanAndPredictsTheSameAfterSaveAndLoad(TestReporter report)
            throws IOException {
        DptrainRegressor regressor = new DptrainRegressor().setSpec(DIABETES_NETWORK).setEpochs(20).setBatchSize(16)
                .setWorkers(2).setSeed(7);
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {scaler(), regressor});

        PipelineModel fitted = pipeline.fit(train);
        DptrainRegressionModel model = (DptrainRegressionModel) fitted.stages()[1];
        List<EpochRecord> summary = model.summary();
        assertEquals(20, summary.size(), "one history record per epoch");
        assertTrue(summary.get(19).loss() < summary.get(0).loss(), "the loss falls");
        assertTrue(summary.get(19).metric("mae") < summary.get(0).metric("mae"), "the spec's mae is reported");
        Dataset<Row> predictions = fitted.transform(test);
        assertEquals(DataTypes.DoubleType, predictions.schema().apply("prediction").dataType(),
                "one output unit predicts a double");
        double mae = new RegressionEvaluator().setMetricName("mae").evaluate(predictions);
        double meanMae = test.select("label").collectAsList().stream()
                .mapToDouble(row -> Math.abs(row.getDouble(0) - trainingMean)).average().orElseThrow();
        report.publishEntry("test MAE: regressor, always the training mean", mae + ", " + meanMae);
        assertTrue(mae < 0.8 * meanMae, "test MAE " + mae + " against " + meanMae + " for the training mean");

        String saved = dir.resolve("pipeline-model").toString();
        fitted.write().save(saved);
        PipelineModel loaded = PipelineModel.load(saved);
        DptrainRegressionModel loadedModel = (DptrainRegressionModel) loaded.stages()[1];
        assertEquals(model.uid(), loadedModel.uid());
        assertFalse(loadedModel.hasSummary(), "summaries are not saved");
        IllegalStateException noSummary = assertThrows(IllegalStateException.class, loadedModel::summary);
        assertMessage("DptrainRegressionModel " + model.uid() + " has no training summary", noSummary);
        assertArrayEquals(predictionsById(fitted.transform(test)), predictionsById(loaded.transform(test)),
                "the same doubles, row by row");
    }

    @Test
    void aCrossValidatorWithRegressionEvaluatorPicksOneOfTwoLearningRatesAndSavesWithIt(TestReporter report)
            throws IOException {
        DptrainRegressor regressor = new DptrainRegressor().setSpec(DIABETES_NETWORK).setEpochs(10).setBatchSize(16)
                .setWorkers(2).setSeed(7);
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {scaler(), regressor});
        ParamMap[] grid = new ParamGridBuilder().addGrid(regressor.learningRate(), new double[] {1e-3, 1e-2}).build();
        CrossValidator cv = new CrossValidator().setEstimator(pipeline).setEstimatorParamMaps(grid)
                .setEvaluator(new RegressionEvaluator().setMetricName("rmse")).setNumFolds(2).setSeed(3);

        CrossValidatorModel best = cv.fit(train);

        double[] rmse = best.avgMetrics();
        report.publishEntry("avgMetrics (rmse) for learningRate 1e-3, 1e-2", Arrays.toString(rmse));
        assertEquals(2, rmse.length, "one mean RMSE per learning rate");
        assertNotEquals(rmse[0], rmse[1], "the learning rate reaches the optimizer");
        DptrainRegressor chosen = (DptrainRegressor) ((DptrainRegressionModel) ((PipelineModel) best.bestModel())
                .stages()[1]).parent();
        double lowest = rmse[0] < rmse[1] ? 1e-3 : 1e-2;
        assertEquals(lowest, chosen.getOrDefault(chosen.learningRate()), "the lower RMSE wins: " + Arrays.toString(rmse));

        String saved = dir.resolve("cv-model").toString();
        best.write().save(saved);
        CrossValidatorModel loaded = CrossValidatorModel.load(saved);
        assertArrayEquals(rmse, loaded.avgMetrics());
        assertArrayEquals(predictionsById(best.transform(test)), predictionsById(loaded.transform(test)));
        Pipeline loadedPipeline = (Pipeline) loaded.getEstimator();
        DptrainRegressor loadedRegressor = (DptrainRegressor) loadedPipeline.getStages()[1];
        assertEquals(DIABETES_NETWORK, loadedRegressor.getSpec(), "the estimator is saved with its params");
        assertEquals(10, loadedRegressor.getEpochs());
    }

    @Test
    void aModelWithTwoOutputsLearnsFromAnArrayColumnAndPredictsAVectorOfWhatItsNetworkOutputs() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            double a = (i % 8) / 8.0;
            double b = (i % 5) / 5.0;
            rows.add(RowFactory.create(Vectors.dense(a, b, a * b), List.of(a + b, a - b)));
        }
        StructType schema = new StructType().add("features", new VectorUDT(), false)
                .add("targets", DataTypes.createArrayType(DataTypes.DoubleType), false);
        Dataset<Row> data = spark.createDataFrame(rows, schema);
        DptrainRegressor regressor = new DptrainRegressor().setSpec(linearNetwork(3, 2, "mse")).setLabelCol("targets")
                .setPredictionCol("both").setEpochs(2).setBatchSize(5).setWorkers(2);
        assertEquals(new VectorUDT(), regressor.transformSchema(schema).apply("both").dataType(),
                "the estimator's schema says what the model adds");

        DptrainRegressionModel model = regressor.fit(data);

        assertEquals(2, model.numOutputs());
        assertEquals(3, model.numFeatures());
        List<Row> predicted = model.transform(data).collectAsList();
        assertEquals(new VectorUDT(), model.transform(data).schema().apply("both").dataType());
        double[][] x = new double[predicted.size()][];
        for (int i = 0; i < x.length; i++) {
            x[i] = ((Vector) predicted.get(i).getAs("features")).toArray();
        }
        float[][] expected = model.network().output(Nd4j.create(x).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT))
                .toFloatMatrix();
        for (int i = 0; i < x.length; i++) {
            double[] both = ((Vector) predicted.get(i).getAs("both")).toArray();
            assertEquals(2, both.length);
            assertArrayEquals(new double[] {expected[i][0], expected[i][1]}, both, 1e-6, "row " + i);
        }
    }

    @Test
    void aClassificationSpecIsRefusedNamingTheSpecParamAndTheLoss() {
        String classifier = "{\"input_shape\": [10], \"layers\": [{\"dense\": {\"units\": 3, \"activation\": "
                + "\"softmax\"}}], \"loss\": \"categorical_crossentropy\"}";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DptrainRegressor().setSpec(classifier).fit(unscaled()));
        assertEquals("DptrainRegressor spec: loss: categorical_crossentropy is a classification loss; expected a "
                + "regression loss (mse, mae, huber or mean_squared_logarithmic_error), or DptrainClassifier for "
                + "classification", e.getMessage());

        // And the other way round: the classifier sends regression specs here.
        e = assertThrows(IllegalArgumentException.class,
                () -> new DptrainClassifier().setSpec(DIABETES_NETWORK).fit(unscaled()));
        assertMessage("DptrainClassifier spec: loss: mse is a regression loss; expected a classifier", e);
        assertTrue(e.getMessage().endsWith("or DptrainRegressor for regression"), e.getMessage());
    }

    @Test
    void aSpecThatNormalizesIsRefusedInFavourOfAScalerStage() {
        String example = Path.of("..", "src", "examples", "diabetes-regression.yaml").toString();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DptrainRegressor().setSpec(example).fit(unscaled()));
        assertEquals("DptrainRegressor spec: normalization: standardize is not applied by DptrainRegressor; expected "
                + "no normalization in the spec, with a StandardScaler or MinMaxScaler stage before the regressor in "
                + "the Pipeline instead", e.getMessage());
    }

    @Test
    void badParamsAreRefusedNamingTheRegressorTheParamAndTheValue() {
        DptrainRegressor regressor = new DptrainRegressor();
        assertMessage("DptrainRegressor epochs: 0 is not allowed; expected a whole number >= 1",
                assertThrows(IllegalArgumentException.class, () -> regressor.setEpochs(0)));
        assertMessage("DptrainRegressor learningRate: -0.1 is not allowed; expected a number > 0",
                assertThrows(IllegalArgumentException.class, () -> regressor.setLearningRate(-0.1)));
        assertMessage("DptrainRegressor averagingFrequency: 'often' is not allowed; expected a whole number of "
                + "minibatches >= 1, 'epoch' or 'auto'",
                assertThrows(IllegalArgumentException.class, () -> regressor.setAveragingFrequency("often")));
        assertMessage("DptrainRegressor predictionCol: ' ' is not allowed; expected a column name",
                assertThrows(IllegalArgumentException.class, () -> regressor.setPredictionCol(" ")));
        assertMessage("DptrainRegressor spec: not set",
                assertThrows(IllegalArgumentException.class, () -> regressor.fit(unscaled())));
    }

    @Test
    void wrongColumnsAndBadTargetsAreRefusedBeforeTraining() {
        DptrainRegressor regressor = new DptrainRegressor().setSpec(linearNetwork(4, 1, "mae")).setBatchSize(2);
        Dataset<Row> data = spark.createDataFrame(List.of(
                RowFactory.create(Vectors.dense(1, 2, 3, 4), 1.5, Vectors.dense(1, 2), "a"),
                RowFactory.create(Vectors.dense(1, 2, 3, 4), Double.NaN, Vectors.dense(1, 2), "b"),
                RowFactory.create(Vectors.dense(1, 2, 3), 2.5, Vectors.dense(1, 2), "c")),
                new StructType().add("features", new VectorUDT()).add("label", DataTypes.DoubleType)
                        .add("pair", new VectorUDT()).add("note", DataTypes.StringType));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> regressor.copy(new ParamMap()).setLabelCol("note").fit(data));
        assertEquals("DptrainRegressor labelCol: column 'note' holds string; expected real-valued targets: a number, "
                + "or an array or Spark ML vector of numbers for several output units", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> regressor.copy(new ParamMap()).setPredictionCol("label").fit(data));
        assertMessage("DptrainRegressor predictionCol: column 'label' already exists", e);

        InputException bad = assertThrows(InputException.class, () -> regressor.fit(data));
        assertMessage("DptrainRegressor input: 2 records are bad:\n  DataFrame record 2: column 'label' holds NaN; "
                + "expected a finite real-valued regression target\n  DataFrame record 3: the example has 3 features; "
                + "expected 4", bad);
        bad = assertThrows(InputException.class, () -> regressor.copy(new ParamMap()).setLabelCol("pair").fit(data));
        assertMessage("DptrainRegressor input: 3 records are bad:\n  DataFrame record 1: column 'pair' holds 2 values; "
                + "expected 1 regression target, one per output unit", bad);
    }

    @Test
    void theRegressorHasTheClassifiersTrainingParamsAndSavesThem() throws IOException {
        List<String> classifier = Arrays.stream(new DptrainClassifier().params()).map(Param::name).toList();
        List<String> regressor = Arrays.stream(new DptrainRegressor().params()).map(Param::name).toList();
        assertEquals(classifier.stream().filter(name -> !name.equals("probabilityCol")).toList(), regressor);

        DptrainRegressor unfitted = new DptrainRegressor().setSpec(DIABETES_NETWORK).setEpochs(3).setLearningRate(0.01)
                .setLabelCol("progression").setValidationFraction(0.1);
        String path = dir.resolve("regressor").toString();
        unfitted.write().save(path);
        DptrainRegressor loaded = DptrainRegressor.load(path);
        assertEquals(unfitted.uid(), loaded.uid());
        assertEquals(DIABETES_NETWORK, loaded.getSpec());
        assertEquals(3, loaded.getEpochs());
        assertEquals(0.01, loaded.getOrDefault(loaded.learningRate()));
        assertEquals("progression", loaded.getLabelCol());
        assertEquals(0.1, loaded.getValidationFraction());
        assertEquals(unfitted.getBatchSize(), loaded.getBatchSize(), "defaults survive too");
    }

    // --- helpers

    /** Rows of a diabetes file (target first): id, label and the 10 raw features as the vector "raw". */
    private static Dataset<Row> diabetes(List<double[]> rows) {
        List<Row> data = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            double[] row = rows.get(i);
            data.add(RowFactory.create(i, row[0], Vectors.dense(Arrays.copyOfRange(row, 1, row.length))));
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false)
                .add("label", DataTypes.DoubleType, false).add("raw", new VectorUDT(), false);
        return spark.createDataFrame(data, schema);
    }

    /** Standardizes the raw features as the example spec's normalization would: mean 0, standard deviation 1. */
    private static StandardScaler scaler() {
        return new StandardScaler().setInputCol("raw").setOutputCol("features").setWithMean(true).setWithStd(true);
    }

    /** The training rows with the raw features as "features", for tests that fail before training. */
    private static Dataset<Row> unscaled() {
        return train.withColumnRenamed("raw", "features");
    }

    private static String linearNetwork(int inputs, int outputs, String loss) {
        return "{\"input_shape\": [" + inputs + "], \"layers\": [{\"dense\": {\"units\": " + outputs + "}}], "
                + "\"optimizer\": {\"sgd\": {\"learning_rate\": 0.05}}, \"loss\": \"" + loss + "\", \"seed\": 3}";
    }

    private static double[] predictionsById(Dataset<Row> predictions) {
        return predictions.orderBy("id").select("prediction").collectAsList().stream()
                .mapToDouble(row -> row.getDouble(0)).toArray();
    }

    private static void assertMessage(String expectedStart, Throwable e) {
        assertTrue(e.getMessage().startsWith(expectedStart), "expected a message starting with\n" + expectedStart
                + "\nbut got\n" + e.getMessage());
    }
}
