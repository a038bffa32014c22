package dptrain.driver.input;

import dptrain.data.Example;
import java.util.function.Supplier;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;

/**
 * Examples keyed by their index in file order, how many there are, and what the validation
 * pass found (bad records skipped under {@code --on-bad-record skip}).
 *
 * <p>Examples read from files are kept (memory, spilling to disk) from the one pass that read and
 * checked them, so every later read (a normalization fit, the shuffle into minibatches, an
 * evaluation) reads them from there and never the files again. Whoever reads them last calls
 * {@link #release}. Parquet read by {@link OnePassRead} is neither checked nor kept beforehand: the first job
 * that reads it (inside {@link #whileRead}) is its one pass.
 */
public final class IndexedExamples {
    private final JavaPairRDD<Long, Example> examples;
    private final long count;
    private final ValidationReport report;
    private final JavaRDD<?> kept;
    /** Reads the input in a validating pass that fails as bad data should; null once the examples are checked. */
    private final Runnable validatingPass;

    /**
     * @param kept the persisted records {@code examples} is computed from, which {@link #release} unpersists; null
     *             when nothing is kept
     */
    IndexedExamples(JavaPairRDD<Long, Example> examples, long count, ValidationReport report, JavaRDD<?> kept) {
        this.examples = examples;
        this.count = count;
        this.report = report;
        this.kept = kept;
        this.validatingPass = null;
    }

    private IndexedExamples(JavaPairRDD<Long, Example> examples, long count, ValidationReport report,
            Runnable validatingPass) {
        this.examples = examples;
        this.count = count;
        this.report = report;
        this.kept = null;
        this.validatingPass = validatingPass;
    }

    /**
     * Examples not checked yet: the first job that reads them checks them, and fails at a bad one. Inside
     * {@link #whileRead}, such a failure runs {@code validatingPass}, which throws the error that names the bad
     * records (or why the input cannot be read).
     */
    static IndexedExamples checkedWhileRead(JavaPairRDD<Long, Example> examples, long count, ValidationReport report,
            Runnable validatingPass) {
        return new IndexedExamples(examples, count, report, validatingPass);
    }

    /**
     * Runs {@code work}, the jobs that read these examples. When they fail and the examples were not checked before,
     * the failure may be bad data: a validating pass over the input then throws the error that says which records
     * are bad, or, when it finds none, the work's own failure is thrown.
     */
    public <T> T whileRead(Supplier<T> work) {
        try {
            return work.get();
        } catch (Exception e) {
            // Spark's job failures are SparkExceptions: checked, but thrown unchecked from Scala.
            if (validatingPass == null) {
                throw e;
            }
            try {
                validatingPass.run();
            } catch (RuntimeException why) {
                why.addSuppressed(e);
                throw why;
            }
            throw e;
        }
    }

    public JavaPairRDD<Long, Example> examples() {
        return examples;
    }

    public long count() {
        return count;
    }

    public ValidationReport report() {
        return report;
    }

    /** True when reading the examples again reads them from the kept copy, not from the input. */
    public boolean kept() {
        return kept != null;
    }

    /** Drops the kept copy, once nothing reads the examples any more (their minibatches are built and kept). */
    public void release() {
        if (kept != null) {
            kept.unpersist(false);
        }
    }
}
