package dptrain.driver.input;

import dptrain.data.DataFormatException;
import dptrain.data.Example;
import dptrain.data.ExampleCheck;
import dptrain.driver.files.EnvironmentException;
import dptrain.driver.files.InputException;
import dptrain.driver.files.InputFiles;
import dptrain.driver.files.StoreFailures;
import dptrain.driver.input.ExampleNumbering.PartitionTally;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;

/**
 * Reads a dataset into examples keyed by a dense index {@code 0..count-1} in file order. The
 * files are read and decoded on the executors, each task its own slice: the data never passes
 * through the driver (parallelizing 60k examples from the driver made a 92 MB task).
 *
 * <p>Each file is read once. Before any example is used, one job decodes every record, counts the
 * bad ones and keeps the decoded examples, so a run with bad data stops before training with the
 * first bad records (file, line or record, column) and a count per reason, instead of dying at the
 * first one mid-epoch, and every later read (the split, a normalization fit, the shuffle) reads the
 * kept copy. The same job's per-partition tallies number the examples densely in file order.
 */
public final class ExampleSource {
    private ExampleSource() {
    }

    /**
     * Validates and reads {@code input} into at least {@code slices} partitions, checking every
     * example against the model.
     *
     * @param flag the flag that named the input, for messages ("--train")
     * @throws InputException naming the first bad records and the count per reason, when any is bad
     */
    public static IndexedExamples read(JavaSparkContext jsc, DataInput input, String flag, ExampleCheck check,
            int featureCount, int slices) {
        return read(jsc, input, flag, check, featureCount, slices, StorageLevel.MEMORY_AND_DISK());
    }

    /**
     * As {@link #read(JavaSparkContext, DataInput, String, ExampleCheck, int, int)}, keeping the decoded examples at
     * {@code keep} until {@link IndexedExamples#release}.
     */
    public static IndexedExamples read(JavaSparkContext jsc, DataInput input, String flag, ExampleCheck check,
            int featureCount, int slices, StorageLevel keep) {
        DecodedInput decoded;
        try {
            decoded = decode(jsc, input, check, featureCount, slices);
        } catch (Exception e) {
            throw unreadable(jsc, flag, input, e);
        }
        List<PartitionTally> tallies;
        try {
            // The one read of the input: this job decodes and checks every record, and keeps what it decoded.
            decoded.records().persist(keep);
            boolean segments = !decoded.countsFromSplitStart();
            tallies = decoded.records().mapPartitionsWithIndex((p, it) -> PartitionTally.of(p, it, segments), true)
                    .collect();
        } catch (Exception e) {
            // Spark's job failures are SparkExceptions: checked, but thrown unchecked from Scala.
            if (!jsc.sc().isStopped()) {
                // Drop what the failed job kept; a stopped Spark has dropped it already, and cannot be asked.
                decoded.records().unpersist(false);
            }
            throw unreadable(jsc, flag, input, e);
        }
        JavaRDD<DecodedRecord> records = decoded.records();
        ValidationReport report = new ValidationReport();
        long linesBefore = 0;
        for (PartitionTally tally : tallies) {
            if (decoded.startsFile(tally.partition())) {
                linesBefore = 0;
            }
            report.merge(tally.report().shifted(decoded.countsFromSplitStart() ? linesBefore : 0));
            linesBefore += tally.lines();
        }
        if (report.badRecords() > 0 && (!input.skipBadRecords() || report.breaksAFile())) {
            records.unpersist(false);
            String why = report.breaksAFile() && input.skipBadRecords()
                    ? "\n(--on-bad-record skip cannot help: the rest of a broken file cannot be read)" : "";
            throw new InputException(report.describe(flag) + why);
        }
        if (report.examples() == 0) {
            records.unpersist(false);
            throw new InputException(report.badRecords() == 0 ? flag + ": " + input.uri() + " holds no example"
                    : report.describe(flag) + "\n(--on-bad-record skip left no example to train on)");
        }
        JavaPairRDD<Long, Example> indexed = decoded.countsFromSplitStart()
                ? ExampleNumbering.numberedInPartitionOrder(records, tallies)
                : ExampleNumbering.numberedInFileOrder(records, tallies);
        return new IndexedExamples(indexed, report.examples(), report, records);
    }

    /**
     * A file Hadoop's reader could not read (a corrupt .gz, a vanished or unreadable file) fails the
     * job inside Spark; name the input and the reader's reason instead of Spark's job abort. When
     * Spark itself stopped meanwhile, what failed (an I/O error around a null SparkEnv, a cancelled
     * job) says nothing about the file.
     */
    private static RuntimeException unreadable(JavaSparkContext jsc, String flag, DataInput input, Exception e) {
        if (sparkStopped(jsc, e)) {
            return EnvironmentException.sparkStopped(flag + " " + input.uri() + " was read", e);
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DataFormatException || t instanceof InputException) {
                return (RuntimeException) t;
            }
            if (t instanceof java.io.IOException io) {
                Optional<EnvironmentException> unreachable = StoreFailures.environment(flag + ": " + input.uri()
                        + " cannot be read", new Path(input.uri()), io, jsc.hadoopConfiguration());
                if (unreachable.isPresent()) {
                    return unreachable.get();
                }
                return new InputException(flag + ": " + input.uri() + " cannot be read (" + InputFiles.reason(io)
                        + "); check that the file is complete and readable", e);
            }
        }
        return e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
    }

    /**
     * Whether Spark stopped under the job that failed with {@code e}. Spark cancels the running jobs
     * before its stop marks the context stopped, so the job's failure can arrive first: its message
     * then tells.
     */
    private static boolean sparkStopped(JavaSparkContext jsc, Exception e) {
        if (jsc.sc().isStopped()) {
            return true;
        }
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            String message = String.valueOf(t.getMessage());
            if (message.contains("SparkContext was shut down") || message.contains("stopped SparkContext")) {
                return true;
            }
        }
        return false;
    }

    private static DecodedInput decode(JavaSparkContext jsc, DataInput input, ExampleCheck check, int featureCount,
            int slices) {
        return switch (input.format()) {
            case IDX -> new DecodedInput(IdxExamples.decode(jsc, input, check, slices), null);
            case CSV, LIBSVM -> TextExamples.decode(jsc, input, check, featureCount, slices);
            case PARQUET -> new DecodedInput(ParquetExamples.decode(jsc, input, check), null);
        };
    }
}
