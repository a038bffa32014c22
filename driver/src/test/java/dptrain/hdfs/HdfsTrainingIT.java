package dptrain.hdfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.cli.Dptrain;
import dptrain.cli.ExitCodes;
import dptrain.testing.FashionMnist;
import dptrain.testing.LocalSpark;
import java.io.BufferedWriter;
import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
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
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code dptrain train} against a real HDFS (an in-process MiniDFSCluster): a Fashion-MNIST slice uploaded as
 * Parquet and as CSV, read from {@code hdfs://}, with model, history and provenance written back to {@code hdfs://}.
 */
class HdfsTrainingIT {
    private static final int TRAIN = 2000;
    private static final int TEST = 500;
    private static final int BOOK_PARAMS = 784 * 512 + 512 + 512 * 10 + 10;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path local;
    private static MiniDFSCluster cluster;
    private static FileSystem hdfs;
    /** {@code hdfs://localhost:port}, the root every URI of these tests starts with. */
    private static String root;
    private static Slice test;

    @BeforeAll
    static void startHdfsAndUploadTheSlices() throws IOException {
        Configuration conf = new Configuration();
        conf.setInt("dfs.replication", 1);
        // Under target/ (the module folder is the working directory); shutdown(true) deletes it.
        File baseDir = Path.of("target", "minidfs-" + UUID.randomUUID()).toAbsolutePath().toFile();
        cluster = new MiniDFSCluster.Builder(conf, baseDir).numDataNodes(1).build();
        cluster.waitActive();
        hdfs = cluster.getFileSystem();
        root = hdfs.getUri().toString();

        Slice train = Slice.read(FashionMnist.writeSlice(local, "train", "train", 0, TRAIN), TRAIN);
        test = Slice.read(FashionMnist.writeSlice(local, "t10k", "test", 0, TEST), TEST);
        hdfs.copyFromLocalFile(new org.apache.hadoop.fs.Path(Path.of("../src/examples/mnist-mlp.yaml").toUri()),
                path("/specs/mnist-mlp.yaml"));
        train.writeCsv(hdfs, path("/data/train.csv"));
        test.writeCsv(hdfs, path("/data/test.csv"));
        try (JavaSparkContext jsc = LocalSpark.start(2)) {
            train.writeParquet(jsc, uri("/data/train.parquet"));
            test.writeParquet(jsc, uri("/data/test.parquet"));
        } finally {
            // The CLI starts its own context; it must not find this stopped one's session.
            SparkSession.clearActiveSession();
            SparkSession.clearDefaultSession();
        }
    }

    @AfterAll
    static void stopHdfs() throws IOException {
        if (cluster != null) {
            cluster.shutdown(true);
        }
    }

    @Test
    void parquetOnHdfsTrainsAModelThatLoadsBackFromHdfsAndARerunWithoutOverwriteIsRefused() throws IOException {
        String out = uri("/runs/parquet");
        Run run = train("/data/train.parquet", "/data/test.parquet", out);
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("Train on 2000 examples; 2 workers"), run.out());
        assertOnlyTheOutputsIn("/runs/parquet");
        assertModelPredictsTheTestSlice("/runs/parquet/model.zip");
        assertHistoryAndProvenanceDescribeTheRun("/runs/parquet", "/data/train.parquet");

        byte[] model = readAll("/runs/parquet/model.zip");
        Run again = train("/data/train.parquet", "/data/test.parquet", out);
        assertEquals(ExitCodes.INPUT, again.code(), again.out());
        assertTrue(again.err().contains("--output " + out + " already holds a finished model"), again.err());
        assertArrayEquals(model, readAll("/runs/parquet/model.zip"), "the refused run left model.zip alone");
        assertOnlyTheOutputsIn("/runs/parquet");
    }

    @Test
    void csvOnHdfsWithOverwriteReplacesAnEarlierRunsOutputs() throws IOException {
        for (String name : List.of("model.zip", "history.json", "provenance.json")) {
            try (OutputStream stale = hdfs.create(path("/runs/csv/" + name), false)) {
                stale.write("left by an earlier run".getBytes(StandardCharsets.US_ASCII));
            }
        }
        Run run = train("/data/train.csv", "/data/test.csv", uri("/runs/csv"), "--overwrite");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("Train on 2000 examples; 2 workers"), run.out());
        assertOnlyTheOutputsIn("/runs/csv");
        assertModelPredictsTheTestSlice("/runs/csv/model.zip");
        assertHistoryAndProvenanceDescribeTheRun("/runs/csv", "/data/train.csv");
    }

    @Test
    void aMissingHdfsInputIsAnInputErrorNamingTheHdfsPath() throws IOException {
        String missing = uri("/data/missing.csv");
        Run run = dptrain("train", "--model", uri("/specs/mnist-mlp.yaml"), "--train", missing,
                "--output", uri("/runs/missing"), "--master", "local[2]", "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.INPUT, run.code(), run.err());
        assertTrue(run.err().contains(missing + ": no such file or folder"), run.err());
        assertFalse(hdfs.exists(path("/runs/missing")), "a run refused before training creates no output folder");
    }

    /** Two epochs of the book's network on two workers, every path on HDFS. */
    private static Run train(String trainPath, String testPath, String out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--model", uri("/specs/mnist-mlp.yaml"),
                "--train", uri(trainPath), "--test", uri(testPath), "--scale", "255", "--epochs", "2", "--batch-size", "64",
                "--workers", "2", "--master", "local[2]", "--output", out, "--conf", "spark.ui.enabled=false",
                // Reaches Spark's and the driver's Hadoop configuration alike; the cluster has one datanode.
                "--conf", "spark.hadoop.dfs.replication=1"));
        args.addAll(List.of(more));
        return dptrain(args.toArray(String[]::new));
    }

    /** The exit code, stdout and stderr of one in-process run. */
    private record Run(int code, String out, String err) {
    }

    private static Run dptrain(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Dptrain.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    private static void assertOnlyTheOutputsIn(String folder) throws IOException {
        List<String> names = Arrays.stream(hdfs.listStatus(path(folder)))
                .map(status -> status.getPath().getName()).sorted().toList();
        assertEquals(List.of("checkpoints", "history.json", "history.png", "model.zip", "provenance.json",
                "report.html"), names, "no temporary or probe files left in " + folder);
        for (FileStatus status : hdfs.listStatus(path(folder))) {
            assertTrue(status.isDirectory() || status.getLen() > 0, status.getPath() + " is empty");
        }
        // Checkpoints on HDFS too: each a manifest and a data file, complete, no temporary names.
        List<String> checkpoints = Arrays.stream(hdfs.listStatus(path(folder + "/checkpoints")))
                .map(status -> status.getPath().getName()).sorted().toList();
        assertTrue(!checkpoints.isEmpty() && checkpoints.stream().noneMatch(n -> n.startsWith(".")), checkpoints.toString());
        assertEquals(checkpoints.stream().filter(n -> n.endsWith(".json")).count(),
                checkpoints.stream().filter(n -> n.endsWith(".bin")).count(), checkpoints.toString());
    }

    private static void assertModelPredictsTheTestSlice(String modelPath) throws IOException {
        MultiLayerNetwork model;
        try (InputStream in = hdfs.open(path(modelPath))) {
            model = ModelSerializer.restoreMultiLayerNetwork(in, true);
        }
        assertEquals(BOOK_PARAMS, model.numParams());
        Evaluation evaluation = new Evaluation(10);
        evaluation.eval(Nd4j.create(test.oneHotLabels(), new long[] {TEST, 10}, 'c'),
                model.output(Nd4j.create(test.scaledPixels(), new long[] {TEST, FashionMnist.PIXELS}, 'c'), false));
        assertTrue(evaluation.accuracy() > 0.6, "test accuracy " + evaluation.accuracy());
    }

    private static void assertHistoryAndProvenanceDescribeTheRun(String folder, String trainPath) throws IOException {
        JsonNode history;
        JsonNode provenance;
        try (InputStream h = hdfs.open(path(folder + "/history.json"));
                InputStream p = hdfs.open(path(folder + "/provenance.json"))) {
            history = JSON.readTree(h);
            provenance = JSON.readTree(p);
        }
        assertEquals(2, history.get("epochs").size());
        assertEquals(TRAIN, history.get("training_examples").asLong());
        assertEquals(TEST, history.get("test_examples").asLong());
        assertEquals(uri(trainPath), provenance.get("parameters").get("train").get("uri").asText());
    }

    private static byte[] readAll(String file) throws IOException {
        try (InputStream in = hdfs.open(path(file))) {
            return in.readAllBytes();
        }
    }

    private static String uri(String absolutePath) {
        return root + absolutePath;
    }

    private static org.apache.hadoop.fs.Path path(String absolutePath) {
        return new org.apache.hadoop.fs.Path(uri(absolutePath));
    }

    /** Labels and raw 0-255 pixels of an IDX slice, in record order. */
    private record Slice(int[] labels, int[][] pixels) {
        static Slice read(Path images, int count) throws IOException {
            int[] labels = new int[count];
            int[][] pixels = new int[count][FashionMnist.PIXELS];
            Path labelsFile = images.resolveSibling(images.getFileName().toString().replace("images-idx3", "labels-idx1"));
            try (DataInputStream i = new DataInputStream(Files.newInputStream(images));
                    DataInputStream l = new DataInputStream(Files.newInputStream(labelsFile))) {
                i.skipNBytes(16);
                l.skipNBytes(8);
                for (int r = 0; r < count; r++) {
                    labels[r] = l.readUnsignedByte();
                    for (int p = 0; p < FashionMnist.PIXELS; p++) {
                        pixels[r][p] = i.readUnsignedByte();
                    }
                }
            }
            return new Slice(labels, pixels);
        }

        /** One line per example: the label, then the pixels. */
        void writeCsv(FileSystem fs, org.apache.hadoop.fs.Path file) throws IOException {
            try (OutputStream raw = fs.create(file, false);
                    Writer out = new BufferedWriter(new OutputStreamWriter(raw, StandardCharsets.US_ASCII))) {
                for (int r = 0; r < labels.length; r++) {
                    out.write(Integer.toString(labels[r]));
                    for (int p : pixels[r]) {
                        out.write(',');
                        out.write(Integer.toString(p));
                    }
                    out.write('\n');
                }
            }
        }

        /** A table of a double label and a Spark ML vector of pixels, written by Spark straight to {@code uri}. */
        void writeParquet(JavaSparkContext jsc, String uri) {
            List<Row> rows = new ArrayList<>();
            for (int r = 0; r < labels.length; r++) {
                rows.add(RowFactory.create((double) labels[r],
                        Vectors.dense(Arrays.stream(pixels[r]).asDoubleStream().toArray())));
            }
            StructType schema = new StructType().add("label", DataTypes.DoubleType).add("features", new VectorUDT());
            SparkSession.builder().sparkContext(jsc.sc()).getOrCreate()
                    .createDataFrame(rows, schema).coalesce(1).write().parquet(uri);
        }

        float[] scaledPixels() {
            float[] x = new float[labels.length * FashionMnist.PIXELS];
            for (int r = 0; r < labels.length; r++) {
                for (int p = 0; p < FashionMnist.PIXELS; p++) {
                    x[r * FashionMnist.PIXELS + p] = pixels[r][p] / 255f;
                }
            }
            return x;
        }

        float[] oneHotLabels() {
            float[] y = new float[labels.length * 10];
            for (int r = 0; r < labels.length; r++) {
                y[r * 10 + labels[r]] = 1f;
            }
            return y;
        }
    }
}
