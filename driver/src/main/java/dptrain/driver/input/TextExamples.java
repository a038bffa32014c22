package dptrain.driver.input;

import dptrain.data.CsvDecoder;
import dptrain.data.DataFormatException;
import dptrain.data.Example;
import dptrain.data.ExampleCheck;
import dptrain.data.LibSvmDecoder;
import dptrain.data.Targets;
import dptrain.driver.files.InputFiles;
import dptrain.driver.files.ParameterException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/** Decodes the text formats, CSV and LibSVM, whose records are lines, with the label columns the model needs. */
final class TextExamples {
    private TextExamples() {
    }

    /**
     * Decodes text files split by split, each line a record: a split's lines are counted from its start, since
     * where it lies in its file is only known once the splits before it are counted (by the same pass).
     */
    static DecodedInput decode(JavaSparkContext jsc, DataInput input, ExampleCheck check, int featureCount,
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
                                return example == null ? DecodedRecord.NO_RECORD : DecodedRecord.good(file,
                                        lineNumber, check.checkLine(example, file, lineNumber));
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
        return new DecodedInput(all, starts);
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
}
