package dptrain.testing;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/** Writes small Parquet tables for tests, as one file in row order. */
public final class Tables {
    private Tables() {
    }

    /** Writes {@code rows} with a running context. */
    public static void writeParquet(JavaSparkContext jsc, Path folder, StructType schema, List<Row> rows) {
        SparkSession spark = SparkSession.builder().sparkContext(jsc.sc()).getOrCreate();
        spark.createDataFrame(rows, schema).coalesce(1).write().mode("overwrite").parquet(folder.toString());
    }

    /** Writes {@code rows} with a short-lived local context, for tests whose code under test starts its own. */
    public static void writeParquet(Path folder, StructType schema, List<Row> rows) {
        try (JavaSparkContext jsc = LocalSpark.start(1)) {
            writeParquet(jsc, folder, schema, rows);
        }
    }
}
