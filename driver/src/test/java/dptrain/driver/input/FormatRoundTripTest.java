package dptrain.driver.input;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingProgress;
import dptrain.driver.TrainingResult;
import dptrain.driver.pipeline.CacheMode;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.spec.ModelSpec;
import dptrain.testing.FashionMnist;
import dptrain.testing.LocalSpark;
import dptrain.testing.Tables;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same examples as IDX, CSV, LibSVM and Parquet train to the same parameters with the same
 * seed, and so do minibatches cached in memory, on disk, or rebuilt every round.
 */
class FormatRoundTripTest {
    private static final int EXAMPLES = 300;
    private static final float SCALE = 1f / 255f;

    @TempDir
    static Path dir;
    private static JavaSparkContext jsc;
    private static Path idx;
    private static int[] labels;
    private static int[][] pixels;

    @BeforeAll
    static void writeTheSameExamplesInEveryFormat() throws IOException {
        jsc = LocalSpark.start(2);
        idx = FashionMnist.writeSlice(dir.resolve("idx"), "train", "slice", 0, EXAMPLES);
        readIdx();
        StringBuilder csv = new StringBuilder();
        StringBuilder libsvm = new StringBuilder();
        List<Row> arrays = new ArrayList<>();
        List<Row> vectors = new ArrayList<>();
        for (int r = 0; r < EXAMPLES; r++) {
            csv.append(labels[r]);
            libsvm.append(labels[r]);
            float[] asFloats = new float[FashionMnist.PIXELS];
            double[] asDoubles = new double[FashionMnist.PIXELS];
            for (int p = 0; p < FashionMnist.PIXELS; p++) {
                csv.append(',').append(pixels[r][p]);
                if (pixels[r][p] != 0) {
                    libsvm.append(' ').append(p + 1).append(':').append(pixels[r][p]);
                }
                asFloats[p] = pixels[r][p];
                asDoubles[p] = pixels[r][p];
            }
            csv.append('\n');
            libsvm.append('\n');
            List<Float> boxed = new ArrayList<>();
            for (float f : asFloats) {
                boxed.add(f);
            }
            arrays.add(RowFactory.create(labels[r], boxed));
            vectors.add(RowFactory.create((double) labels[r], Vectors.dense(asDoubles)));
        }
        Files.writeString(dir.resolve("slice.csv"), csv);
        Files.writeString(dir.resolve("slice.libsvm"), libsvm);
        Tables.writeParquet(jsc, dir.resolve("arrays.parquet"), new StructType()
                .add("label", DataTypes.IntegerType).add("features", DataTypes.createArrayType(DataTypes.FloatType)), arrays);
        Tables.writeParquet(jsc, dir.resolve("vectors.parquet"), new StructType()
                .add("y", DataTypes.DoubleType).add("x", new VectorUDT()), vectors);
    }

    @AfterAll
    static void stop() {
        jsc.close();
    }

    @Test
    void everyFormatTrainsToTheParametersOfIdx() throws IOException {
        float[] fromIdx = train(DataInput.idx(idx.toString()));
        List<DataInput> others = List.of(
                DataInput.of(dir.resolve("slice.csv").toString(), DataFormat.CSV).withFeatureMultiplier(SCALE),
                DataInput.of(dir.resolve("slice.libsvm").toString(), DataFormat.LIBSVM).withFeatureMultiplier(SCALE),
                DataInput.of(dir.resolve("arrays.parquet").toString(), DataFormat.PARQUET).withFeatureMultiplier(SCALE),
                DataInput.of(dir.resolve("vectors.parquet").toString(), DataFormat.PARQUET).withFeatureMultiplier(SCALE)
                        .withColumns(new DataInput.Columns("x", "y")));
        for (DataInput input : others) {
            assertArrayEquals(fromIdx, train(input), input.format() + " " + input.uri());
        }
    }

    @Test
    void minibatchesKeptOnDiskOrRebuiltEachRoundTrainTheSameParameters() throws IOException {
        float[] inMemory = train(DataInput.idx(idx.toString()));
        for (CacheMode cache : List.of(CacheMode.DISK, CacheMode.NONE)) {
            assertArrayEquals(inMemory, train(DataInput.idx(idx.toString()), cache), "--cache " + cache);
        }
    }

    private static float[] train(DataInput input) throws IOException {
        return train(input, CacheMode.MEMORY);
    }

    private static float[] train(DataInput input, CacheMode cache) throws IOException {
        ModelSpec spec = ModelSpec.read(Path.of("../src/examples/mnist-mlp.yaml"));
        TrainingConfig config = TrainingConfig.builder(spec, input).epochs(1).batchSize(32).workers(2)
                .averaging(AveragingSchedule.everyMinibatches(4)).blockMomentum(BlockMomentum.NONE).seed(3)
                .output(dir.resolve("out").toString()).cache(cache).build();
        TrainingResult result = new DistributedTrainer(jsc).train(config, new TrainingProgress() { });
        assertEquals(EXAMPLES, result.trainingExamples());
        return result.finalState().copyParameters();
    }

    private static void readIdx() throws IOException {
        labels = new int[EXAMPLES];
        pixels = new int[EXAMPLES][FashionMnist.PIXELS];
        Path labelsFile = idx.resolveSibling("slice-labels-idx1-ubyte");
        try (InputStream i = Files.newInputStream(idx); InputStream l = Files.newInputStream(labelsFile);
                DataInputStream images = new DataInputStream(i); DataInputStream classes = new DataInputStream(l)) {
            images.skipNBytes(16);
            classes.skipNBytes(8);
            for (int r = 0; r < EXAMPLES; r++) {
                labels[r] = classes.readUnsignedByte();
                for (int p = 0; p < FashionMnist.PIXELS; p++) {
                    pixels[r][p] = images.readUnsignedByte();
                }
            }
        }
    }
}
