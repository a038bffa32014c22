package dptrain.driver.input;

import dptrain.data.Example;
import dptrain.data.ExampleCheck;
import dptrain.driver.files.InputFiles;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Reads an input for a caller that runs every job over it inside {@link IndexedExamples#whileRead}, so that the
 * first job that needs the examples is also the one pass that reads, decodes and checks them.
 *
 * <p>Parquet needs no pass of its own: the footers hold each file's row count, so row {@code r} of a file is example
 * {@code (rows of the files before it) + r}, the numbering {@link ExampleSource#read} gives data without bad rows.
 * Nothing is kept: the rows go from Spark's Parquet reader to whatever reads them (the shuffle into minibatches).
 * A bad row fails that job, and {@link IndexedExamples#whileRead} then runs {@link ExampleSource#read}'s validating
 * pass for its full report (the first bad rows named by file, row and column, and a count per reason). Under
 * {@code --on-bad-record skip}, bad rows shift the numbering of the rows after them, which only a pass can tell:
 * there, and for the other formats, this is {@link ExampleSource#read}.
 */
public final class OnePassRead {
    private OnePassRead() {
    }

    /** As {@link ExampleSource#read(JavaSparkContext, DataInput, String, ExampleCheck, int, int, StorageLevel)}. */
    public static IndexedExamples read(JavaSparkContext jsc, DataInput input, String flag, ExampleCheck check,
            int featureCount, int slices, StorageLevel keep) {
        Runnable validatingPass = () -> ExampleSource.read(jsc, input, flag, check, featureCount, slices, keep)
                .release();
        if (input.format() != DataFormat.PARQUET || input.skipBadRecords()) {
            return ExampleSource.read(jsc, input, flag, check, featureCount, slices, keep);
        }
        JavaRDD<DecodedRecord> records;
        ParquetRowCounts counts;
        try {
            records = ParquetExamples.decode(jsc, input, check);
            counts = ParquetRowCounts.of(InputFiles.dataFiles(input.uri(), jsc.hadoopConfiguration()),
                    jsc.hadoopConfiguration());
        } catch (IOException | RuntimeException e) {
            // An unreadable table or footer: the validating pass names it as it names any unreadable input.
            return ExampleSource.read(jsc, input, flag, check, featureCount, slices, keep);
        }
        if (counts.rows() == 0) {
            // The validating pass says that the input holds no example.
            return ExampleSource.read(jsc, input, flag, check, featureCount, slices, keep);
        }
        JavaPairRDD<Long, Example> examples = JavaPairRDD.fromJavaRDD(records.mapPartitions(
                rows -> new FooterNumbered(rows, counts), true));
        ValidationReport report = new ValidationReport().addExamples(counts.rows());
        return IndexedExamples.checkedWhileRead(examples, counts.rows(), report, validatingPass);
    }

    /** A partition's rows as examples numbered from the footers' row counts; a bad row fails the task. */
    private static final class FooterNumbered implements Iterator<Tuple2<Long, Example>> {
        private final Iterator<DecodedRecord> rows;
        private final ParquetRowCounts counts;
        private String file;
        private long firstRow;

        FooterNumbered(Iterator<DecodedRecord> rows, ParquetRowCounts counts) {
            this.rows = rows;
            this.counts = counts;
        }

        @Override
        public boolean hasNext() {
            return rows.hasNext();
        }

        @Override
        public Tuple2<Long, Example> next() {
            DecodedRecord row = rows.next();
            if (row.example() == null) {
                throw new UncheckedRow("a bad row: " + row.bad().source() + " row " + row.position());
            }
            // Decoded rows name their file by one String per file, so identity tells a new file.
            if (row.source() != file) {
                firstRow = counts.firstRow(row.source());
                if (firstRow < 0) {
                    throw new UncheckedRow(row.source() + " is not among the files whose footers were counted");
                }
                file = row.source();
            }
            return new Tuple2<>(firstRow + row.position() - 1, row.example());
        }
    }

    /** Fails the job that first reads the rows; the validating pass then says why in full. */
    static final class UncheckedRow extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UncheckedRow(String message) {
            super(message);
        }
    }
}
