package dptrain.driver.input;

import dptrain.data.DataFormatException;
import dptrain.data.Example;
import dptrain.data.ExampleCheck;
import dptrain.data.SequenceLength;
import dptrain.data.Targets;
import dptrain.driver.files.InputException;
import dptrain.driver.files.InputFiles;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.CatalystTypeConverters;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Decodes Parquet tables: a features column (a Spark ML vector or an array of numbers) and an
 * integral label column, or, for data without labels, the features column only (the examples carry
 * {@link Example#UNLABELED}). Rows are read by Spark's Parquet reader on the executors; each keeps
 * its file and row index, so a bad row is named like a bad line.
 */
final class ParquetExamples {
    /** The fields of a Spark ML vector's binary form: type, size, indices, values. */
    private static final int VECTOR_FIELDS = 4;

    private ParquetExamples() {
    }

    static JavaRDD<DecodedRecord> decode(JavaSparkContext jsc, DataInput input, ExampleCheck check) {
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
        String features = input.columns().features();
        String label = input.columns().label();
        DataType featuresType = column(schema, features, "--features-col", input.uri()).dataType();
        boolean vector = featuresType instanceof VectorUDT;
        if (!vector && !(featuresType instanceof ArrayType array && array.elementType() instanceof NumericType)) {
            throw new InputException(input.uri() + ": column '" + features + "' holds " + featuresType.simpleString()
                    + "; expected a Spark ML vector or an array of numbers (set --features-col)");
        }
        if (!input.hasLabels()) {
            // Only the features are read: a label column, if the table has one, is neither read nor checked.
            Dataset<Row> rows = table.select(functions.col("_metadata.file_path"),
                    functions.col("_metadata.row_index"), functions.col(features));
            SequenceLength sequences = input.sequences();
            return rows(rows, features, null).mapPartitions(it -> {
                FileNames names = new FileNames();
                return new Iterator<DecodedRecord>() {
                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public DecodedRecord next() {
                        return decodeUnlabeledRow(it.next(), names, featuresType, features, check, sequences);
                    }
                };
            });
        }
        DataType labelType = column(schema, label, "--label-col; for a table without labels, predict "
                + "takes --no-label", input.uri()).dataType();
        String problem = labelTypeProblem(labelType, label, check.targets());
        if (problem != null) {
            throw new InputException(input.uri() + ": " + problem + " (set --label-col)");
        }
        Dataset<Row> rows = table.select(functions.col("_metadata.file_path"), functions.col("_metadata.row_index"),
                functions.col(features), functions.col(label));
        SequenceLength sequences = input.sequences();
        return rows(rows, features, label).mapPartitions(it -> {
            LabelCells labels = new LabelCells(labelType);
            FileNames names = new FileNames();
            return new Iterator<DecodedRecord>() {
                @Override
                public boolean hasNext() {
                    return it.hasNext();
                }

                @Override
                public DecodedRecord next() {
                    InternalRow row = it.next();
                    Object cell = row.isNullAt(3) ? null : labels.of(row, 3);
                    return decodeRow(row, names, featuresType, features, cell, label, check, sequences);
                }
            };
        });
    }

    /**
     * The label cell of a binary row as a {@link Row} holds it (a number, a vector, a Seq of numbers). Numbers are
     * read with their own getter: the general {@code InternalRow.get} looks the type up through Spark's SQL
     * configuration, which an executor builds anew on each lookup, and that cost more than decoding the row.
     */
    private static final class LabelCells {
        private final DataType type;
        private final scala.Function1<Object, Object> toScala;

        LabelCells(DataType type) {
            this.type = type;
            this.toScala = CatalystTypeConverters.createToScalaConverter(type);
        }

        Object of(InternalRow row, int at) {
            if (type.equals(DataTypes.IntegerType)) {
                return row.getInt(at);
            } else if (type.equals(DataTypes.LongType)) {
                return row.getLong(at);
            } else if (type.equals(DataTypes.ShortType)) {
                return row.getShort(at);
            } else if (type.equals(DataTypes.ByteType)) {
                return row.getByte(at);
            } else if (type.equals(DataTypes.DoubleType)) {
                return row.getDouble(at);
            } else if (type.equals(DataTypes.FloatType)) {
                return row.getFloat(at);
            }
            return toScala.apply(row.get(at, type));
        }
    }

    /** One String per file a partition reads, rather than one per row, for the records that keep it. */
    private static final class FileNames {
        private UTF8String lastRaw;
        private String last;

        String of(UTF8String raw) {
            if (!raw.equals(lastRaw)) {
                lastRaw = raw.clone();
                last = raw.toString();
            }
            return last;
        }
    }

    /**
     * The rows of {@code table} (file path, row index, features and, unless {@code label} is null, the label) as
     * Spark's Parquet reader gives them: views of its column batches where the plan allows
     * ({@link ColumnarScanRows}), else Spark's binary rows. Either way without the conversion to {@link Row}s that
     * would box every feature value.
     */
    private static JavaRDD<InternalRow> rows(Dataset<Row> table, String features, String label) {
        List<ColumnarScanRows.Wanted> wanted = new ArrayList<>(List.of(
                ColumnarScanRows.Wanted.metadataField("file_path"), ColumnarScanRows.Wanted.metadataField("row_index"),
                ColumnarScanRows.Wanted.column(features)));
        if (label != null) {
            wanted.add(ColumnarScanRows.Wanted.column(label));
        }
        return ColumnarScanRows.of(table, wanted).orElseGet(() -> table.queryExecution().toRdd().toJavaRDD());
    }

    /**
     * Why a label column of {@code type} cannot hold what {@code targets} says, or null when it can: class labels
     * and single regression targets are numbers; several regression targets are an array of numbers or a Spark ML
     * vector.
     */
    static String labelTypeProblem(DataType type, String name, Targets targets) {
        boolean numeric = type instanceof NumericType;
        boolean numbers = type instanceof VectorUDT
                || type instanceof ArrayType array && array.elementType() instanceof NumericType;
        if (!targets.real()) {
            return numeric ? null : "column '" + name + "' holds " + type.simpleString()
                    + "; expected whole-number class labels";
        }
        if (numeric || numbers) {
            return null;
        }
        return "column '" + name + "' holds " + type.simpleString() + "; expected real-valued regression targets: "
                + "a number" + (targets.count() == 1 ? "" : ", or an array of numbers or a vector of "
                        + targets.count() + " values");
    }

    private static StructField column(StructType schema, String name, String flag, String uri) {
        if (!Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new InputException(uri + ": has no column '" + name + "'; its columns are "
                    + String.join(", ", schema.fieldNames()) + " (set " + flag + ")");
        }
        return schema.apply(name);
    }

    private static DecodedRecord decodeRow(InternalRow row, FileNames names, DataType featuresType, String featuresName,
            Object label, String labelName, ExampleCheck check, SequenceLength sequences) {
        String file = names.of(row.getUTF8String(0));
        long record = row.getLong(1) + 1;
        try {
            float[] x = check.fitSequence(features(row, 2, featuresType, featuresName, file, record), sequences,
                    featuresName, file, record);
            Example example = labelled(x, label, labelName, check.targets(), file, record);
            return DecodedRecord.good(file, record, check.checkRecord(example, file, record));
        } catch (DataFormatException e) {
            return DecodedRecord.bad(e);
        }
    }

    private static DecodedRecord decodeUnlabeledRow(InternalRow row, FileNames names, DataType featuresType,
            String featuresName, ExampleCheck check, SequenceLength sequences) {
        String file = names.of(row.getUTF8String(0));
        long record = row.getLong(1) + 1;
        try {
            Example example = Example.unlabeled(check.fitSequence(features(row, 2, featuresType, featuresName, file,
                    record), sequences, featuresName, file, record));
            return DecodedRecord.good(file, record, check.checkRecord(example, file, record));
        } catch (DataFormatException e) {
            return DecodedRecord.bad(e);
        }
    }

    /**
     * The example in {@code row}: features from column {@code featuresAt} (a Spark ML vector when
     * {@code vector}, else an array of numbers) fitted to a sequence model's timesteps as {@code sequences} says,
     * from column {@code labelAt} a whole-number label or the regression targets, as {@code check}'s targets say.
     *
     * @throws DataFormatException naming {@code source} and its 1-based {@code record}
     */
    static Example example(Row row, int featuresAt, int labelAt, boolean vector, String featuresName,
            String labelName, ExampleCheck check, SequenceLength sequences, String source, long record) {
        float[] x = check.fitSequence(features(row, featuresAt, vector, featuresName, source, record), sequences,
                featuresName, source, record);
        return labelled(x, row.isNullAt(labelAt) ? null : row.get(labelAt), labelName, check.targets(), source, record);
    }

    /**
     * The example of features {@code x} and the label cell {@code cell} (null for a null cell) as a {@link Row} holds
     * it: a whole-number class label, or the regression targets, as {@code targets} says.
     */
    private static Example labelled(float[] x, Object cell, String labelName, Targets targets, String source,
            long record) {
        if (cell == null) {
            throw DataFormatException.inRecord(source, record, "column '" + labelName + "' is null; expected "
                    + (targets.real() ? "a regression target" : "a class label"));
        }
        if (targets.real()) {
            return Example.regression(x, regressionTargets(cell, labelName, targets, source, record));
        }
        double value = ((Number) cell).doubleValue();
        if (value != Math.rint(value) || Math.abs(value) > Integer.MAX_VALUE) {
            throw DataFormatException.inRecord(source, record, "column '" + labelName + "' holds " + value
                    + "; expected a whole-number class label");
        }
        return new Example(x, (int) value);
    }

    /** The regression targets a label cell holds: a number, an array of numbers or a Spark ML vector. */
    private static float[] regressionTargets(Object cell, String labelName, Targets targets, String source,
            long record) {
        double[] values;
        if (cell instanceof Number number) {
            values = new double[] {number.doubleValue()};
        } else if (cell instanceof Vector vector) {
            values = vector.toArray();
        } else {
            scala.collection.Seq<?> seq = (scala.collection.Seq<?>) cell;
            values = new double[seq.length()];
            for (int i = 0; i < values.length; i++) {
                Object element = seq.apply(i);
                if (element == null) {
                    throw DataFormatException.inRecord(source, record, "column '" + labelName + "' has a null at "
                            + "position " + (i + 1) + "; expected a regression target");
                }
                values[i] = ((Number) element).doubleValue();
            }
        }
        if (values.length != targets.count()) {
            throw DataFormatException.inRecord(source, record, "column '" + labelName + "' holds " + values.length
                    + (values.length == 1 ? " value" : " values") + "; expected " + targets.count()
                    + " regression target" + (targets.count() == 1 ? "" : "s") + ", one per output unit");
        }
        float[] result = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = (float) values[i];
            if (!Float.isFinite(result[i])) {
                throw DataFormatException.inRecord(source, record, "column '" + labelName + "' holds "
                        + values[i] + (values.length == 1 ? "" : " at position " + (i + 1))
                        + "; expected a finite real-valued regression target");
            }
        }
        return result;
    }

    /** The features in column {@code featuresAt} of {@code row}: a Spark ML vector when {@code vector}, else numbers. */
    private static float[] features(Row row, int featuresAt, boolean vector, String featuresName, String source,
            long record) {
        if (row.isNullAt(featuresAt)) {
            throw DataFormatException.inRecord(source, record, "column '" + featuresName + "' is null; expected features");
        }
        float[] x;
        if (vector) {
            double[] values = ((Vector) row.get(featuresAt)).toArray();
            x = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                x[i] = (float) values[i];
            }
        } else {
            List<Object> values = row.getList(featuresAt);
            x = new float[values.size()];
            for (int i = 0; i < x.length; i++) {
                if (values.get(i) == null) {
                    throw DataFormatException.inRecord(source, record, "column '" + featuresName + "' holds null at index "
                            + i + "; expected a number");
                }
                x[i] = ((Number) values.get(i)).floatValue();
            }
        }
        return x;
    }

    /**
     * The features in column {@code featuresAt} of a binary row, of {@code type}: a Spark ML vector or an array of
     * numbers, each converted to float as {@link Number#floatValue} does.
     */
    private static float[] features(InternalRow row, int featuresAt, DataType type, String featuresName, String source,
            long record) {
        if (row.isNullAt(featuresAt)) {
            throw DataFormatException.inRecord(source, record, "column '" + featuresName + "' is null; expected features");
        }
        if (type instanceof VectorUDT vectors) {
            double[] values = vectors.deserialize(row.getStruct(featuresAt, VECTOR_FIELDS)).toArray();
            float[] x = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                x[i] = (float) values[i];
            }
            return x;
        }
        ArrayData values = row.getArray(featuresAt);
        int count = values.numElements();
        for (int i = 0; i < count; i++) {
            if (values.isNullAt(i)) {
                throw DataFormatException.inRecord(source, record, "column '" + featuresName + "' holds null at index "
                        + i + "; expected a number");
            }
        }
        // Whole arrays copied at once where Spark can; the general get looks the type up through Spark's SQL
        // configuration on each call.
        DataType element = ((ArrayType) type).elementType();
        if (element.equals(DataTypes.FloatType)) {
            return values.toFloatArray();
        }
        float[] x = new float[count];
        if (element.equals(DataTypes.DoubleType)) {
            double[] doubles = values.toDoubleArray();
            for (int i = 0; i < count; i++) {
                x[i] = (float) doubles[i];
            }
        } else if (element.equals(DataTypes.IntegerType)) {
            int[] ints = values.toIntArray();
            for (int i = 0; i < count; i++) {
                x[i] = ints[i];
            }
        } else if (element.equals(DataTypes.LongType)) {
            long[] longs = values.toLongArray();
            for (int i = 0; i < count; i++) {
                x[i] = longs[i];
            }
        } else {
            for (int i = 0; i < count; i++) {
                Object value = values.get(i, element);
                x[i] = value instanceof Decimal decimal ? decimal.toJavaBigDecimal().floatValue()
                        : ((Number) value).floatValue();
            }
        }
        return x;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
