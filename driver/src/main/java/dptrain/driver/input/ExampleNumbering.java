package dptrain.driver.input;

import dptrain.data.Example;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.unsafe.types.UTF8String;
import scala.Tuple2;

/**
 * Dense indices {@code 0..count-1} in file order for decoded records, computed on the driver from what the one pass
 * over them found in each partition ({@link PartitionTally}), so that numbering needs no job of its own.
 */
final class ExampleNumbering {
    private ExampleNumbering() {
    }

    /**
     * What one partition's records hold: lines (text formats: records, blank lines and headers), the check, and for
     * record-based formats the runs of consecutive records of one file it holds, in its order.
     */
    record PartitionTally(int partition, long lines, ValidationReport report, List<Segment> segments)
            implements Serializable {
        static Iterator<PartitionTally> of(int partition, Iterator<DecodedRecord> records, boolean withSegments) {
            ValidationReport report = new ValidationReport();
            List<Segment> segments = new ArrayList<>();
            long lines = 0;
            long examplesInRun = 0;
            DecodedRecord previous = null;
            while (records.hasNext()) {
                DecodedRecord record = records.next();
                lines++;
                if (withSegments && !record.follows(previous)) {
                    if (previous != null) {
                        segments.add(new Segment(previous.source(), previous.position(), examplesInRun));
                    }
                    examplesInRun = 0;
                }
                if (record.example() != null) {
                    report.addExample();
                    examplesInRun++;
                } else if (record.bad() != null) {
                    report.addBad(record.bad());
                }
                previous = record;
            }
            if (withSegments && previous != null) {
                segments.add(new Segment(previous.source(), previous.position(), examplesInRun));
            }
            return List.of(new PartitionTally(partition, lines, report, segments)).iterator();
        }
    }

    /**
     * A run of consecutive records of one file: its file, its last record's position (runs do not overlap, so the
     * last position orders them as the first does), and the examples among its records.
     */
    private record Segment(String source, long last, long examples) implements Serializable {
    }

    /**
     * Text splits: dense indices from the examples in the partitions before, which hold the earlier lines (text
     * partitions are the files' splits in file order). What zipWithIndex gives, without the job it runs to count.
     */
    static JavaPairRDD<Long, Example> numberedInPartitionOrder(JavaRDD<DecodedRecord> records,
            List<PartitionTally> tallies) {
        long[] examplesBefore = new long[tallies.size()];
        long examples = 0;
        for (PartitionTally tally : tallies) {
            examplesBefore[tally.partition()] = examples;
            examples += tally.report().examples();
        }
        return JavaPairRDD.fromJavaRDD(records.mapPartitionsWithIndex(
                (p, it) -> new Numbered(it, new long[] {examplesBefore[p]}), true));
    }

    /**
     * Records that know their file and position (IDX, Parquet): dense indices in the order of (file, position),
     * from the runs of consecutive records the tallies found. Spark packs Parquet files and row groups into
     * partitions by size and by the number of cores, so partition order need not be file order there.
     */
    static JavaPairRDD<Long, Example> numberedInFileOrder(JavaRDD<DecodedRecord> records,
            List<PartitionTally> tallies) {
        record At(Segment segment, int partition, int index) {
        }
        List<At> runs = new ArrayList<>();
        long[][] firstIndex = new long[tallies.size()][];
        for (PartitionTally tally : tallies) {
            firstIndex[tally.partition()] = new long[tally.segments().size()];
            for (int k = 0; k < tally.segments().size(); k++) {
                runs.add(new At(tally.segments().get(k), tally.partition(), k));
            }
        }
        // Files in Spark's order of their paths (UTF-8 bytes), which predict's id column is sorted by too.
        runs.sort(Comparator.comparing((At at) -> UTF8String.fromString(at.segment().source()))
                .thenComparingLong(at -> at.segment().last()));
        long examples = 0;
        for (At at : runs) {
            firstIndex[at.partition()][at.index()] = examples;
            examples += at.segment().examples();
        }
        return JavaPairRDD.fromJavaRDD(records.mapPartitionsWithIndex(
                (p, it) -> new Numbered(it, firstIndex[p]), true));
    }

    /**
     * A partition's examples keyed by dense indices. With one start, they count on from it in the partition's order;
     * with one start per run of consecutive records (as {@link PartitionTally} found them), each run's examples
     * count on from its start.
     */
    private static final class Numbered implements Iterator<Tuple2<Long, Example>> {
        private final Iterator<DecodedRecord> records;
        private final long[] starts;
        private final boolean byRuns;
        private DecodedRecord previous;
        private int run = -1;
        private long next;
        private Tuple2<Long, Example> pending;

        Numbered(Iterator<DecodedRecord> records, long[] starts) {
            this.records = records;
            this.starts = starts;
            // One run counts on from its start, as a partition in partition order does.
            this.byRuns = starts.length > 1;
            this.next = starts.length == 0 ? 0 : starts[0];
        }

        @Override
        public boolean hasNext() {
            while (pending == null && records.hasNext()) {
                DecodedRecord record = records.next();
                if (byRuns && !record.follows(previous)) {
                    next = starts[++run];
                }
                previous = record;
                if (record.example() != null) {
                    pending = new Tuple2<>(next++, record.example());
                }
            }
            return pending != null;
        }

        @Override
        public Tuple2<Long, Example> next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Tuple2<Long, Example> result = pending;
            pending = null;
            return result;
        }
    }
}
