package dptrain.driver.input;

import dptrain.data.SequenceLength;
import dptrain.driver.files.ParameterException;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One dataset to read: where, in which format, and how to turn its values into features.
 *
 * @param uri        a Hadoop filesystem URI or local path (file, folder or glob; for IDX the images file or
 *                   a folder holding one images/labels pair)
 * @param format     the file format
 * @param featureMultiplier every feature value is multiplied by this (1/255 for IDX bytes by default); the
 *                   CLI's {@code --scale} is its divisor, and provenance.json calls it {@code scale}
 * @param csv        how CSV lines are laid out (used for CSV only)
 * @param columns    which columns hold features and labels (Parquet and DataFrames only)
 * @param badRecords what to do with a record that cannot become an example
 * @param labels     whether the records hold labels; only prediction reads data without them
 * @param sequences  how Parquet sequences of another length than input_shape's timesteps are padded or truncated
 *                   (Parquet and DataFrames only; default: they are refused)
 */
public record DataInput(String uri, DataFormat format, float featureMultiplier, CsvLayout csv, Columns columns,
        BadRecords badRecords, Labels labels, SequenceLength sequences) implements Serializable {

    /** IDX bytes become [0, 1] features, as the book does with {@code / 255}. */
    public static final float IDX_DEFAULT_SCALE = 1f / 255f;

    public DataInput {
        if (uri == null || format == null || csv == null || columns == null || badRecords == null || labels == null
                || sequences == null) {
            throw new IllegalArgumentException("a data input needs a uri, a format, a CSV layout, columns, a "
                    + "bad-record policy, whether it has labels and a sequence length rule");
        }
        if (!(featureMultiplier > 0) || !Float.isFinite(featureMultiplier)) {
            throw new IllegalArgumentException("featureMultiplier: " + featureMultiplier + " is not allowed; expected "
                    + "a positive number");
        }
    }

    /** What to do with a record that cannot become an example. */
    public enum BadRecords {
        /** Stop before any training or prediction, naming the bad records. */
        FAIL,
        /** Leave them out, counting them per file and reason. */
        SKIP
    }

    /** Whether the records of a dataset hold labels. */
    public enum Labels {
        /**
         * Every record has a label: CSV's label column, LibSVM's leading label, Parquet's label column, IDX's
         * labels file.
         */
        PRESENT,
        /**
         * No record has one: every CSV column is a feature, LibSVM lines are {@code index:value} only, Parquet's
         * label column is not read, and IDX needs no labels file. The examples carry
         * {@link dptrain.data.Example#UNLABELED}, which nothing reads: such data can only be predicted.
         */
        ABSENT
    }

    /**
     * The layout of CSV lines.
     *
     * @param labelColumns 0-based indices of the label columns: one for a class label, one per output unit of a
     *                     regression model, in the outputs' order (unused when the input has no labels)
     * @param header       the first line of each file is a header
     * @param delimiter    the field delimiter
     */
    public record CsvLayout(List<Integer> labelColumns, boolean header, char delimiter) implements Serializable {
        /** The label first, no header, commas. */
        public static final CsvLayout DEFAULT = new CsvLayout(0, false, ',');

        public CsvLayout {
            if (labelColumns == null || labelColumns.isEmpty()) {
                throw ParameterException.notAllowed("label_column", labelColumns,
                        "one or more 0-based column indices");
            }
            labelColumns = List.copyOf(labelColumns);
            for (int column : labelColumns) {
                if (column < 0) {
                    throw ParameterException.notAllowed("label_column", column,
                            "a 0-based column index of 0 or more");
                }
            }
            if (new java.util.HashSet<>(labelColumns).size() != labelColumns.size()) {
                throw ParameterException.notAllowed("label_column", labelColumns, "distinct column indices");
            }
            if (delimiter == '"' || delimiter == '\n' || delimiter == '\r') {
                throw new ParameterException("delimiter", "{delimiter}: '" + delimiter + "' cannot separate fields; "
                        + "expected a character such as ',' ';' or a tab");
            }
        }

        /** One label column. */
        public CsvLayout(int labelColumn, boolean header, char delimiter) {
            this(List.of(labelColumn), header, delimiter);
        }

        /** The first label column (the only one of a classifier's data). */
        public int labelColumn() {
            return labelColumns.get(0);
        }
    }

    /**
     * The columns of a table (Parquet, a DataFrame).
     *
     * @param features a Spark ML vector or an array of numbers
     * @param label    whole-number class labels, or regression targets (a number, or an array or vector of them)
     */
    public record Columns(String features, String label) implements Serializable {
        /** {@code features} and {@code label}, as Spark ML names them. */
        public static final Columns DEFAULT = new Columns("features", "label");

        public Columns {
            if (features == null || features.isBlank()) {
                throw ParameterException.notAllowed("features_col", "'" + features + "'", "a column name");
            }
            if (label == null || label.isBlank()) {
                throw ParameterException.notAllowed("label_col", "'" + label + "'", "a column name");
            }
        }
    }

    /** A dataset in {@code format} with that format's defaults: IDX scaled by 1/255, everything else as read. */
    public static DataInput of(String uri, DataFormat format) {
        return new DataInput(uri, format, format == DataFormat.IDX ? IDX_DEFAULT_SCALE : 1f, CsvLayout.DEFAULT,
                Columns.DEFAULT, BadRecords.FAIL, Labels.PRESENT, SequenceLength.EXACT);
    }

    /** An IDX images file (its labels file beside it), features scaled to [0, 1]. */
    public static DataInput idx(String uri) {
        return of(uri, DataFormat.IDX);
    }

    /**
     * The rows of a DataFrame (the Spark ML estimator's input), decoded as Parquet rows are: features
     * from a vector or numeric array column, labels from a numeric column, unscaled.
     */
    public static DataInput dataFrame(String featuresColumn, String labelColumn) {
        return new DataInput("DataFrame", DataFormat.PARQUET, 1f, CsvLayout.DEFAULT,
                new Columns(featuresColumn, labelColumn), BadRecords.FAIL, Labels.PRESENT, SequenceLength.EXACT);
    }

    /** This input with features multiplied by {@code multiplier}. */
    public DataInput withFeatureMultiplier(float multiplier) {
        return new DataInput(uri, format, multiplier, csv, columns, badRecords, labels, sequences);
    }

    /** This input with CSV lines laid out as {@code layout}. */
    public DataInput withCsv(CsvLayout layout) {
        return new DataInput(uri, format, featureMultiplier, layout, columns, badRecords, labels, sequences);
    }

    /** This input reading table columns {@code names}. */
    public DataInput withColumns(Columns names) {
        return new DataInput(uri, format, featureMultiplier, csv, names, badRecords, labels, sequences);
    }

    /** This input with bad records handled as {@code policy} says. */
    public DataInput withBadRecords(BadRecords policy) {
        return new DataInput(uri, format, featureMultiplier, csv, columns, policy, labels, sequences);
    }

    /** This input with records that hold labels or not, as {@code presence} says. */
    public DataInput withLabels(Labels presence) {
        return new DataInput(uri, format, featureMultiplier, csv, columns, badRecords, presence, sequences);
    }

    /** This input with sequences fitted to input_shape's timesteps as {@code rule} says. */
    public DataInput withSequences(SequenceLength rule) {
        return new DataInput(uri, format, featureMultiplier, csv, columns, badRecords, labels, rule);
    }

    /** Whether the records hold labels. */
    public boolean hasLabels() {
        return labels == Labels.PRESENT;
    }

    /** Whether bad records are left out rather than failing the run. */
    public boolean skipBadRecords() {
        return badRecords == BadRecords.SKIP;
    }

    /**
     * This input as provenance records it: where, the format, the scale, and the layout its format uses.
     * {@code "labels": "absent"} marks data without labels; labelled data has no {@code labels} key, so the
     * description of training data, which checkpoints compare on resume, is what it was before that key existed.
     */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("uri", uri);
        m.put("format", format.cliName());
        m.put("scale", featureMultiplier);
        if (!hasLabels()) {
            m.put("labels", "absent");
        }
        if (format == DataFormat.CSV) {
            if (hasLabels()) {
                // One column stays a number, as provenance and checkpoints have always recorded it.
                m.put("label_column", csv.labelColumns().size() == 1 ? csv.labelColumn() : csv.labelColumns());
            }
            m.put("header", csv.header());
            m.put("delimiter", String.valueOf(csv.delimiter()));
        }
        if (format == DataFormat.PARQUET) {
            m.put("features_col", columns.features());
            if (hasLabels()) {
                m.put("label_col", columns.label());
            }
            // Only when set, so the description of earlier runs, which checkpoints compare on resume, is unchanged.
            if (sequences.padding() != SequenceLength.Side.NONE) {
                m.put("pad_sequences", sequences.padding().cliName());
            }
            if (sequences.truncating() != SequenceLength.Side.NONE) {
                m.put("truncate_sequences", sequences.truncating().cliName());
            }
        }
        return m;
    }
}
