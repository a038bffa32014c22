package dptrain.driver;

import dptrain.data.CsvDecoder;
import dptrain.data.Example;
import dptrain.data.ExampleCheck;
import dptrain.data.IdxHeader;
import dptrain.data.IdxReader;
import dptrain.data.LibSvmDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;
import scala.Tuple2;

/**
 * Reads a dataset into examples keyed by a dense index {@code 0..count-1} in file order. The
 * files are read and decoded on the executors, each task its own slice: the data never passes
 * through the driver (parallelizing 60k examples from the driver made a 92 MB task).
 */
public final class ExampleSource {
    private ExampleSource() {
    }

    /** Examples keyed by their index in file order, and how many there are. */
    public record IndexedExamples(JavaPairRDD<Long, Example> examples, long count) {
    }

    /**
     * Reads {@code input} into at least {@code slices} partitions, checking every example against
     * the model; a bad record fails the first job that touches it, naming its file and line or record.
     */
    public static IndexedExamples read(JavaSparkContext jsc, DataInput input, ExampleCheck check, int featureCount,
            int slices) {
        return switch (input.format()) {
            case IDX -> readIdx(jsc, input, check, slices);
            case CSV, LIBSVM -> readText(jsc, input, check, featureCount, slices);
        };
    }

    private static IndexedExamples readIdx(JavaSparkContext jsc, DataInput input, ExampleCheck check, int slices) {
        Configuration hadoop = jsc.hadoopConfiguration();
        InputFiles.IdxPair pair = InputFiles.idxPair(input.uri(), hadoop);
        long count = idxCount(pair.images(), hadoop);
        long labelCount = idxCount(pair.labels(), hadoop);
        if (count != labelCount) {
            throw new InputException(pair.images() + " holds " + count + " images but " + pair.labels() + " holds "
                    + labelCount + " labels; expected one label per image");
        }
        if (count == 0) {
            throw new InputException(pair.images() + ": the dataset holds no example");
        }
        List<long[]> ranges = new ArrayList<>();
        int n = (int) Math.max(1, Math.min(slices, count));
        for (int s = 0; s < n; s++) {
            long from = count * s / n;
            ranges.add(new long[] {from, count * (s + 1) / n - from});
        }
        Broadcast<SerializableConfiguration> conf = jsc.broadcast(new SerializableConfiguration(hadoop));
        JavaRDD<long[]> rangeRdd = jsc.parallelize(ranges, n);
        JavaPairRDD<Long, Example> examples = rangeRdd.flatMapToPair(range -> {
            InputStream images = InputFiles.openIdx(pair.images(), conf.value().value());
            InputStream labels = InputFiles.openIdx(pair.labels(), conf.value().value());
            closeWhenTaskEnds(images, labels);
            Iterator<Example> it = IdxReader.read(images, pair.images(), labels, pair.labels(), range[0], range[1]);
            return new Iterator<Tuple2<Long, Example>>() {
                long index = range[0];

                @Override
                public boolean hasNext() {
                    return it.hasNext();
                }

                @Override
                public Tuple2<Long, Example> next() {
                    long i = index++;
                    return new Tuple2<>(i, check.checkRecord(it.next(), pair.images(), i + 1));
                }
            };
        });
        return new IndexedExamples(examples, count);
    }

    private static long idxCount(String uri, Configuration hadoop) {
        try (InputStream in = InputFiles.openIdx(uri, hadoop)) {
            return IdxHeader.read(in, uri).count();
        } catch (IOException e) {
            throw new InputException(uri + ": cannot be read: " + e.getMessage(), e);
        }
    }

    private static IndexedExamples readText(JavaSparkContext jsc, DataInput input, ExampleCheck check,
            int featureCount, int slices) {
        List<String> files = InputFiles.dataFiles(input.uri(), jsc.hadoopConfiguration());
        int perFile = Math.max(1, slices / files.size());
        CsvDecoder csv = new CsvDecoder(input.labelColumn(), input.header(), input.delimiter());
        LibSvmDecoder libsvm = new LibSvmDecoder(featureCount);
        boolean isCsv = input.format() == DataFormat.CSV;
        JavaRDD<Example> all = null;
        for (String file : files) {
            // zipWithIndex numbers each file's lines, so errors can name file and line.
            JavaPairRDD<String, Long> lines = jsc.textFile(file, perFile).zipWithIndex();
            JavaRDD<Example> decoded = lines.flatMap(lineAndIndex -> {
                long lineNumber = lineAndIndex._2() + 1;
                if (isCsv && csv.hasHeader() && lineNumber == 1) {
                    return Collections.emptyIterator();
                }
                Example example = isCsv
                        ? csv.decode(lineAndIndex._1(), file, lineNumber, featureCount + 1)
                        : libsvm.decode(lineAndIndex._1(), file, lineNumber);
                return example == null
                        ? Collections.<Example>emptyIterator()
                        : List.of(check.checkLine(example, file, lineNumber)).iterator();
            });
            all = all == null ? decoded : all.union(decoded);
        }
        JavaPairRDD<Long, Example> indexed = all.zipWithIndex().mapToPair(Tuple2::swap);
        long count = indexed.count();
        if (count == 0) {
            throw new InputException(input.uri() + ": the dataset holds no example");
        }
        return new IndexedExamples(indexed, count);
    }

    private static void closeWhenTaskEnds(InputStream... streams) {
        TaskContext.get().addTaskCompletionListener((TaskContext context) -> {
            for (InputStream s : streams) {
                try {
                    s.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        });
    }
}
