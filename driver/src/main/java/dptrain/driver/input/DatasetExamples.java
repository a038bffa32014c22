package dptrain.driver.input;

import dptrain.data.DataFormatException;
import dptrain.data.Example;
import dptrain.data.ExampleCheck;
import dptrain.data.SequenceLength;
import dptrain.driver.files.InputException;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
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
     * that both columns exist with those types. The data is read once: one job decodes and checks every row and
     * keeps the decoded examples (memory, spilling to disk; {@link IndexedExamples#release} drops them), and its
     * per-partition counts number the rows, so nothing recomputes the DataFrame's lineage.
     *
     * @param sequences how sequences of another length than the model's timesteps are padded or truncated
     * @param what names the data in messages, e.g. "DptrainClassifier input"; rows are named
     *             "DataFrame record N", N counting from 1 in the DataFrame's order
     * @throws InputException naming the first bad rows and the count per reason, when any is bad
     */
    public static IndexedExamples read(Dataset<?> data, String featuresCol, String labelCol,
            ExampleCheck check, SequenceLength sequences, String what) {
        boolean vector = data.schema().apply(featuresCol).dataType() instanceof VectorUDT;
        // Rows are numbered within their partition here, and shifted by the rows of the partitions before below.
        JavaRDD<DecodedRecord> decoded = data.select(functions.col(featuresCol), functions.col(labelCol))
                .toJavaRDD()
                .mapPartitions(rows -> new Iterator<DecodedRecord>() {
                    private long record;

                    @Override
                    public boolean hasNext() {
                        return rows.hasNext();
                    }

                    @Override
                    public DecodedRecord next() {
                        return decode(rows.next(), ++record, vector, featuresCol, labelCol, check, sequences);
                    }
                }, true);
        decoded.persist(StorageLevel.MEMORY_AND_DISK());
        List<Tuple2<Integer, ValidationReport>> tallies;
        try {
            tallies = decoded.mapPartitionsWithIndex((p, it) -> {
                ValidationReport tally = new ValidationReport();
                while (it.hasNext()) {
                    DecodedRecord d = it.next();
                    if (d.bad() == null) {
                        tally.addExample();
                    } else {
                        tally.addBad(d.bad());
                    }
                }
                return List.of(new Tuple2<>(p, tally)).iterator();
            }, true).collect();
        } catch (RuntimeException e) {
            decoded.unpersist(false);
            throw e;
        }
        long[] rowsBefore = new long[tallies.size()];
        ValidationReport report = new ValidationReport();
        long rows = 0;
        for (Tuple2<Integer, ValidationReport> tally : tallies) {
            rowsBefore[tally._1()] = rows;
            report.merge(tally._2().shifted(rows));
            rows += tally._2().examples() + tally._2().badRecords();
        }
        if (report.badRecords() > 0 || report.examples() == 0) {
            decoded.unpersist(false);
            throw new InputException(report.badRecords() > 0 ? report.describe(what)
                    : what + ": the DataFrame has no rows; expected examples to train on");
        }
        // No row is bad, so every row is an example: its index is its 0-based position in the DataFrame.
        JavaPairRDD<Long, Example> indexed = JavaPairRDD.fromJavaRDD(decoded.mapPartitionsWithIndex((p, it) ->
                new Iterator<Tuple2<Long, Example>>() {
                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Tuple2<Long, Example> next() {
                        DecodedRecord d = it.next();
                        return new Tuple2<>(rowsBefore[p] + d.position() - 1, d.example());
                    }
                }, true));
        return new IndexedExamples(indexed, report.examples(), report, decoded);
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
