package dptrain.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.data.SeededPermutation;
import dptrain.driver.input.DataFormat;
import dptrain.driver.input.DataInput;
import dptrain.driver.output.RunOutputs;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.spec.ModelSpec;
import dptrain.spec.Normalization;
import dptrain.testing.LocalSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.preprocessor.DataNormalization;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerMinMaxScaler;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Normalization is fitted on the training split alone: its statistics equal DL4J's own
 * single-machine fit over exactly the training rows, while validation and test rows, made extreme
 * on purpose, would move them far if they reached the fit.
 */
class NormalizationTest {
    private static final int EXAMPLES = 400;
    private static final double VALIDATION = 0.2;
    private static final long SEED = 21;

    @TempDir
    static Path dir;
    private static JavaSparkContext jsc;
    private static float[][] features = new float[EXAMPLES][3];
    private static int[] labels = new int[EXAMPLES];
    private static List<Integer> trainingRows = new ArrayList<>();

    @BeforeAll
    static void data() throws IOException {
        jsc = LocalSpark.start(2);
        SeededPermutation permutation = new SeededPermutation(EXAMPLES, SEED);
        long validationCount = Math.round(EXAMPLES * VALIDATION);
        Random random = new Random(5);
        StringBuilder train = new StringBuilder();
        for (int r = 0; r < EXAMPLES; r++) {
            boolean validation = permutation.apply(r) < validationCount;
            labels[r] = r % 4;
            for (int f = 0; f < 3; f++) {
                // Validation rows sit a thousand away: a fit that saw them would have a mean near 200.
                features[r][f] = (float) (random.nextGaussian() * (f + 1) + labels[r]) + (validation ? 1000 : 0);
            }
            if (!validation) {
                trainingRows.add(r);
            }
            train.append(labels[r]).append(',').append(features[r][0]).append(',').append(features[r][1]).append(',')
                    .append(features[r][2]).append('\n');
        }
        Files.writeString(dir.resolve("train.csv"), train);
        Files.writeString(dir.resolve("test.csv"), "1,-5000,-5000,-5000\n2,-7000,-7000,-7000\n");
    }

    @AfterAll
    static void stop() {
        jsc.close();
    }

    private static TrainingResult train(Normalization normalization) {
        ModelSpec spec = ModelSpec.parse("input_shape: [3]\nlayers:\n  - dense: {units: 4, activation: softmax}\n"
                + "loss: categorical_crossentropy\nnormalization: " + normalization.specName() + "\n", "normalized.yaml");
        DataInput csv = DataInput.of(dir.resolve("train.csv").toString(), DataFormat.CSV);
        DataInput test = DataInput.of(dir.resolve("test.csv").toString(), DataFormat.CSV);
        TrainingConfig config = TrainingConfig.builder(spec, csv).test(test).epochs(1).batchSize(16).workers(2)
                .averaging(AveragingSchedule.EVERY_EPOCH).blockMomentum(BlockMomentum.NONE).validationSplit(VALIDATION)
                .seed(SEED).output(dir.resolve("out-" + normalization.specName()).toString()).build();
        return new DistributedTrainer(jsc).train(config, new TrainingProgress() { });
    }

    /** DL4J's own fit over exactly the training rows, on one machine. */
    private static DataSet trainingRows() {
        float[][] x = new float[trainingRows.size()][];
        float[][] y = new float[trainingRows.size()][4];
        for (int i = 0; i < x.length; i++) {
            x[i] = features[trainingRows.get(i)];
            y[i][labels[trainingRows.get(i)]] = 1;
        }
        return new DataSet(Nd4j.create(x), Nd4j.create(y));
    }

    @Test
    void standardizationStatisticsComeFromTheTrainingRowsAlone() throws IOException {
        TrainingResult result = train(Normalization.STANDARDIZE);
        assertEquals(trainingRows.size(), result.trainingExamples());
        NormalizerStandardize expected = new NormalizerStandardize();
        expected.fit(trainingRows());
        float[][] stats = result.normalizer().orElseThrow().statistics();
        assertArrayEquals(expected.getMean().toFloatVector(), stats[0], 1e-4f, "mean");
        assertArrayEquals(expected.getStd().toFloatVector(), stats[1], 1e-4f, "std");
        assertTrue(stats[0][0] < 10, "validation rows (at 1000) and test rows (at -5000) stayed out of the fit");
        assertSavedNormalizerTransformsLike(expected, result);
    }

    @Test
    void minMaxStatisticsComeFromTheTrainingRowsAlone() throws IOException {
        TrainingResult result = train(Normalization.MINMAX);
        NormalizerMinMaxScaler expected = new NormalizerMinMaxScaler(0, 1);
        expected.fit(trainingRows());
        float[][] stats = result.normalizer().orElseThrow().statistics();
        assertArrayEquals(expected.getMin().toFloatVector(), stats[0], 1e-5f, "min");
        assertArrayEquals(expected.getMax().toFloatVector(), stats[1], 1e-5f, "max");
        assertTrue(stats[1][0] < 100, "validation rows stayed out of the fit");
        assertSavedNormalizerTransformsLike(expected, result);
    }

    /** model.zip carries the normalizer, so a reloaded model transforms inputs as training did. */
    private static void assertSavedNormalizerTransformsLike(DataNormalization expected, TrainingResult result)
            throws IOException {
        String name = result.normalizer().orElseThrow().kind().specName();
        ModelSpec spec = ModelSpec.parse("input_shape: [3]\nlayers:\n  - dense: {units: 4, activation: softmax}\n"
                + "loss: categorical_crossentropy\n", "normalized.yaml");
        TrainingConfig config = TrainingConfig.builder(spec, DataInput.idx("unused")).epochs(1).batchSize(16).workers(2)
                .averaging(AveragingSchedule.EVERY_EPOCH).blockMomentum(BlockMomentum.NONE).seed(SEED)
                .output(dir.resolve("saved-" + name).toString()).build();
        RunOutputs outputs = new RunOutputs(config.output().orElseThrow(), jsc.hadoopConfiguration());
        outputs.writeModel(config, result);
        DataNormalization saved = ModelSerializer.restoreNormalizerFromFile(dir.resolve("saved-" + name + "/model.zip").toFile());
        DataSet sample = trainingRows();
        DataSet a = sample.copy();
        DataSet b = sample.copy();
        expected.preProcess(a);
        saved.preProcess(b);
        assertTrue(a.getFeatures().equalsWithEps(b.getFeatures(), 1e-4), "a reloaded model normalizes like training");
        assertTrue(!a.getFeatures().equalsWithEps(sample.getFeatures(), 1e-2), "and it does normalize");
    }
}
