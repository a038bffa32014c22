package dptrain.driver.input;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.execution.ColumnarToRowExec;
import org.apache.spark.sql.execution.FileSourceScanExec;
import org.apache.spark.sql.execution.InputAdapter;
import org.apache.spark.sql.execution.ProjectExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.WholeStageCodegenExec;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A file table's rows read in place from the column batches of Spark's vectorized reader, without the copy of every
 * row into Spark's binary row format that a {@link Dataset}'s rows go through. Each row is a view of its batch's
 * columns ({@link ColumnarBatch#getRow}); a feature array is then copied out in one call rather than element by
 * element.
 *
 * <p>Only for a plan that is a columnar file scan under projections and nothing else (no filter, no exchange), and
 * only for columns the scan itself outputs: the table's own columns by name and its {@code _metadata} fields
 * {@code file_path} and {@code row_index}. Otherwise {@link #of} is empty, and the caller reads binary rows.
 */
final class ColumnarScanRows {
    /** Attribute metadata Spark puts on a scan's {@code _metadata} fields: the field's name. */
    private static final String METADATA_FIELD = "__metadata_col";
    private static final String FILE_SOURCE_METADATA = "__file_source_metadata_col";

    /** A wanted column: one of the table's own columns, or a field of its {@code _metadata}. */
    record Wanted(String name, boolean metadata) {
        static Wanted column(String name) {
            return new Wanted(name, false);
        }

        static Wanted metadataField(String name) {
            return new Wanted(name, true);
        }
    }

    /**
     * The rows of the scan that {@code table} reads, whose column {@code i} is {@code wanted.get(i)}; empty when
     * {@code table}'s plan is not a plain columnar file scan, or does not output every wanted column.
     *
     * <p>The rows are views: each is valid until the next one is taken from its iterator.
     */
    static Optional<JavaRDD<InternalRow>> of(Dataset<Row> table, List<Wanted> wanted) {
        FileSourceScanExec scan = plainScan(table.queryExecution().executedPlan());
        if (scan == null || !scan.supportsColumnar()) {
            return Optional.empty();
        }
        List<Attribute> output = CollectionConverters.asJava(scan.output());
        int[] ordinals = new int[wanted.size()];
        for (int i = 0; i < ordinals.length; i++) {
            ordinals[i] = ordinal(output, wanted.get(i));
            if (ordinals[i] < 0) {
                return Optional.empty();
            }
        }
        JavaRDD<ColumnarBatch> batches = scan.executeColumnar().toJavaRDD();
        return Optional.of(batches.mapPartitions(it -> new BatchRows(it, ordinals)));
    }

    /**
     * The file scan under {@code plan} when only projections and the conversion to rows stand above it, else null.
     * What the projections compute is not looked at: the rows hold the scan's own columns, as the caller names them.
     */
    private static FileSourceScanExec plainScan(SparkPlan plan) {
        SparkPlan node = plan;
        while (true) {
            if (node instanceof FileSourceScanExec scan) {
                return scan;
            }
            boolean passesRows = node instanceof WholeStageCodegenExec || node instanceof ProjectExec
                    || node instanceof ColumnarToRowExec || node instanceof InputAdapter;
            if (!passesRows || node.children().size() != 1) {
                return null;
            }
            node = node.children().head();
        }
    }

    private static int ordinal(List<Attribute> output, Wanted wanted) {
        for (int i = 0; i < output.size(); i++) {
            Metadata metadata = output.get(i).metadata();
            boolean isMetadata = metadata.contains(FILE_SOURCE_METADATA);
            String name = isMetadata
                    ? (metadata.contains(METADATA_FIELD) ? metadata.getString(METADATA_FIELD) : null)
                    : output.get(i).name();
            if (isMetadata == wanted.metadata() && wanted.name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** A partition's batches as rows whose columns are the wanted ones, in order. */
    private static final class BatchRows implements Iterator<InternalRow> {
        private final Iterator<ColumnarBatch> batches;
        private final int[] ordinals;
        private ColumnarBatch wanted;
        private int next;

        BatchRows(Iterator<ColumnarBatch> batches, int[] ordinals) {
            this.batches = batches;
            this.ordinals = ordinals;
        }

        @Override
        public boolean hasNext() {
            while (wanted == null || next >= wanted.numRows()) {
                if (!batches.hasNext()) {
                    return false;
                }
                // The reader refills its vectors for the next batch: the rows of this one are then gone.
                ColumnarBatch batch = batches.next();
                ColumnVector[] columns = new ColumnVector[ordinals.length];
                for (int i = 0; i < columns.length; i++) {
                    columns[i] = batch.column(ordinals[i]);
                }
                wanted = new ColumnarBatch(columns, batch.numRows());
                next = 0;
            }
            return true;
        }

        @Override
        public InternalRow next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return wanted.getRow(next++);
        }
    }
}
