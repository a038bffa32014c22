package dptrain.driver.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.data.ExampleCheck;
import dptrain.spec.ModelSpec;
import dptrain.testing.LocalSpark;
import dptrain.testing.Tables;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parquet read in place from the vectorized reader's column batches decodes to exactly what Spark's binary rows
 * decode to (the reader with its vectorized path turned off): the same examples, the same bad rows with the same
 * messages, for arrays of floats and of doubles and for Spark ML vectors, dense and sparse.
 */
class ParquetColumnarReadTest {
    private static final String VECTORIZED = "spark.sql.parquet.enableVectorizedReader";
    private static final ModelSpec SPEC = ModelSpec.parse("input_shape: [3]\nlayers:\n"
            + "  - dense: {units: 4, activation: softmax}\nloss: sparse_categorical_crossentropy\n", "four");

    @TempDir
    static Path dir;
    private static JavaSparkContext jsc;
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        jsc = LocalSpark.start(2);
        spark = SparkSession.builder().sparkContext(jsc.sc()).getOrCreate();
    }

    @AfterAll
    static void stop() {
        jsc.close();
    }

    @Test
    void floatArraysWithBadRowsDecodeAsBinaryRowsDo() {
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 3000; r++) {
            List<Float> features = Arrays.asList(r * 0.5f, -r * 0.25f, r % 7 == 0 ? Float.NaN : 1f);
            if (r == 1500) {
                features = Arrays.asList(1f, null, 2f);
            }
            rows.add(RowFactory.create(r == 2100 ? null : r % 4, r == 2600 ? null : features));
        }
        StructType schema = new StructType().add("label", DataTypes.IntegerType)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType));
        assertColumnarEqualsRows("floats", schema, rows);
    }

    @Test
    void doubleArraysAndLongLabelsDecodeAsBinaryRowsDo() {
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 2500; r++) {
            rows.add(RowFactory.create((long) (r % 5), Arrays.asList(r * 1e-3, 1.0 / (r + 1), -r * 1e38)));
        }
        StructType schema = new StructType().add("label", DataTypes.LongType)
                .add("features", DataTypes.createArrayType(DataTypes.DoubleType));
        assertColumnarEqualsRows("doubles", schema, rows);
    }

    @Test
    void denseAndSparseVectorsDecodeAsBinaryRowsDo() {
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 2000; r++) {
            Object features = r % 2 == 0 ? Vectors.dense(r, -r, 0.5)
                    : Vectors.sparse(3, new int[] {r % 3}, new double[] {r * 0.1});
            rows.add(RowFactory.create(r % 3 == 0 ? 1.5 : (double) (r % 4), features));
        }
        StructType schema = new StructType().add("label", DataTypes.DoubleType).add("features", new VectorUDT());
        assertColumnarEqualsRows("vectors", schema, rows);
    }

    @Test
    void onlyAPlainScanIsReadFromItsBatches() {
        StructType schema = new StructType().add("label", DataTypes.IntegerType)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType));
        Tables.writeParquet(jsc, dir.resolve("plain"), schema,
                List.of(RowFactory.create(1, Arrays.asList(1f, 2f, 3f))));
        Dataset<Row> table = spark.read().parquet(dir.resolve("plain").toString())
                .select(functions.col("_metadata.file_path"), functions.col("_metadata.row_index"),
                        functions.col("features"), functions.col("label"));
        List<ColumnarScanRows.Wanted> wanted = List.of(ColumnarScanRows.Wanted.metadataField("file_path"),
                ColumnarScanRows.Wanted.metadataField("row_index"), ColumnarScanRows.Wanted.column("features"),
                ColumnarScanRows.Wanted.column("label"));
        assertTrue(ColumnarScanRows.of(table, wanted).isPresent(), "a plain scan of a table");
        assertTrue(ColumnarScanRows.of(table.filter(functions.col("label").gt(0)), wanted).isEmpty(),
                "a filter between the scan and its rows");
        assertTrue(ColumnarScanRows.of(table, List.of(ColumnarScanRows.Wanted.column("file_path"))).isEmpty(),
                "a metadata field asked for as a column of the table");
        assertTrue(ColumnarScanRows.of(table, List.of(ColumnarScanRows.Wanted.column("weight"))).isEmpty(),
                "a column the table does not have");
    }

    /**
     * Writes {@code rows} as several files, decodes them through the column batches and through binary rows, and
     * asserts both give the same records in the same order, and that some are good and some bad.
     */
    private static void assertColumnarEqualsRows(String name, StructType schema, List<Row> rows) {
        Path table = dir.resolve(name);
        spark.createDataFrame(rows, schema).repartition(3).write().parquet(table.toString());
        DataInput input = DataInput.of(table.toString(), DataFormat.PARQUET);
        ExampleCheck check = new ExampleCheck(SPEC);
        DataType features = schema.apply("features").dataType();
        Dataset<Row> plain = spark.read().parquet(table.toString()).select(functions.col("_metadata.file_path"),
                functions.col("_metadata.row_index"), functions.col("features"), functions.col("label"));
        assertTrue(ColumnarScanRows.of(plain, List.of(ColumnarScanRows.Wanted.column("features"))).isPresent(),
                "the vectorized reader reads " + features.simpleString());

        List<String> columnar = described(ParquetExamples.decode(jsc, input, check).collect());
        spark.conf().set(VECTORIZED, "false");
        List<String> binary;
        try {
            binary = described(ParquetExamples.decode(jsc, input, check).collect());
        } finally {
            spark.conf().unset(VECTORIZED);
        }
        assertEquals(rows.size(), binary.size());
        assertTrue(binary.stream().anyMatch(r -> r.startsWith("good")) && binary.stream().anyMatch(r -> r
                .startsWith("bad")), "some rows good, some bad: " + binary.subList(0, 5));
        assertEquals(binary, columnar);
    }

    private static List<String> described(List<DecodedRecord> records) {
        List<String> described = new ArrayList<>();
        for (DecodedRecord record : records) {
            described.add(record.example() == null ? "bad " + record.bad().message()
                    : "good " + record.source() + " " + record.position() + " " + record.example().label() + " "
                            + Arrays.toString(record.example().features()));
        }
        return described;
    }
}
