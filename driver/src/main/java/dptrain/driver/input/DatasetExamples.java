package dptrain.driver.input;

import dptrain.data.DataFormatException;
import dptrain.data.Example;
import dptrain.data.ExampleCheck;
import dptrain.data.SequenceLength;
import dptrain.driver.files.InputException;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import scala.Tuple2;

/**
 * Reads the rows of a Spark DataFrame into examples, as {@link ExampleSource} reads files: one
 * distributed pass checks every row against the model, so bad rows stop training before it
 * starts, named by their 1-based position in the DataFrame. The rows never pass through the driver.
 */
public final class DatasetExamples {
    private DatasetExamples() {
    }

    /**
     * The examples of {@code data}: features from {@code featuresCol} (a Spark ML vector or an
     * array of numbers), from {@code labelCol} whole-number class labels or, for a regression model, real-valued
     * targets (a number, or an array or vector of numbers). The caller has checked
     * that both columns exist with those types; the data is read twice (the check, then training),
     * so a caller with an expensive lineage persists {@code data} first.
     *
     * @param sequences how sequences of another length than the model's timesteps are padded or truncated
     * @param what names the data in messages, e.g. "DptrainClassifier input"; rows are named
     *             "DataFrame record N", N counting from 1 in the DataFrame's order
     * @throws InputException naming the first bad rows and the count per reason, when any is bad
     */
    public static IndexedExamples read(Dataset<?> data, String featuresCol, String labelCol,
            ExampleCheck check, SequenceLength sequences, String what) {
        boolean vector = data.schema().apply(featuresCol).dataType() instanceof VectorUDT;
        JavaRDD<DecodedRecord> decoded = data.select(functions.col(featuresCol), functions.col(labelCol))
                .toJavaRDD()
                .zipWithIndex()
                .map(rowAndIndex -> decode(rowAndIndex._1(), rowAndIndex._2() + 1, vector, featuresCol, labelCol,
                        check, sequences));
        ValidationReport report = decoded.aggregate(new ValidationReport(),
                (r, d) -> d.bad() == null ? r.addExample() : r.addBad(d.bad()), ValidationReport::merge);
        if (report.badRecords() > 0) {
            throw new InputException(report.describe(what));
        }
        if (report.examples() == 0) {
            throw new InputException(what + ": the DataFrame has no rows; expected examples to train on");
        }
        JavaPairRDD<Long, Example> indexed = decoded.mapToPair(d -> new Tuple2<>(d.position() - 1, d.example()));
        return new IndexedExamples(indexed, report.examples(), report, null);
    }

    private static DecodedRecord decode(Row row, long record, boolean vector, String featuresCol,
            String labelCol, ExampleCheck check, SequenceLength sequences) {
        String source = "DataFrame";
        try {
            Example example = ParquetExamples.example(row, 0, 1, vector, featuresCol, labelCol, check, sequences,
                    source, record);
            return DecodedRecord.good(source, record, check.checkRecord(example, source, record));
        } catch (DataFormatException e) {
            return DecodedRecord.bad(e);
        }
    }
}
