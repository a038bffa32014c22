package dptrain.data;

import java.io.BufferedReader;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Decodes CSV lines into examples: one example per line, label columns (0-based; one whole-number class label, or
 * one real-valued target per output unit of a regression model, see {@link Targets}) and numeric features in all
 * other columns, in file order; or, for data without labels ({@link #unlabeled}), features in every column and the
 * placeholder label {@link Example#UNLABELED}. Fields are trimmed and may be quoted ({@code "1.0"}); an optional
 * header line is skipped by {@link #read}. Configuration only, so it can be shipped to executors.
 */
public final class CsvDecoder implements Serializable {
    private static final long serialVersionUID = 2L;
    private static final char QUOTE = '"';

    /** The label columns in target order; empty for data without labels, where every column is a feature. */
    private final int[] labelColumns;
    private final Targets targets;
    private final boolean hasHeader;
    private final char delimiter;

    /** Label in column 0, no header, comma-delimited. */
    public CsvDecoder() {
        this(0, false, ',');
    }

    /**
     * A decoder of lines holding a whole-number class label.
     *
     * @param labelColumn 0-based index of the label column
     * @param hasHeader   whether the first line of a file names the columns instead of holding an example
     * @param delimiter   the field separator, e.g. ',' ';' or '\t'
     */
    public CsvDecoder(int labelColumn, boolean hasHeader, char delimiter) {
        this(new int[] {labelColumn}, Targets.CLASS_LABEL, hasHeader, delimiter);
    }

    /**
     * A decoder of lines whose {@code labelColumns} hold what {@code targets} says: one class label, or one real
     * target per column, in the order given.
     */
    public CsvDecoder(int[] labelColumns, Targets targets, boolean hasHeader, char delimiter) {
        this(labelColumns.clone(), targets, hasHeader, delimiter, true);
        if (labelColumns.length != targets.count()) {
            throw new IllegalArgumentException("The CSV has " + labelColumns.length + " label columns but the model "
                    + "takes " + targets.describe() + "; expected " + targets.count() + " label columns.");
        }
    }

    /**
     * A decoder of lines without a label column: every column is a feature, and each example carries the
     * placeholder label {@link Example#UNLABELED}.
     */
    public static CsvDecoder unlabeled(boolean hasHeader, char delimiter) {
        return new CsvDecoder(new int[0], Targets.CLASS_LABEL, hasHeader, delimiter, true);
    }

    private CsvDecoder(int[] labelColumns, Targets targets, boolean hasHeader, char delimiter, boolean checked) {
        for (int i = 0; i < labelColumns.length; i++) {
            if (labelColumns[i] < 0) {
                throw new IllegalArgumentException("The CSV label column is " + labelColumns[i]
                        + "; expected a 0-based column index of 0 or more.");
            }
            for (int j = 0; j < i; j++) {
                if (labelColumns[j] == labelColumns[i]) {
                    throw new IllegalArgumentException("The CSV label column " + labelColumns[i]
                            + " is named twice; expected distinct columns.");
                }
            }
        }
        if (delimiter == QUOTE || delimiter == '\n' || delimiter == '\r') {
            throw new IllegalArgumentException("The CSV delimiter " + describe(delimiter)
                    + " cannot separate fields; expected a character such as ',' ';' or tab.");
        }
        this.labelColumns = labelColumns;
        this.targets = targets;
        this.hasHeader = hasHeader;
        this.delimiter = delimiter;
    }

    /** The first 0-based label column; meaningless when {@link #isLabeled()} is false. */
    public int labelColumn() {
        return labeled() ? labelColumns[0] : 0;
    }

    /** Whether lines have label columns. */
    public boolean isLabeled() {
        return labeled();
    }

    private boolean labeled() {
        return labelColumns.length > 0;
    }

    /** The columns a line has for a model of {@code featureCount} inputs: the features, plus the labels if any. */
    public int columnsFor(int featureCount) {
        return featureCount + labelColumns.length;
    }

    public boolean hasHeader() {
        return hasHeader;
    }

    public char delimiter() {
        return delimiter;
    }

    /**
     * Decodes one data line (not the header).
     *
     * @param source          the input's name for error messages, usually the file name
     * @param lineNumber      1-based line number in the file, or -1 when unknown
     * @param expectedColumns the number of columns every line of the file has (from the header or first data
     *                        line), or -1 when unknown
     * @return the example, or null when the line is blank
     * @throws DataFormatException naming the line and column if the line has the wrong number of columns, a
     *                             feature is not a finite number or the label is not a non-negative integer
     *                             (without labels: if any column is not a finite number)
     */
    public Example decode(String line, String source, long lineNumber, int expectedColumns) {
        if (line == null) {
            return null;
        }
        String text = withoutByteOrderMark(line);
        Example plain = decodePlain(text, expectedColumns);
        if (plain != null) {
            return plain;
        }
        if (text.isBlank()) {
            return null;
        }
        String[] fields = split(text, source, lineNumber);
        checkColumnCount(fields.length, text, source, lineNumber, expectedColumns);
        try {
            if (!labeled()) {
                float[] features = new float[fields.length];
                for (int column = 0; column < fields.length; column++) {
                    features[column] = NumberFields.parseFeature(fields[column], "", source, lineNumber, column + 1);
                }
                return Example.unlabeled(features);
            }
            int label = 0;
            float[] values = targets.real() ? new float[labelColumns.length] : null;
            for (int t = 0; t < labelColumns.length; t++) {
                int column = labelColumns[t];
                if (values != null) {
                    values[t] = NumberFields.parseTarget(fields[column], source, lineNumber, column + 1);
                } else {
                    label = NumberFields.parseLabel(fields[column], source, lineNumber, column + 1);
                }
            }
            float[] features = new float[fields.length - labelColumns.length];
            for (int column = 0, feature = 0; column < fields.length; column++) {
                if (!isLabelColumn(column)) {
                    features[feature++] = NumberFields.parseFeature(fields[column], "", source, lineNumber, column + 1);
                }
            }
            return values != null ? Example.regression(features, values) : new Example(features, label);
        } catch (DataFormatException e) {
            throw lineNumber == 1 && !hasHeader ? withHeaderHint(e) : e;
        }
    }

    /**
     * The example of a plain line, decoded without a string per field, or null when the line needs the general
     * path (which also gives every error its message). Plain: a class label or no label, {@code expectedColumns}
     * fields, each a decimal {@code [-]digits[.digits]} (labels: digits) with at most 7 significant digits and 10
     * decimals, nothing else. Such a value is a float m / 10^d with m below 2^24 and 10^d exact as floats, so one
     * float division rounds it exactly as {@link Float#parseFloat} does: the same bits, without its cost (the
     * largest part of reading CSV, profiled).
     */
    private Example decodePlain(String line, int expectedColumns) {
        if (targets.real() || expectedColumns <= labelColumns.length) {
            return null;
        }
        boolean[] labels = labelMask(expectedColumns);
        if (labels == null) {
            return null;
        }
        float[] features = new float[expectedColumns - labelColumns.length];
        int label = Example.UNLABELED;
        int n = line.length();
        int i = 0;
        NumberFields.PlainNumber number = new NumberFields.PlainNumber();
        for (int column = 0, feature = 0; column < expectedColumns; column++) {
            if (!number.scan(line, i)) {
                return null;
            }
            i = number.end();
            if (labels[column]) {
                if (!number.naturalNumber()) {
                    return null;
                }
                label = (int) number.mantissa();
            } else {
                features[feature++] = number.value();
            }
            boolean last = column == expectedColumns - 1;
            if (last ? i != n : i >= n || line.charAt(i) != delimiter) {
                return null;
            }
            i++;
        }
        return new Example(features, label);
    }

    /**
     * Which of {@code columns} columns are label columns, kept for the last column count asked; null when a label
     * column is beyond them.
     */
    private boolean[] labelMask(int columns) {
        boolean[] mask = labelMask;
        if (mask == null || mask.length != columns) {
            mask = new boolean[columns];
            for (int column : labelColumns) {
                if (column >= columns) {
                    return null;
                }
                mask[column] = true;
            }
            labelMask = mask;
        }
        return mask;
    }

    private transient boolean[] labelMask;

    private boolean isLabelColumn(int column) {
        for (int labelColumn : labelColumns) {
            if (labelColumn == column) {
                return true;
            }
        }
        return false;
    }

    /** The number of columns in {@code line}, counted as {@link #decode} counts them (quotes respected). */
    public int countColumns(String line) {
        return split(withoutByteOrderMark(line), null, -1).length;
    }

    /**
     * Lazily decodes all lines read from {@code reader}: skips the header if configured and blank lines, and
     * requires every line to have as many columns as the header or, without one, the first data line. The reader
     * is not closed.
     */
    public Iterator<Example> read(BufferedReader reader, String source) {
        return new LineExamples(reader, new LineExamples.LineDecoder() {
            private boolean headerPending = hasHeader;
            private int expectedColumns = -1;

            @Override
            public Example decode(String line, long lineNumber) {
                if (headerPending) {
                    if (withoutByteOrderMark(line).isBlank()) {
                        return null;
                    }
                    headerPending = false;
                    expectedColumns = split(withoutByteOrderMark(line), source, lineNumber).length;
                    return null;
                }
                Example example = CsvDecoder.this.decode(line, source, lineNumber, expectedColumns);
                if (example != null && expectedColumns < 0) {
                    expectedColumns = columnsFor(example.features().length);
                }
                return example;
            }
        });
    }

    private void checkColumnCount(int columns, String line, String source, long lineNumber, int expectedColumns) {
        if (expectedColumns >= 0 && columns != expectedColumns) {
            throw new DataFormatException(source, lineNumber, -1, "the line has " + columns(columns)
                    + "; expected " + expectedColumns + " columns separated by " + describe(delimiter)
                    + (labeled() ? ": " + targets.describe() + " and one value per model input"
                            : ": one value per model input, no label")
                    + " (is a value missing or extra?)" + delimiterHint(columns, line));
        }
        if (!labeled()) {
            return;
        }
        if (columns < labelColumns.length + 1) {
            throw new DataFormatException(source, lineNumber, -1, "the line has "
                    + (columns == 1 ? "a single column" : columns(columns)) + "; expected "
                    + targets.describe() + " and at least one feature separated by " + describe(delimiter)
                    + delimiterHint(columns, line));
        }
        int highest = 0;
        for (int labelColumn : labelColumns) {
            highest = Math.max(highest, labelColumn);
        }
        if (highest >= columns) {
            throw new DataFormatException(source, lineNumber, -1, "the line has " + columns(columns)
                    + ", so there is no label column " + (highest + 1) + " (label column index " + highest
                    + " counts from 0, --label-column); expected at least " + (highest + 1) + " columns");
        }
    }

    /** A line that does not split at all usually means the file uses another delimiter: name it. */
    private String delimiterHint(int columns, String line) {
        if (columns != 1) {
            return "";
        }
        for (char candidate : new char[] {',', ';', '\t', '|', ' '}) {
            if (candidate != delimiter && line.strip().indexOf(candidate) >= 0) {
                return "; the line contains " + describe(candidate) + " but no " + describe(delimiter)
                        + ", so the file may use " + describe(candidate) + " as its delimiter (--delimiter)";
            }
        }
        return "";
    }

    private String[] split(String line, String source, long lineNumber) {
        List<String> fields = new ArrayList<>();
        int n = line.length();
        int i = 0;
        while (true) {
            i = skipSpaces(line, i);
            if (i < n && line.charAt(i) == QUOTE) {
                int opening = i;
                StringBuilder value = new StringBuilder();
                boolean closed = false;
                i++;
                while (i < n && !closed) {
                    char c = line.charAt(i++);
                    if (c != QUOTE) {
                        value.append(c);
                    } else if (i < n && line.charAt(i) == QUOTE) {
                        value.append(QUOTE);
                        i++;
                    } else {
                        closed = true;
                    }
                }
                if (!closed) {
                    throw new DataFormatException(source, lineNumber, fields.size() + 1, "the quoted value "
                            + NumberFields.quote(line.substring(opening)) + " has no closing quote;"
                            + " expected a '\"' before the end of the line");
                }
                i = skipSpaces(line, i);
                if (i < n && line.charAt(i) != delimiter) {
                    throw new DataFormatException(source, lineNumber, fields.size() + 1, "the quoted value "
                            + NumberFields.quote(line.substring(opening, i)) + " is followed by "
                            + NumberFields.quote(line.substring(i)) + "; expected " + describe(delimiter)
                            + " or the end of the line after the closing quote");
                }
                fields.add(value.toString().strip());
            } else {
                int start = i;
                while (i < n && line.charAt(i) != delimiter) {
                    i++;
                }
                fields.add(line.substring(start, i).strip());
            }
            if (i >= n) {
                return fields.toArray(new String[0]);
            }
            i++;
        }
    }

    private int skipSpaces(String line, int i) {
        while (i < line.length() && line.charAt(i) != delimiter && Character.isWhitespace(line.charAt(i))) {
            i++;
        }
        return i;
    }

    private static DataFormatException withHeaderHint(DataFormatException e) {
        if (!e.problem().contains("is not a number")) {
            return e;
        }
        DataFormatException hinted = new DataFormatException(e.source(), e.lineOrRecord(), e.column(),
                e.problem() + "; if line 1 is a header, say so (--header)");
        hinted.initCause(e);
        return hinted;
    }

    private static String withoutByteOrderMark(String line) {
        return !line.isEmpty() && line.charAt(0) == '\uFEFF' ? line.substring(1) : line;
    }

    private static String columns(int n) {
        return n == 1 ? "1 column" : n + " columns";
    }

    static String describe(char c) {
        return switch (c) {
            case '\t' -> "tab";
            case ' ' -> "space";
            default -> "'" + c + "'";
        };
    }
}
