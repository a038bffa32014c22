package dptrain.driver.input;

import dptrain.data.Example;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;

/**
 * Examples keyed by their index in file order, how many there are, and what the validation
 * pass found (bad records skipped under {@code --on-bad-record skip}).
 *
 * <p>Examples read from files are kept (memory, spilling to disk) from the one pass that read and
 * checked them, so every later read (a normalization fit, the shuffle into minibatches, an
 * evaluation) reads them from there and never the files again. Whoever reads them last calls
 * {@link #release}.
 */
public final class IndexedExamples {
    private final JavaPairRDD<Long, Example> examples;
    private final long count;
    private final ValidationReport report;
    private final JavaRDD<?> kept;

    /**
     * @param kept the persisted records {@code examples} is computed from, which {@link #release} unpersists; null
     *             when nothing is kept
     */
    IndexedExamples(JavaPairRDD<Long, Example> examples, long count, ValidationReport report, JavaRDD<?> kept) {
        this.examples = examples;
        this.count = count;
        this.report = report;
        this.kept = kept;
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
