package dptrain.driver.input;

import dptrain.data.DataFormatException;
import dptrain.data.Example;
import dptrain.data.ExampleCheck;
import dptrain.data.IdxHeader;
import dptrain.data.IdxReader;
import dptrain.data.Targets;
import dptrain.driver.files.InputException;
import dptrain.driver.files.InputFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;

/**
 * Decodes an IDX dataset (an images file and, for labelled data, its labels file): each task reads its own range of
 * records from the files, and a record's position counts from the file's start.
 */
final class IdxExamples {
    private IdxExamples() {
    }

    static JavaRDD<DecodedRecord> decode(JavaSparkContext jsc, DataInput input, ExampleCheck check, int slices) {
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
