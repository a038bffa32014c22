package dptrain.ml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.metrics.TrainingMetrics;
import dptrain.testing.MetricsSourceProbe;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkEnv;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** An estimator's fit publishes its training's figures in Spark's metrics system, as 'dptrain train' does. */
class EstimatorMetricsTest {
    private static SparkSession spark;

    @BeforeAll
    static void startSpark() {
        String[] probe = MetricsSourceProbe.enable();
        spark = SparkSession.builder().master("local[2]").appName("dptrain-ml-metrics-test")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config(probe[0], probe[1]).getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }

    @Test
    void fitPublishesTheDptrainSourceWhileItsRoundsRunAndTakesItOutAfter() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            double a = (i % 8) / 8.0;
            double b = (i % 5) / 5.0;
            rows.add(RowFactory.create(Vectors.dense(a, b), a + b));
        }
        StructType schema = new StructType().add("features", new VectorUDT(), false)
                .add("label", DataTypes.DoubleType, false);
        Dataset<Row> data = spark.createDataFrame(rows, schema);
        DptrainRegressor regressor = new DptrainRegressor().setSpec("{\"input_shape\": [2], \"layers\": "
                + "[{\"dense\": {\"units\": 1}}], \"optimizer\": {\"sgd\": {\"learning_rate\": 0.1}}, \"loss\": \"mse\"}")
                .setEpochs(2).setBatchSize(5).setWorkers(2);
        MetricsSourceProbe.SOURCES_SEEN.clear();

        regressor.fit(data);

        List<Integer> seen = List.copyOf(MetricsSourceProbe.SOURCES_SEEN);
        assertFalse(seen.isEmpty(), "the probe ran in no round's task");
        assertTrue(seen.stream().allMatch(n -> n == 1), "dptrain sources in the metrics system as each round's "
                + "tasks started: " + seen);
        assertEquals(0, SparkEnv.get().metricsSystem().getSourcesByName(TrainingMetrics.SOURCE_NAME).size(),
                "the source is taken out when fit returns");
    }
}
