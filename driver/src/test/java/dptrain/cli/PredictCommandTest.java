package dptrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.spec.ModelSpec;
import dptrain.testing.FashionMnist;
import dptrain.testing.Tables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerMinMaxScaler;

/**
 * {@code dptrain predict}: with two partitions, every input row comes out once, in input order,
 * with the class and probabilities DL4J's {@code net.output} gives for that row on one machine.
 * The model is a DL4J model.zip with a min-max normalizer, written here without dptrain.
 */
class PredictCommandTest {
    static final int ROWS = 600;

    @TempDir
    static Path dir;
    static Path model;
    static Path images;
    static Path csv;
    static Path parquet;
    /** The same rows without labels: IDX images alone in their folder, CSV, LibSVM and Parquet without labels. */
    static Path unlabeledImages;
    static Path unlabeledCsv;
    static Path libsvm;
    static Path unlabeledLibsvm;
    static Path unlabeledParquet;
    /** Single-machine outputs of every row, in file order. */
    static float[][] expected;

    @BeforeAll
    static void modelAndData() throws IOException {
        images = FashionMnist.writeSlice(dir.resolve("idx"), "t10k", "test", 0, ROWS);
        DataSet data = IdxRows.read(images, 1 / 255f);
        NormalizerMinMaxScaler normalizer = new NormalizerMinMaxScaler(0, 1);
        normalizer.fit(data);
        MultiLayerNetwork net = new MultiLayerNetwork(ModelSpec.parse(Files.readString(Path.of(
                TrainCommandTest.BOOK_SPEC)), "book").configuration());
        net.init();
        model = dir.resolve("model.zip");
        // DL4J's writeModel with a normalizer fails on its own stream ("stream is closed"); add it afterwards.
        ModelSerializer.writeModel(net, model.toFile(), false);
        ModelSerializer.addNormalizerToModel(model.toFile(), normalizer);
        INDArray features = data.getFeatures().dup();
        normalizer.transform(features);
        expected = net.output(features, false).toFloatMatrix();

        DataSet raw = IdxRows.read(images, 1f);
        float[][] pixels = raw.getFeatures().toFloatMatrix();
        int[] labels = raw.getLabels().argMax(1).toIntVector();
        StringBuilder text = new StringBuilder();
        StringBuilder unlabeledText = new StringBuilder();
        StringBuilder svm = new StringBuilder();
        StringBuilder unlabeledSvm = new StringBuilder();
        List<Row> rows = new ArrayList<>();
        List<Row> unlabeledRows = new ArrayList<>();
        for (int r = 0; r < ROWS; r++) {
            text.append(labels[r]);
            svm.append(labels[r]);
            List<Double> values = new ArrayList<>();
            StringBuilder sparse = new StringBuilder();
            for (int i = 0; i < pixels[r].length; i++) {
                int p = (int) pixels[r][i];
                text.append(',').append(p);
                unlabeledText.append(i == 0 ? "" : ",").append(p);
                if (p != 0) {
                    sparse.append(sparse.length() == 0 ? "" : " ").append(i + 1).append(':').append(p);
                }
                values.add((double) p);
            }
            text.append('\n');
            unlabeledText.append('\n');
            svm.append(' ').append(sparse).append('\n');
            unlabeledSvm.append(sparse).append('\n');
            rows.add(RowFactory.create("img-" + r, labels[r], values));
            unlabeledRows.add(RowFactory.create("img-" + r, values));
        }
        csv = dir.resolve("test.csv");
        Files.writeString(csv, text);
        unlabeledCsv = dir.resolve("unlabeled.csv");
        Files.writeString(unlabeledCsv, unlabeledText);
        libsvm = dir.resolve("test.libsvm");
        Files.writeString(libsvm, svm);
        unlabeledLibsvm = dir.resolve("unlabeled.libsvm");
        Files.writeString(unlabeledLibsvm, unlabeledSvm);
        StructType featureColumn = new StructType().add("features", DataTypes.createArrayType(DataTypes.DoubleType));
        parquet = dir.resolve("test.parquet");
        Tables.writeParquet(parquet, new StructType().add("key", DataTypes.StringType)
                .add("label", DataTypes.IntegerType).add(featureColumn.apply("features")), rows);
        unlabeledParquet = dir.resolve("unlabeled.parquet");
        Tables.writeParquet(unlabeledParquet, new StructType().add("key", DataTypes.StringType)
                .add(featureColumn.apply("features")), unlabeledRows);
        // The images file alone: no labels file beside it.
        unlabeledImages = dir.resolve("images-only").resolve(images.getFileName());
        Files.createDirectories(unlabeledImages.getParent());
        Files.copy(images, unlabeledImages);
    }

    private static TrainCommandTest.Run predict(String... flags) {
        List<String> args = new ArrayList<>(List.of("predict", "--model", model.toString(), "--master", "local[2]",
                "--batch-size", "64", "--conf", "spark.ui.enabled=false"));
        args.addAll(List.of(flags));
        return TrainCommandTest.dptrain(args.toArray(String[]::new));
    }

    /** The output's part files in name order: Spark writes partition i to part i. */
    private static List<Path> parts(Path out, String extension) throws IOException {
        try (Stream<Path> files = Files.list(out)) {
            return files.filter(f -> f.getFileName().toString().startsWith("part-")
                    && f.getFileName().toString().endsWith(extension)).sorted().toList();
        }
    }

    /** Rows of the Parquet part files, file by file in name order, read without Spark (one context per JVM). */
    private static List<Group> parquetRows(Path out, int partitions) throws IOException {
        List<Group> rows = new ArrayList<>();
        List<Path> parts = parts(out, ".parquet");
        assertTrue(parts.size() >= partitions, partitions + " partitions, as many part files: " + parts);
        for (Path part : parts) {
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(),
                    new org.apache.hadoop.fs.Path(part.toUri())).build()) {
                for (Group row = reader.read(); row != null; row = reader.read()) {
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    private static float[] probabilities(Group row) {
        float[] p = new float[10];
        for (int c = 0; c < 10; c++) {
            p[c] = row.getFloat("probability_" + c, 0);
        }
        return p;
    }

    private static void assertRowMatches(int r, long id, int predicted, float[] probabilities) {
        assertEquals(r, id, "rows in input order, each once");
        int best = 0;
        for (int c = 0; c < 10; c++) {
            assertEquals(expected[r][c], probabilities[c], 1e-6, "row " + r + ", probability of class " + c);
            best = expected[r][c] > expected[r][best] ? c : best;
        }
        assertEquals(best, predicted, "row " + r + ": the class of the highest probability");
    }

    @Test
    void predictsEveryIdxRowOnceInOrderAsParquet() throws IOException {
        Path out = dir.resolve("idx-predictions");
        TrainCommandTest.Run run = predict("--data", images.toString(), "--output", out.toString());
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("Wrote predictions for " + ROWS + " rows"), run.out());
        List<Group> rows = parquetRows(out, 2);
        assertEquals(ROWS, rows.size());
        assertEquals("row_id", rows.get(0).getType().getFieldName(0));
        assertEquals("predicted_class", rows.get(0).getType().getFieldName(1));
        assertEquals("probability_9", rows.get(0).getType().getFieldName(11));
        for (int r = 0; r < ROWS; r++) {
            Group row = rows.get(r);
            assertRowMatches(r, row.getLong("row_id", 0), row.getInteger("predicted_class", 0), probabilities(row));
        }
        try (Stream<Path> siblings = Files.list(dir)) {
            assertTrue(siblings.noneMatch(f -> f.getFileName().toString().startsWith(".idx-predictions")),
                    "no temporary folder left");
        }
    }

    @Test
    void predictsCsvRowsAsCsvWithAHeader() throws IOException {
        Path out = dir.resolve("csv-predictions");
        TrainCommandTest.Run run = predict("--data", csv.toString(), "--scale", "255", "--output", out.toString(),
                "--output-format", "csv");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        List<Path> parts = parts(out, ".csv");
        assertTrue(parts.size() >= 2, "two partitions, two part files: " + parts);
        List<String> lines = new ArrayList<>();
        for (Path part : parts) {
            List<String> partLines = Files.readAllLines(part);
            assertTrue(partLines.get(0).startsWith("row_id,predicted_class,probability_0,"), partLines.get(0));
            lines.addAll(partLines.subList(1, partLines.size()));
        }
        assertEquals(ROWS, lines.size());
        for (int r = 0; r < ROWS; r++) {
            String[] fields = lines.get(r).split(",");
            float[] p = new float[10];
            for (int c = 0; c < 10; c++) {
                p[c] = Float.parseFloat(fields[2 + c]);
            }
            assertRowMatches(r, Long.parseLong(fields[0]), Integer.parseInt(fields[1]), p);
        }
    }

    @Test
    void carriesAParquetKeyColumnThrough() throws IOException {
        Path out = dir.resolve("parquet-predictions");
        TrainCommandTest.Run run = predict("--data", parquet.toString(), "--scale", "255", "--id-col", "key",
                "--output", out.toString());
        assertEquals(ExitCodes.OK, run.code(), run.err());
        // One input file is one partition: the key column's own test.
        List<Group> rows = parquetRows(out, 1);
        assertEquals(ROWS, rows.size());
        assertEquals("key", rows.get(0).getType().getFieldName(1), "the key next to row_id");
        for (int r = 0; r < ROWS; r++) {
            Group row = rows.get(r);
            assertEquals("img-" + r, row.getString("key", 0), "the key of row " + r);
            assertRowMatches(r, row.getLong("row_id", 0), row.getInteger("predicted_class", 0), probabilities(row));
        }
    }

    @Test
    void refusesToReplaceAnOutputWithoutOverwrite() throws IOException {
        Path out = dir.resolve("earlier");
        Files.createDirectories(out);
        Files.writeString(out.resolve("part-00000.parquet"), "earlier predictions");
        TrainCommandTest.Run refused = predict("--data", images.toString(), "--output", out.toString());
        assertEquals(ExitCodes.INPUT, refused.code(), refused.err());
        assertTrue(refused.err().contains("already exists") && refused.err().contains("--overwrite"), refused.err());
        assertEquals("earlier predictions", Files.readString(out.resolve("part-00000.parquet")));

        TrainCommandTest.Run replaced = predict("--data", images.toString(), "--output", out.toString(), "--overwrite");
        assertEquals(ExitCodes.OK, replaced.code(), replaced.err());
        assertEquals(ROWS, parquetRows(out, 2).size());
        try (Stream<Path> siblings = Files.list(dir)) {
            assertTrue(siblings.noneMatch(f -> f.getFileName().toString().startsWith(".earlier")),
                    "neither the temporary nor the old folder is left");
        }
    }

    @Test
    void predictsIdxImagesWithoutALabelsFileAsWithOne() throws IOException {
        assertSamePredictions("idx", List.of("--data", images.toString()),
                List.of("--data", unlabeledImages.toString(), "--no-label"));
    }

    @Test
    void predictsCsvWithoutALabelColumnAsWithOne() throws IOException {
        assertSamePredictions("csv", List.of("--data", csv.toString(), "--scale", "255"),
                List.of("--data", unlabeledCsv.toString(), "--scale", "255", "--no-label"));
    }

    @Test
    void predictsLibSvmWithoutLabelsAsWithThem() throws IOException {
        assertSamePredictions("libsvm", List.of("--data", libsvm.toString(), "--scale", "255"),
                List.of("--data", unlabeledLibsvm.toString(), "--scale", "255", "--no-label"));
    }

    @Test
    void predictsParquetWithoutALabelColumnAsWithOne() throws IOException {
        assertSamePredictions("parquet", List.of("--data", parquet.toString(), "--scale", "255", "--id-col", "key"),
                List.of("--data", unlabeledParquet.toString(), "--scale", "255", "--id-col", "key", "--no-label"));
    }

    /**
     * Predicting the labelled file and its unlabelled copy writes the same CSV, header and rows,
     * and those rows are the single-machine predictions.
     */
    private static void assertSamePredictions(String name, List<String> labelledFlags, List<String> unlabelledFlags)
            throws IOException {
        List<String> labelled = predictionLines(name + "-labelled-predictions", labelledFlags);
        List<String> unlabelled = predictionLines(name + "-unlabelled-predictions", unlabelledFlags);
        assertEquals(ROWS + 1, labelled.size(), "a header and one line per row");
        for (int r = 0; r <= ROWS; r++) {
            assertEquals(labelled.get(r), unlabelled.get(r), name + ": line " + r + " with and without labels");
        }
        assertEquals(labelled.size(), unlabelled.size());
        List<String> header = List.of(labelled.get(0).split(","));
        int predicted = header.indexOf("predicted_class");
        assertEquals("row_id", header.get(0));
        assertEquals("probability_9", header.get(header.size() - 1));
        for (int r = 0; r < ROWS; r++) {
            String[] fields = labelled.get(r + 1).split(",");
            float[] p = new float[10];
            for (int c = 0; c < 10; c++) {
                p[c] = Float.parseFloat(fields[predicted + 1 + c]);
            }
            assertRowMatches(r, Long.parseLong(fields[0]), Integer.parseInt(fields[predicted]), p);
        }
    }

    /** The predictions of {@code flags} as CSV: the header once, then every row in part-file order. */
    private static List<String> predictionLines(String name, List<String> flags) throws IOException {
        Path out = dir.resolve(name);
        List<String> args = new ArrayList<>(flags);
        args.addAll(List.of("--output", out.toString(), "--output-format", "csv"));
        TrainCommandTest.Run run = predict(args.toArray(String[]::new));
        assertEquals(ExitCodes.OK, run.code(), name + ": " + run.err());
        assertTrue(run.out().contains("Wrote predictions for " + ROWS + " rows"), run.out());
        List<String> lines = new ArrayList<>();
        for (Path part : parts(out, ".csv")) {
            List<String> partLines = Files.readAllLines(part);
            if (lines.isEmpty()) {
                lines.add(partLines.get(0));
            }
            assertEquals(lines.get(0), partLines.get(0), "every part's header");
            lines.addAll(partLines.subList(1, partLines.size()));
        }
        return lines;
    }
}
