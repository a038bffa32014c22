package dptrain.driver.input;

import dptrain.data.CsvDecoder;
import dptrain.data.DataFormatException;
import dptrain.data.Example;
import dptrain.data.ExampleCheck;
import dptrain.data.IdxHeader;
import dptrain.data.IdxReader;
import dptrain.data.LibSvmDecoder;
import dptrain.data.Targets;
import dptrain.driver.files.EnvironmentException;
import dptrain.driver.files.InputException;
import dptrain.driver.files.InputFiles;
import dptrain.driver.files.ParameterException;
import dptrain.driver.files.StoreFailures;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.unsafe.types.UTF8String;
import org.apache.spark.util.SerializableConfiguration;
import scala.Tuple2;

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
        Decoded decoded;
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
                ? numberedInPartitionOrder(records, tallies) : numberedInFileOrder(records, tallies);
        return new IndexedExamples(indexed, report.examples(), report, records);
    }

    /**
     * The decoded records of an input, partitions in file order. Text formats count lines within each
     * file split ({@code startsFile} marks the partitions that begin a file); IDX and Parquet positions count
     * from the file's start ({@code startsFile} null).
     */
    private record Decoded(JavaRDD<DecodedRecord> records, boolean[] startsFile) {
        boolean countsFromSplitStart() {
            return startsFile != null;
        }

        boolean startsFile(int partition) {
            return startsFile != null && startsFile[partition];
        }
    }

    /**
     * What one partition's records hold: lines (text formats: records, blank lines and headers), the check, and for
     * record-based formats the runs of consecutive records of one file it holds, in its order.
     */
    private record PartitionTally(int partition, long lines, ValidationReport report, List<Segment> segments)
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
    private static JavaPairRDD<Long, Example> numberedInPartitionOrder(JavaRDD<DecodedRecord> records,
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
    private static JavaPairRDD<Long, Example> numberedInFileOrder(JavaRDD<DecodedRecord> records,
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

    private static Decoded decode(JavaSparkContext jsc, DataInput input, ExampleCheck check, int featureCount,
            int slices) {
        return switch (input.format()) {
            case IDX -> new Decoded(decodeIdx(jsc, input, check, slices), null);
            case CSV, LIBSVM -> decodeText(jsc, input, check, featureCount, slices);
            case PARQUET -> new Decoded(ParquetExamples.decode(jsc, input, check), null);
        };
    }

    private static JavaRDD<DecodedRecord> decodeIdx(JavaSparkContext jsc, DataInput input, ExampleCheck check, int slices) {
        Targets targets = check.targets();
        if (input.hasLabels() && targets.real() && targets.count() > 1) {
            throw new InputException(input.uri() + ": an IDX labels file holds one number per image, but the model "
                    + "is a regression with " + targets.count() + " outputs; expected CSV, LibSVM or Parquet data "
                    + "with " + targets.count() + " targets per record, or a model with one output");
        }
        Configuration hadoop = jsc.hadoopConfiguration();
        // Without labels only the images file is read; a labels file beside it is ignored.
        String imagesFile;
        String labelsFile; // null without labels
        if (input.hasLabels()) {
            InputFiles.IdxPair pair = InputFiles.idxPair(input.uri(), hadoop);
            imagesFile = pair.images();
            labelsFile = pair.labels();
        } else {
            imagesFile = InputFiles.idxImages(input.uri(), hadoop);
            labelsFile = null;
        }
        long count = idxCount(imagesFile, hadoop);
        if (labelsFile != null) {
            long labelCount = idxCount(labelsFile, hadoop);
            if (count != labelCount) {
                throw new InputException(imagesFile + " holds " + count + " images but " + labelsFile + " holds "
                        + labelCount + " labels; expected one label per image");
            }
        }
        List<long[]> ranges = new ArrayList<>();
        int n = (int) Math.max(1, Math.min(slices, count));
        for (int s = 0; s < n; s++) {
            long from = count * s / n;
            ranges.add(new long[] {from, count * (s + 1) / n - from});
        }
        Broadcast<SerializableConfiguration> conf = jsc.broadcast(new SerializableConfiguration(hadoop));
        return jsc.parallelize(ranges, n).flatMap(range -> {
            InputStream images = InputFiles.openIdx(imagesFile, conf.value().value());
            InputStream labels = labelsFile == null ? null : InputFiles.openIdx(labelsFile, conf.value().value());
            closeWhenTaskEnds(images, labels);
            Iterator<Example> records;
            try {
                records = labels == null ? IdxReader.readImages(images, imagesFile, range[0], range[1])
                        : IdxReader.read(images, imagesFile, labels, labelsFile, range[0], range[1]);
            } catch (DataFormatException e) {
                // The file breaks before this slice's first record: nothing of the slice can be read, and
                // the slice that holds the break reports it.
                boolean breakIsEarlier = e.lineOrRecord() >= 1 && e.lineOrRecord() <= range[0];
                return breakIsEarlier ? Collections.emptyIterator() : List.of(DecodedRecord.breaking(e)).iterator();
            } catch (IOException e) {
                if (range[0] > 0) {
                    // Skipping to this slice read the earlier slices' bytes: the slice that holds them reports it.
                    return Collections.emptyIterator();
                }
                return List.of(DecodedRecord.breaking(DataFormatException.inRecord(imagesFile, 1, "cannot be read ("
                        + e.getMessage() + "): the file is corrupt; fetch or copy it again"))).iterator();
            }
            if (labels != null && targets.real()) {
                // One regression target per image: the label's value, as a number.
                Iterator<Example> classes = records;
                records = new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return classes.hasNext();
                    }

                    @Override
                    public Example next() {
                        Example example = classes.next();
                        return Example.regression(example.features(), new float[] {example.label()});
                    }
                };
            }
            return new DecodingIterator(records, range[0], imagesFile, check);
        });
    }

    /**
     * Turns an IDX record iterator into decoded records. A truncated or corrupt file ends the
     * slice with one bad record, since nothing after the break can be read.
     */
    private static final class DecodingIterator implements Iterator<DecodedRecord> {
        private final Iterator<Example> records;
        private final String source;
        private final ExampleCheck check;
        private long record;
        private boolean broken;

        DecodingIterator(Iterator<Example> records, long from, String source, ExampleCheck check) {
            this.records = records;
            this.record = from + 1;
            this.source = source;
            this.check = check;
        }

        @Override
        public boolean hasNext() {
            return !broken && records.hasNext();
        }

        @Override
        public DecodedRecord next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            long position = record++;
            Example example;
            try {
                example = records.next();
            } catch (DataFormatException e) {
                broken = true;
                return DecodedRecord.breaking(e);
            } catch (UncheckedIOException e) {
                broken = true;
                return DecodedRecord.breaking(DataFormatException.inRecord(source, position, "cannot be read ("
                        + e.getCause().getMessage() + "): the file is corrupt; fetch or copy it again"));
            }
            try {
                return DecodedRecord.good(source, position, check.checkRecord(example, source, position));
            } catch (DataFormatException e) {
                return DecodedRecord.bad(e);
            }
        }
    }

    private static long idxCount(String uri, Configuration hadoop) {
        try (InputStream in = InputFiles.openIdx(uri, hadoop)) {
            return IdxHeader.read(in, uri).count();
        } catch (IOException e) {
            throw new InputException(uri + ": cannot be read: " + InputFiles.reason(e), e);
        }
    }

    /**
     * Decodes text files split by split, each line a record: a split's lines are counted from its start, since
     * where it lies in its file is only known once the splits before it are counted (by the same pass).
     */
    private static Decoded decodeText(JavaSparkContext jsc, DataInput input, ExampleCheck check, int featureCount,
            int slices) {
        List<String> files = InputFiles.dataFiles(input.uri(), jsc.hadoopConfiguration());
        int perFile = Math.max(1, slices / files.size());
        CsvDecoder csv = input.hasLabels()
                ? new CsvDecoder(csvLabelColumns(input, check.targets()), check.targets(), input.csv().header(),
                        input.csv().delimiter())
                : CsvDecoder.unlabeled(input.csv().header(), input.csv().delimiter());
        LibSvmDecoder libsvm = input.hasLabels() ? new LibSvmDecoder(featureCount, check.targets())
                : LibSvmDecoder.unlabeled(featureCount);
        boolean isCsv = input.format() == DataFormat.CSV;
        List<JavaRDD<DecodedRecord>> perFileRecords = new ArrayList<>();
        List<Boolean> startsFile = new ArrayList<>();
        for (String file : files) {
            JavaRDD<DecodedRecord> decoded = jsc.textFile(file, perFile).mapPartitionsWithIndex((split, lines) ->
                    new Iterator<DecodedRecord>() {
                        private long line;

                        @Override
                        public boolean hasNext() {
                            return lines.hasNext();
                        }

                        @Override
                        public DecodedRecord next() {
                            String text = lines.next();
                            long lineNumber = ++line;
                            if (isCsv && csv.hasHeader() && split == 0 && lineNumber == 1) {
                                return DecodedRecord.NO_RECORD;
                            }
                            try {
                                Example example = isCsv
                                        ? csv.decode(text, file, lineNumber, csv.columnsFor(featureCount))
                                        : libsvm.decode(text, file, lineNumber);
                                return example == null ? DecodedRecord.NO_RECORD
                                        : DecodedRecord.good(file, lineNumber, check.checkLine(example, file, lineNumber));
                            } catch (DataFormatException e) {
                                return DecodedRecord.bad(e);
                            }
                        }
                    }, true);
            perFileRecords.add(decoded);
            for (int split = 0; split < decoded.getNumPartitions(); split++) {
                startsFile.add(split == 0);
            }
        }
        JavaRDD<DecodedRecord> all = perFileRecords.size() == 1 ? perFileRecords.get(0)
                : jsc.union(perFileRecords.toArray(JavaRDD[]::new));
        boolean[] starts = new boolean[startsFile.size()];
        for (int p = 0; p < starts.length; p++) {
            starts[p] = startsFile.get(p);
        }
        return new Decoded(all, starts);
    }

    /**
     * The CSV columns holding the model's targets: as many as it has outputs for regression, one for a class label.
     *
     * @throws ParameterException when --label-column names another number of columns
     */
    private static int[] csvLabelColumns(DataInput input, Targets targets) {
        List<Integer> columns = input.csv().labelColumns();
        if (columns.size() != targets.count()) {
            String given = columns.size() == 1 ? "one label column" : columns.size() + " label columns";
            throw new ParameterException("label_column", "{label_column}: " + given + " " + columns + " for "
                    + input.uri() + ", but the model " + (targets.real()
                            ? "has " + targets.count() + " output unit" + (targets.count() == 1 ? "" : "s")
                                    + ", one real-valued target each; expected " + (targets.count() == 1
                                            ? "1 column, e.g. 0" : targets.count() + " columns, comma-separated, "
                                                    + "e.g. " + exampleColumns(targets.count()))
                            : "is a classifier; expected one column holding the class label"));
        }
        return columns.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String exampleColumns(int count) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < count; i++) {
            text.append(i == 0 ? "" : ",").append(i);
        }
        return text.toString();
    }

    private static void closeWhenTaskEnds(InputStream... streams) {
        TaskContext.get().addTaskCompletionListener((TaskContext context) -> {
            for (InputStream s : streams) {
                if (s == null) {
                    continue;
                }
                try {
                    s.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        });
    }
}
