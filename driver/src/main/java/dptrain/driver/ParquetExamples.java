package dptrain.driver;

import dptrain.data.DataFormatException;
import dptrain.data.Example;
import dptrain.data.ExampleCheck;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Decodes Parquet tables: a features column (a Spark ML vector or an array of numbers) and an
 * integral label column. Rows are read by Spark's Parquet reader on the executors; each keeps
 * its file and row index, so a bad row is named like a bad line.
 */
final class ParquetExamples {
    private ParquetExamples() {
    }

    static JavaRDD<ExampleSource.Decoded> decode(JavaSparkContext jsc, DataInput input, ExampleCheck check) {
        List<String> files = InputFiles.dataFiles(input.uri(), jsc.hadoopConfiguration());
        SparkSession spark = SparkSession.builder().sparkContext(jsc.sc()).getOrCreate();
        Dataset<Row> table;
        try {
            table = spark.read().parquet(files.toArray(String[]::new));
        } catch (Exception e) {
            // Spark reports an unreadable footer as a SparkException, a checked exception Scala throws unchecked.
            throw new InputException(input.uri() + ": cannot be read as Parquet: " + firstLine(e.getMessage()), e);
        }
        StructType schema = table.schema();
        String features = input.featuresColumn();
        String label = input.labelName();
        DataType featuresType = column(schema, features, "--features-col", input.uri()).dataType();
        boolean vector = featuresType instanceof VectorUDT;
        if (!vector && !(featuresType instanceof ArrayType array && array.elementType() instanceof NumericType)) {
            throw new InputException(input.uri() + ": column '" + features + "' holds " + featuresType.simpleString()
                    + "; expected a Spark ML vector or an array of numbers (set --features-col)");
        }
        DataType labelType = column(schema, label, "--label-col", input.uri()).dataType();
        if (!(labelType instanceof NumericType)) {
            throw new InputException(input.uri() + ": column '" + label + "' holds " + labelType.simpleString()
                    + "; expected whole-number class labels (set --label-col)");
        }
        Dataset<Row> rows = table.select(functions.col("_metadata.file_path"), functions.col("_metadata.row_index"),
                functions.col(features), functions.col(label));
        return rows.javaRDD().map(row -> decodeRow(row, vector, features, label, check));
    }

    private static StructField column(StructType schema, String name, String flag, String uri) {
        if (!Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new InputException(uri + ": has no column '" + name + "'; its columns are "
                    + String.join(", ", schema.fieldNames()) + " (set " + flag + ")");
        }
        return schema.apply(name);
    }

    private static ExampleSource.Decoded decodeRow(Row row, boolean vector, String featuresName, String labelName,
            ExampleCheck check) {
        String file = row.getString(0);
        long record = row.getLong(1) + 1;
        try {
            if (row.isNullAt(2)) {
                throw DataFormatException.inRecord(file, record, "column '" + featuresName + "' is null; expected features");
            }
            float[] x;
            if (vector) {
                double[] values = ((Vector) row.get(2)).toArray();
                x = new float[values.length];
                for (int i = 0; i < values.length; i++) {
                    x[i] = (float) values[i];
                }
            } else {
                List<Object> values = row.getList(2);
                x = new float[values.size()];
                for (int i = 0; i < x.length; i++) {
                    if (values.get(i) == null) {
                        throw DataFormatException.inRecord(file, record, "column '" + featuresName + "' holds null at index "
                                + i + "; expected a number");
                    }
                    x[i] = ((Number) values.get(i)).floatValue();
                }
            }
            if (row.isNullAt(3)) {
                throw DataFormatException.inRecord(file, record, "column '" + labelName + "' is null; expected a class label");
            }
            double value = ((Number) row.get(3)).doubleValue();
            if (value != Math.rint(value) || Math.abs(value) > Integer.MAX_VALUE) {
                throw DataFormatException.inRecord(file, record, "column '" + labelName + "' holds " + value
                        + "; expected a whole-number class label");
            }
            return ExampleSource.Decoded.good(record, check.checkRecord(new Example(x, (int) value), file, record));
        } catch (DataFormatException e) {
            return ExampleSource.Decoded.bad(e);
        }
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
