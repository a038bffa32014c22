package dptrain.data;

import java.io.BufferedReader;
import java.io.Serializable;
import java.util.Iterator;

/**
 * Decodes LibSVM lines, {@code label index:value index:value ... # comment}, into dense examples of
 * {@code numFeatures} values; absent indices are 0. Indices are 1-based and strictly ascending, the label is a
 * non-negative integer ("3" or "3.0"); for a regression model ({@link Targets#real}) it is a real number, or several
 * separated by commas ({@code 1.5,-0.25}, one per output unit, as LibSVM's multi-label lines separate labels). For
 * data without labels ({@link #unlabeled}) a line is only
 * {@code index:value ...}, and each example carries the placeholder label {@link Example#UNLABELED}. Configuration
 * only, so it can be shipped to executors.
 */
public final class LibSvmDecoder implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int numFeatures;
    /** Whether each line starts with a label. */
    private final boolean labeled;
    private final Targets targets;

    /** @param numFeatures the length of every feature vector; the largest index a line may use */
    public LibSvmDecoder(int numFeatures) {
        this(numFeatures, true, Targets.CLASS_LABEL);
    }

    /** A decoder of lines whose first token holds what {@code targets} says: a class label or real targets. */
    public LibSvmDecoder(int numFeatures, Targets targets) {
        this(numFeatures, true, targets);
    }

    /** A decoder of lines without a label, {@code index:value ...} only, into vectors of {@code numFeatures}. */
    public static LibSvmDecoder unlabeled(int numFeatures) {
        return new LibSvmDecoder(numFeatures, false, Targets.CLASS_LABEL);
    }

    private LibSvmDecoder(int numFeatures, boolean labeled, Targets targets) {
        if (numFeatures < 1) {
            throw new IllegalArgumentException("The LibSVM feature count is " + numFeatures
                    + "; expected the length of the feature vectors, 1 or more.");
        }
        this.numFeatures = numFeatures;
        this.labeled = labeled;
        this.targets = targets;
    }

    /** Whether lines start with a label. */
    public boolean isLabeled() {
        return labeled;
    }

    public int numFeatures() {
        return numFeatures;
    }

    /**
     * Decodes one line. Column numbers in errors count whitespace-separated tokens from 1, the label (if any) being 1.
     *
     * @param source     the input's name for error messages, usually the file name
     * @param lineNumber 1-based line number in the file, or -1 when unknown
     * @return the example, or null when the line is blank or only a comment
     * @throws DataFormatException naming the line and token if the label or a feature is malformed, or indices are
     *                             out of range or not strictly ascending
     */
    public Example decode(String line, String source, long lineNumber) {
        if (line == null) {
            return null;
        }
        Example plain = decodePlain(line);
        if (plain != null) {
            return plain;
        }
        int comment = line.indexOf('#');
        String text = comment >= 0 ? line.substring(0, comment) : line;
        if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
            text = text.substring(1);
        }
        int n = text.length();
        int i = skipSpaces(text, 0);
        if (i == n) {
            return null;
        }
        int end = i;
        int column = 0;
        int label = Example.UNLABELED;
        float[] values = null;
        if (labeled) {
            end = tokenEnd(text, i);
            column = 1;
            String first = text.substring(i, end);
            if (first.indexOf(':') >= 0) {
                throw new DataFormatException(source, lineNumber, 1, NumberFields.quote(first) + " is a feature, "
                        + "not a label; expected the line to start with " + (targets.real()
                                ? "the regression target" + (targets.count() == 1 ? "" : "s, comma-separated")
                                : "a whole-number class label")
                        + " (data without labels can only be predicted, with --no-label)");
            }
            if (targets.real()) {
                values = parseTargets(first, source, lineNumber);
            } else {
                label = NumberFields.parseLabel(first, source, lineNumber, 1);
            }
        }

        float[] features = new float[numFeatures];
        int previousIndex = 0;
        String previousToken = null;
        for (i = skipSpaces(text, end); i < n; i = skipSpaces(text, end)) {
            end = tokenEnd(text, i);
            column++;
            String token = text.substring(i, end);
            int colon = token.indexOf(':');
            if (colon < 0) {
                String hint = !labeled && column == 1
                        ? " (--no-label says the lines have no label; does this one start with one?)" : "";
                throw new DataFormatException(source, lineNumber, column, NumberFields.quote(token)
                        + " has no ':'; expected a feature written index:value" + hint);
            }
            int index = parseIndex(token, token.substring(0, colon), source, lineNumber, column);
            if (index <= previousIndex) {
                String order = index == previousIndex
                        ? "repeats index " + index + " of the previous token " + NumberFields.quote(previousToken)
                        : "has index " + index + ", lower than index " + previousIndex + " of the previous token "
                                + NumberFields.quote(previousToken);
                throw new DataFormatException(source, lineNumber, column, NumberFields.quote(token) + " " + order
                        + "; expected feature indices in strictly ascending order");
            }
            features[index - 1] = NumberFields.parseFeature(token.substring(colon + 1),
                    "in " + NumberFields.quote(token) + " the value ", source, lineNumber, column);
            previousIndex = index;
            previousToken = token;
        }
        if (values != null) {
            return Example.regression(features, values);
        }
        return labeled ? new Example(features, label) : Example.unlabeled(features);
    }

    /**
     * The example of a plain line, decoded without a string per token, or null when the line needs the general path
     * (which also gives every error its message). Plain: a whole-number class label of digits (or no label), then
     * {@code index:value} tokens with strictly ascending indices from 1 to {@code numFeatures}, one space between
     * tokens, each value a plain decimal ({@link NumberFields#PLAIN_DIGITS}); nothing else: no comment, tab or
     * trailing space. Such values get the bits {@link Float#parseFloat} gives them, so both paths decode alike; the
     * strings per token were most of the cost of reading LibSVM (3 times CSV's, measured in BENCHMARKS.md).
     */
    private Example decodePlain(String line) {
        int n = line.length();
        if (targets.real() || n == 0) {
            return null;
        }
        int i = 0;
        int label = Example.UNLABELED;
        if (labeled) {
            long value = 0;
            for (; i < n && line.charAt(i) >= '0' && line.charAt(i) <= '9'; i++) {
                value = value * 10 + (line.charAt(i) - '0');
                if (i >= 9) {
                    return null;
                }
            }
            if (i == 0 || i < n && (line.charAt(i) != ' ' || i + 1 == n)) {
                return null;
            }
            label = (int) value;
            i++;
        }
        float[] features = new float[numFeatures];
        NumberFields.PlainNumber number = new NumberFields.PlainNumber();
        int previous = 0;
        while (i < n) {
            long index = 0;
            int start = i;
            for (; i < n && line.charAt(i) >= '0' && line.charAt(i) <= '9'; i++) {
                index = index * 10 + (line.charAt(i) - '0');
                if (i - start >= 9) {
                    return null;
                }
            }
            if (i == start || index <= previous || index > numFeatures || i == n || line.charAt(i) != ':') {
                return null;
            }
            if (!number.scan(line, i + 1)) {
                return null;
            }
            i = number.end();
            features[(int) index - 1] = number.value();
            previous = (int) index;
            if (i < n && (line.charAt(i) != ' ' || i + 1 == n)) {
                return null;
            }
            i++;
        }
        return labeled ? new Example(features, label) : Example.unlabeled(features);
    }

    /** The comma-separated real targets of a line's first token, as many as the model has outputs. */
    private float[] parseTargets(String token, String source, long lineNumber) {
        String[] parts = token.split(",", -1);
        if (parts.length != targets.count()) {
            throw new DataFormatException(source, lineNumber, 1, NumberFields.quote(token) + " holds "
                    + parts.length + (parts.length == 1 ? " target" : " targets") + "; expected " + targets.describe()
                    + (targets.count() == 1 ? "" : ", comma-separated,") + " for the model's " + targets.count()
                    + (targets.count() == 1 ? " output unit" : " output units"));
        }
        float[] values = new float[parts.length];
        for (int t = 0; t < parts.length; t++) {
            values[t] = NumberFields.parseTarget(parts[t].strip(), source, lineNumber, 1);
        }
        return values;
    }

    /** Lazily decodes all lines read from {@code reader}, skipping blank and comment lines; does not close it. */
    public Iterator<Example> read(BufferedReader reader, String source) {
        return new LineExamples(reader, (line, lineNumber) -> decode(line, source, lineNumber));
    }

    private int parseIndex(String token, String index, String source, long lineNumber, int column) {
        String expected = "expected an integer index from 1 to " + numFeatures + " before the ':'";
        if (index.isEmpty()) {
            throw new DataFormatException(source, lineNumber, column, NumberFields.quote(token)
                    + " has no index; " + expected);
        }
        for (int k = 0; k < index.length(); k++) {
            if (index.charAt(k) < '0' || index.charAt(k) > '9') {
                throw new DataFormatException(source, lineNumber, column, "in " + NumberFields.quote(token)
                        + " the index " + NumberFields.quote(index) + " is not a non-negative integer; " + expected);
            }
        }
        long value = index.length() > 10 ? Long.MAX_VALUE : Long.parseLong(index);
        if (value == 0) {
            throw new DataFormatException(source, lineNumber, column, "in " + NumberFields.quote(token)
                    + " the index is 0, but LibSVM indices start at 1; " + expected
                    + " (is the file 0-based? then add 1 to every index)");
        }
        if (value > numFeatures) {
            throw new DataFormatException(source, lineNumber, column, "in " + NumberFields.quote(token)
                    + " the index " + index + " is beyond the " + numFeatures + " features configured; " + expected);
        }
        return (int) value;
    }

    private static int skipSpaces(String text, int i) {
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        return i;
    }

    private static int tokenEnd(String text, int i) {
        while (i < text.length() && !Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        return i;
    }
}
