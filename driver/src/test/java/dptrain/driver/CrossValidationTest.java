package dptrain.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.cli.Dptrain;
import dptrain.data.ExampleCheck;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.driver.input.DataFormat;
import dptrain.driver.input.DataInput;
import dptrain.driver.input.ExampleSource;
import dptrain.driver.input.IndexedExamples;
import dptrain.driver.pipeline.BatchedData;
import dptrain.driver.pipeline.CacheMode;
import dptrain.driver.pipeline.DataPipeline;
import dptrain.spec.ModelSpec;
import dptrain.spec.Normalization;
import dptrain.testing.FashionMnist;
import dptrain.testing.LocalSpark;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * K-fold cross-validation (disjoint folds that cover the data, sane per-fold accuracy) and the
 * stratified validation split.
 */
class CrossValidationTest {
    @TempDir
    Path dir;

    @Test
    void foldsAreDisjointCoverTheDataAndTrainOnEverythingElse() throws IOException {
        int examples = 103;
        int folds = 4;
        StringBuilder csv = new StringBuilder();
        for (int i = 0; i < examples; i++) {
            csv.append(i % 4).append(',').append(i).append(",0.5,0.25\n"); // the first feature names the example
        }
        Files.writeString(dir.resolve("ids.csv"), csv);
        ModelSpec spec = ModelSpec.parse("input_shape: [3]\nlayers:\n  - dense: {units: 4, activation: softmax}\n"
                + "loss: categorical_crossentropy\n", "ids.yaml");
        DataInput input = DataInput.of(dir.resolve("ids.csv").toString(), DataFormat.CSV);
        try (JavaSparkContext jsc = LocalSpark.start(2)) {
            IndexedExamples data = ExampleSource.read(jsc, input, "--train", new ExampleCheck(spec), 3, 2);
            DataPipeline pipeline = new DataPipeline(new MinibatchBuilder(8, 3, 4, spec.targetEncoding(), 1f), 2, 11,
                    CacheMode.MEMORY);
            Set<Integer> seen = new HashSet<>();
            for (int k = 0; k < folds; k++) {
                DataPipeline.Split split = pipeline.fold(data, k, folds, Normalization.NONE);
                Set<Integer> heldOut = ids(split.validation());
                Set<Integer> training = ids(split.training());
                assertTrue(heldOut.size() == examples / folds || heldOut.size() == examples / folds + 1,
                        "fold " + k + " holds " + heldOut.size());
                assertEquals(examples, heldOut.size() + training.size(), "fold " + k + " uses every example once");
                training.retainAll(heldOut);
                assertTrue(training.isEmpty(), "fold " + k + " trains on held-out examples " + training);
                for (int id : heldOut) {
                    assertTrue(seen.add(id), "example " + id + " is held out by two folds");
                }
                split.training().release();
                split.validation().release();
            }
            assertEquals(examples, seen.size(), "the held-out folds cover the data");
        }
    }

    @Test
    void aStratifiedSplitHoldsOutTheSameFractionOfEveryClass() throws IOException {
        // 450 examples of class 0, 50 of class 1: an unstratified 20% could easily take 5 or 15 of class 1.
        StringBuilder csv = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            csv.append(i % 10 == 3 ? 1 : 0).append(',').append(i).append(",0.5,0.25\n");
        }
        Files.writeString(dir.resolve("imbalanced.csv"), csv);
        ModelSpec spec = ModelSpec.parse("input_shape: [3]\nlayers:\n  - dense: {units: 2, activation: softmax}\n"
                + "loss: categorical_crossentropy\n", "two.yaml");
        DataInput input = DataInput.of(dir.resolve("imbalanced.csv").toString(), DataFormat.CSV);
        try (JavaSparkContext jsc = LocalSpark.start(2)) {
            IndexedExamples data = ExampleSource.read(jsc, input, "--train", new ExampleCheck(spec), 3, 2);
            DataPipeline pipeline = new DataPipeline(new MinibatchBuilder(16, 3, 2, spec.targetEncoding(), 1f), 2, 5,
                    CacheMode.MEMORY);
            DataPipeline.Split split = pipeline.stratifiedSplit(data, 0.2, Normalization.NONE);
            int[] heldOut = labelCounts(split.validation());
            int[] training = labelCounts(split.training());
            assertEquals(90, heldOut[0], "20% of class 0");
            assertEquals(10, heldOut[1], "20% of class 1");
            assertEquals(360, training[0]);
            assertEquals(40, training[1]);
            Set<Integer> overlap = ids(split.training());
            overlap.retainAll(ids(split.validation()));
            assertTrue(overlap.isEmpty(), "examples in both parts: " + overlap);
            assertEquals(List.of(200L, 200L), List.of(split.training().examplesPerPartition()[0],
                    split.training().examplesPerPartition()[1]), "training partitions stay balanced");
        }
    }

    private static int[] labelCounts(BatchedData data) {
        int[] counts = new int[2];
        for (Minibatch batch : data.batches().collect()) {
            for (int r = 0; r < batch.rows(); r++) {
                counts[batch.label(r)]++;
            }
        }
        return counts;
    }

    private static Set<Integer> ids(BatchedData data) {
        Set<Integer> ids = new HashSet<>();
        for (Minibatch batch : data.batches().collect()) {
            float[] features = batch.featuresArray().getColumn(0).toFloatVector();
            for (float id : features) {
                ids.add((int) id);
            }
        }
        return ids;
    }

    @Test
    void cvTrainsEachFoldAndReportsMeanAndSpread() throws IOException {
        Path images = FashionMnist.writeSlice(dir.resolve("data"), "train", "train", 0, 1500);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Dptrain.run(new PrintWriter(out, true), new PrintWriter(err, true), "cv", "--folds", "3",
                "--model", "../src/examples/mnist-mlp.yaml", "--train", images.toString(), "--epochs", "2",
                "--workers", "2", "--master", "local[2]", "--normalize", "standardize", "--output",
                dir.resolve("cv").toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("Fold 3/3 - val_loss: "), out.toString());
        assertTrue(out.toString().contains("3-fold cross-validation - val_loss: "), out.toString());
        JsonNode cv = new ObjectMapper().readTree(dir.resolve("cv/cv.json").toFile());
        List<JsonNode> perFold = List.copyOf(cv.get("folds").findParents("fold"));
        assertEquals(3, perFold.size());
        long heldOut = 0;
        for (JsonNode fold : perFold) {
            assertTrue(fold.get("val_accuracy").asDouble() > 0.6, fold.toString());
            assertEquals(1000, fold.get("training_examples").asLong());
            heldOut += fold.get("validation_examples").asLong();
        }
        assertEquals(1500, heldOut);
        assertTrue(cv.get("std_val_accuracy").asDouble() >= 0 && cv.get("std_val_accuracy").asDouble() < 0.1, cv.toString());
        double mean = perFold.stream().mapToDouble(f -> f.get("val_accuracy").asDouble()).average().orElseThrow();
        assertEquals(mean, cv.get("mean_val_accuracy").asDouble(), 1e-12);
    }
}
