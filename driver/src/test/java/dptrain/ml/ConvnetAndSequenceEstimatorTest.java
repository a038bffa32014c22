package dptrain.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.files.InputException;
import dptrain.testing.FashionMnist;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Spark ML estimator trains the networks of issue 16 from a DataFrame: a convnet on image rows (a vector column,
 * reshaped to the spec's input_shape [28, 28, 1]) and an embedding and LSTM on token-id sequences (an array column,
 * input_shape [12]). transform() predicts what the trained DL4J network, the one a CLI model.zip would hold, gives.
 */
class ConvnetAndSequenceEstimatorTest {

    private static final String CONVNET = """
            input_shape: [28, 28, 1]
            layers:
              - conv2d: {filters: 8, kernel_size: 3, activation: relu}
              - max_pooling2d: {pool_size: 2}
              - flatten:
              - dense: {units: 10, activation: softmax}
            loss: categorical_crossentropy
            metrics: [accuracy]
            seed: 5
            """;

    /** src/examples/marker-lstm.yaml, inline. */
    private static final String MARKER_LSTM = """
            input_shape: [12]
            layers:
              - embedding: {input_dim: 10, output_dim: 8}
              - lstm: {units: 16}
              - dense: {units: 2, activation: softmax}
            optimizer: {rmsprop: {learning_rate: 0.01}}
            loss: categorical_crossentropy
            metrics: [accuracy]
            seed: 7
            """;

    private static SparkSession spark;

    @TempDir
    Path dir;

    @BeforeAll
    static void startSpark() {
        spark = SparkSession.builder().master("local[2]").appName("dptrain-ml-shapes-test")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }

    /** Fashion-MNIST images as one vector column of 784 pixels in [0, 1], row by row, and a double label. */
    private static Dataset<Row> images(String set, int from, int count) throws IOException {
        byte[] pixels = FashionMnist.pixels(set, from, count);
        byte[] labels = FashionMnist.labels(set, from, count);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            double[] x = new double[FashionMnist.PIXELS];
            for (int p = 0; p < x.length; p++) {
                x[p] = (pixels[i * FashionMnist.PIXELS + p] & 0xff) / 255.0;
            }
            rows.add(RowFactory.create(i, (double) labels[i], Vectors.dense(x)));
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("label", DataTypes.DoubleType)
                .add("features", new VectorUDT());
        return spark.createDataFrame(rows, schema);
    }

    /** The marker rule: 12 tokens of 1-9, and in half of the rows the marker 0 at one random position, labelled 1. */
    private static Dataset<Row> markerSequences(int count, long seed) {
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
            rows.add(RowFactory.create(r, (double) label, tokens));
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("label", DataTypes.DoubleType)
                .add("features", DataTypes.createArrayType(DataTypes.DoubleType));
        return spark.createDataFrame(rows, schema);
    }

    /** Accuracy of transform()'s predictions, after checking that they are the trained network's own outputs. */
    private static double accuracyMatchingTheNetwork(DptrainClassificationModel model, Dataset<Row> test) {
        List<Row> predicted = model.transform(test).orderBy("id").collectAsList();
        MultiLayerNetwork network = model.network();
        float[][] features = new float[predicted.size()][];
        for (int i = 0; i < features.length; i++) {
            Object cell = predicted.get(i).getAs("features");
            double[] values = cell instanceof Vector vector ? vector.toArray()
                    : predicted.get(i).<Double>getList(predicted.get(i).fieldIndex("features")).stream()
                    .mapToDouble(Double::doubleValue).toArray();
            features[i] = new float[values.length];
            for (int j = 0; j < values.length; j++) {
                features[i][j] = (float) values[j];
            }
        }
        INDArray expected = network.output(Nd4j.create(features));
        int correct = 0;
        for (int i = 0; i < features.length; i++) {
            Row row = predicted.get(i);
            double[] probability = ((Vector) row.getAs("probability")).toArray();
            float[] direct = expected.getRow(i).toFloatVector();
            for (int c = 0; c < direct.length; c++) {
                assertEquals(direct[c], probability[c], 1e-6, "row " + i + " class " + c);
            }
            assertEquals((double) expected.getRow(i).argMax().getInt(0), row.<Double>getAs("prediction"), "row " + i);
            if (row.<Double>getAs("prediction").equals(row.<Double>getAs("label"))) {
                correct++;
            }
        }
        return correct / (double) features.length;
    }

    @Test
    void aConvnetTrainsFromAVectorColumnReshapedToItsInputShapeAndPredictsWhatItsNetworkGives()
            throws IOException {
        DptrainClassificationModel model = new DptrainClassifier().setSpec(CONVNET).setEpochs(3).setBatchSize(32)
                .setWorkers(2).setSeed(3).fit(images("train", 0, 600));
        assertEquals(784, model.numFeatures());
        double accuracy = accuracyMatchingTheNetwork(model, images("t10k", 0, 300));
        assertTrue(accuracy > 0.5, "accuracy on 300 held-out images " + accuracy + "; chance is 0.1");
    }

    @Test
    void anEmbeddingAndLstmTrainFromAnArrayColumnOfTokenIdsAndPredictWhatTheirNetworkGives() {
        DptrainClassificationModel model = new DptrainClassifier().setSpec(MARKER_LSTM).setEpochs(4).setBatchSize(32)
                .setWorkers(2).setSeed(3).fit(markerSequences(2000, 1));
        assertArrayEquals(new int[] {2}, new int[] {model.numClasses()});
        double accuracy = accuracyMatchingTheNetwork(model, markerSequences(400, 2));
        assertTrue(accuracy > 0.8, "accuracy on 400 held-out sequences " + accuracy + "; chance is 0.5");
    }

    /** The marker rule on 6 to 18 tokens of 1-8; the marker 9 in one of the last 12 positions of half the rows. */
    private static Dataset<Row> raggedMarkerSequences(int count, long seed) {
        Random random = new Random(seed);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < count; r++) {
            int length = 6 + random.nextInt(13);
            List<Double> tokens = new ArrayList<>();
            for (int t = 0; t < length; t++) {
                tokens.add((double) (1 + random.nextInt(8)));
            }
            int label = random.nextInt(2);
            if (label == 1) {
                tokens.set(length - 1 - random.nextInt(Math.min(length, 12)), 9.0);
            }
            rows.add(RowFactory.create(r, (double) label, tokens));
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("label", DataTypes.DoubleType)
                .add("features", DataTypes.createArrayType(DataTypes.DoubleType));
        return spark.createDataFrame(rows, schema);
    }

    @Test
    void raggedSequencesArePaddedAndTruncatedInFitAndTransformAsThePadSequencesParamsSay() throws IOException {
        DptrainClassifier classifier = new DptrainClassifier().setSpec(MARKER_LSTM).setEpochs(4).setBatchSize(32)
                .setWorkers(2).setSeed(3);
        Dataset<Row> train = raggedMarkerSequences(2000, 1);
        InputException refused = assertThrows(InputException.class, () -> classifier.fit(train));
        assertTrue(refused.getMessage().contains("column 'features' holds a sequence of"), refused.getMessage());
        assertTrue(refused.getMessage().contains("the Spark ML param padSequences"), refused.getMessage());
        DptrainClassificationModel model = classifier.setPadSequences("pre").setTruncateSequences("pre").fit(train);
        assertEquals("pre", model.getOrDefault(model.padSequences()), "fit copies the params to the model");
        String saved = dir.resolve("ragged-model").toString();
        model.write().save(saved);
        DptrainClassificationModel loaded = DptrainClassificationModel.load(saved);
        assertEquals("pre", loaded.getOrDefault(loaded.padSequences()), "saved with the model's params");
        assertEquals("pre", loaded.getOrDefault(loaded.truncateSequences()), "saved with the model's params");
        List<Row> predicted = model.transform(raggedMarkerSequences(400, 2)).orderBy("id").collectAsList();
        MultiLayerNetwork network = model.network();
        int correct = 0;
        for (Row row : predicted) {
            List<Double> tokens = row.getList(row.fieldIndex("features"));
            float[] padded = new float[12];
            int kept = Math.min(12, tokens.size());
            for (int t = 0; t < kept; t++) {
                // pre padding and pre truncating: the last 12 tokens, right-aligned.
                padded[12 - kept + t] = tokens.get(tokens.size() - kept + t).floatValue();
            }
            float[] direct = network.output(Nd4j.create(new float[][] {padded})).toFloatVector();
            double[] probability = ((Vector) row.getAs("probability")).toArray();
            for (int c = 0; c < 2; c++) {
                assertEquals(direct[c], probability[c], 1e-6, "row " + row.getAs("id"));
            }
            if (row.<Double>getAs("prediction").equals(row.<Double>getAs("label"))) {
                correct++;
            }
        }
        double accuracy = correct / (double) predicted.size();
        assertTrue(accuracy > 0.8, "accuracy on 400 held-out ragged sequences " + accuracy + "; chance is 0.5");
    }

    @Test
    void aBadPadSequencesValueIsRefusedNamingTheParam() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DptrainClassifier().setPadSequences("middle"));
        assertEquals("DptrainClassifier padSequences: 'middle' is not allowed; expected none, pre or post",
                e.getMessage());
    }
}
