package dptrain.data;

/**
 * Parses the numbers of the text formats strictly: plain decimal notation only, so that Java's extras ("1f", "0x1p3")
 * and non-finite values ("NaN", "Infinity") are reported to the user instead of slipping into training.
 */
final class NumberFields {
    static final String LABEL_EXPECTATION = "expected an integer class label 0, 1, 2, ...";
    static final String FEATURE_EXPECTATION = "expected a numeric feature value";

    private static final int MAX_QUOTED_LENGTH = 40;

    /**
     * A plain decimal, {@code [-]digits[.digits]}, of at most 7 significant digits (below 10^7, so below 2^24, where
     * every integer is a float) and 10 decimals (10^10 = 2^10 * 5^10, and 5^10 is below 2^24: exact as a float) is
     * m / 10^d of two exact floats, so one float division rounds it as {@link Float#parseFloat} does.
     */
    static final int PLAIN_DIGITS = 7;
    static final int PLAIN_DECIMALS = 10;
    static final float[] POWERS_OF_TEN = {1f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

    private NumberFields() {
    }

    /**
     * The fast path's scanner of one plain decimal in a line, in place (no string per field), kept by a decoder
     * for every field of a line. {@link #scan} refuses what needs the general path ({@link #parseFeature} and
     * its messages): no digits, a trailing point, or more than {@link #PLAIN_DIGITS} digits or {@link
     * #PLAIN_DECIMALS} decimals.
     */
    static final class PlainNumber {
        private boolean negative;
        private long mantissa;
        /** Digits after the point; -1 without a point. */
        private int decimals;
        private int end;

        /** Scans the decimal that starts at {@code from}; false when it is not a plain one. */
        boolean scan(String line, int from) {
            int n = line.length();
            int i = from;
            negative = i < n && line.charAt(i) == '-';
            if (negative) {
                i++;
            }
            mantissa = 0;
            decimals = -1;
            int digits = 0;
            for (; i < n; i++) {
                char c = line.charAt(i);
                if (c >= '0' && c <= '9') {
                    mantissa = mantissa * 10 + (c - '0');
                    digits++;
                    if (decimals >= 0) {
                        decimals++;
                    }
                } else if (c == '.' && decimals < 0 && digits > 0) {
                    decimals = 0;
                } else {
                    break;
                }
            }
            end = i;
            return digits > 0 && decimals != 0 && digits <= PLAIN_DIGITS && decimals <= PLAIN_DECIMALS;
        }

        /** Where the scanned decimal ends: the index after its last character. */
        int end() {
            return end;
        }

        /** Whether it is a whole number of no sign or point, as a class label must be on the fast path. */
        boolean naturalNumber() {
            return !negative && decimals < 0;
        }

        long mantissa() {
            return mantissa;
        }

        /** The value, rounded as {@link Float#parseFloat} rounds it (see {@link #PLAIN_DIGITS}). */
        float value() {
            float value = decimals <= 0 ? (float) mantissa : (float) mantissa / POWERS_OF_TEN[decimals];
            return negative ? -value : value;
        }
    }

    /**
     * Parses a feature value that has already been trimmed.
     *
     * @param context text put before the value's description, e.g. {@code "in '5:x' the value "}; empty for none
     */
    static float parseFeature(String text, String context, String source, long line, int column) {
        if (text.isEmpty()) {
            throw new DataFormatException(source, line, column,
                    context + "the value is empty; " + FEATURE_EXPECTATION);
        }
        if (!isDecimal(text)) {
            String problem = isNonFinite(text)
                    ? quote(text) + " is not a finite number; " + FEATURE_EXPECTATION + " (NaN and infinity are not allowed)"
                    : quote(text) + " is not a number; " + FEATURE_EXPECTATION;
            throw new DataFormatException(source, line, column, context + problem);
        }
        float value = Float.parseFloat(text);
        if (Float.isInfinite(value)) {
            throw new DataFormatException(source, line, column, context + quote(text)
                    + " is outside the range of a 32-bit float (about -3.4e38 to 3.4e38); " + FEATURE_EXPECTATION);
        }
        return value;
    }

    /** Parses a class label that has already been trimmed; integral decimals such as "3.0" are accepted. */
    static int parseLabel(String text, String source, long line, int column) {
        if (text.isEmpty()) {
            throw new DataFormatException(source, line, column, "the label is empty; " + LABEL_EXPECTATION);
        }
        if (!isDecimal(text)) {
            String hint = isNonFinite(text) ? "" : " (class names must be mapped to indices before training)";
            throw new DataFormatException(source, line, column,
                    "label " + quote(text) + " is not a number; " + LABEL_EXPECTATION + hint);
        }
        double value = Double.parseDouble(text);
        if (value != Math.rint(value)) {
            throw new DataFormatException(source, line, column,
                    "label " + quote(text) + " is not a whole number; " + LABEL_EXPECTATION);
        }
        if (value < 0) {
            String hint = value == -1 ? " (binary labels written as -1/+1 must be mapped to 0/1 first)" : "";
            throw new DataFormatException(source, line, column,
                    "label " + quote(text) + " is negative; " + LABEL_EXPECTATION + hint);
        }
        if (value > Integer.MAX_VALUE) {
            throw new DataFormatException(source, line, column, "label " + quote(text) + " is too large; "
                    + LABEL_EXPECTATION + " up to " + Integer.MAX_VALUE);
        }
        return (int) value;
    }

    static final String TARGET_EXPECTATION = "expected a real-valued regression target";

    /** Parses a regression target that has already been trimmed: any finite decimal number. */
    static float parseTarget(String text, String source, long line, int column) {
        if (text.isEmpty()) {
            throw new DataFormatException(source, line, column, "the target is empty; " + TARGET_EXPECTATION);
        }
        if (!isDecimal(text)) {
            String problem = isNonFinite(text)
                    ? "target " + quote(text) + " is not a finite number; " + TARGET_EXPECTATION
                            + " (NaN and infinity are not allowed)"
                    : "target " + quote(text) + " is not a number; " + TARGET_EXPECTATION;
            throw new DataFormatException(source, line, column, problem);
        }
        float value = Float.parseFloat(text);
        if (Float.isInfinite(value)) {
            throw new DataFormatException(source, line, column, "target " + quote(text)
                    + " is outside the range of a 32-bit float (about -3.4e38 to 3.4e38); " + TARGET_EXPECTATION);
        }
        return value;
    }

    /** Quotes a user's value for a message, shortening it so that a whole mis-split line does not flood the log. */
    static String quote(String text) {
        return text.length() <= MAX_QUOTED_LENGTH
                ? "'" + text + "'"
                : "'" + text.substring(0, MAX_QUOTED_LENGTH) + "...' (" + text.length() + " characters)";
    }

    /** [+-] digits [. digits] [(e|E) [+-] digits], with at least one digit before the exponent. */
    static boolean isDecimal(String text) {
        int i = 0;
        int n = text.length();
        if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
            i++;
        }
        int digits = 0;
        while (i < n && isDigit(text.charAt(i))) {
            i++;
            digits++;
        }
        if (i < n && text.charAt(i) == '.') {
            i++;
            while (i < n && isDigit(text.charAt(i))) {
                i++;
                digits++;
            }
        }
        if (digits == 0) {
            return false;
        }
        if (i < n && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
            i++;
            if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
                i++;
            }
            int exponentDigits = 0;
            while (i < n && isDigit(text.charAt(i))) {
                i++;
                exponentDigits++;
            }
            if (exponentDigits == 0) {
                return false;
            }
        }
        return i == n;
    }

    private static boolean isNonFinite(String text) {
        String unsigned = text.startsWith("+") || text.startsWith("-") ? text.substring(1) : text;
        return unsigned.equalsIgnoreCase("nan") || unsigned.equalsIgnoreCase("inf")
                || unsigned.equalsIgnoreCase("infinity");
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
