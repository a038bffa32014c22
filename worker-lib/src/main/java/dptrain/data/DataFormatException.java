package dptrain.data;

/**
 * A data error caused by the user's input, reported as one sentence that names the input, the position and the
 * offending value, e.g. {@code "train.csv line 17, column 3: 'abc' is not a number; expected a numeric feature value"}.
 *
 * <p>Positions are 1-based. Text formats count lines, IDX files count records (see {@link #inRecord}); a part that
 * is unknown (-1) is left out of the message.
 */
public final class DataFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final long lineOrRecord;
    private final int column;
    private final String problem;
    private final boolean recordBased;

    /**
     * @param source       the input's name, usually its file name
     * @param lineOrRecord 1-based line number, or -1 when unknown
     * @param column       1-based column, or -1 when unknown or not applicable
     * @param problem      what is wrong and what was expected, e.g. {@code "'abc' is not a number; expected ..."}
     */
    public DataFormatException(String source, long lineOrRecord, int column, String problem) {
        this(source, lineOrRecord, column, problem, false);
    }

    private DataFormatException(String source, long lineOrRecord, int column, String problem, boolean recordBased) {
        super(message(source, lineOrRecord, column, problem, recordBased));
        this.source = source;
        this.lineOrRecord = lineOrRecord;
        this.column = column;
        this.problem = problem;
        this.recordBased = recordBased;
    }

    /** An error in a record-based input such as an IDX file: the message says "record 123" instead of "line 123". */
    public static DataFormatException inRecord(String source, long record, String problem) {
        return new DataFormatException(source, record, -1, problem, true);
    }

    public String source() {
        return source;
    }

    /** The 1-based line or record number, or -1 when unknown; {@link #recordBased()} says which of the two. */
    public long lineOrRecord() {
        return lineOrRecord;
    }

    /** The 1-based column, or -1 when unknown. */
    public int column() {
        return column;
    }

    public String problem() {
        return problem;
    }

    /** True when {@link #lineOrRecord()} counts records (IDX), false when it counts lines (text formats). */
    public boolean recordBased() {
        return recordBased;
    }

    /**
     * The sentence a {@code DataFormatException} with these parts carries, e.g. {@code "train.csv line 17, column 3:
     * 'abc' is not a number; ..."}: for messages whose position is only known later (a line counted within a file
     * split, made absolute once the lines of the splits before it are known).
     */
    public static String message(String source, long lineOrRecord, int column, String problem, boolean recordBased) {
        StringBuilder text = new StringBuilder(source == null || source.isBlank() ? "input" : source);
        if (lineOrRecord >= 1) {
            text.append(recordBased ? " record " : " line ").append(lineOrRecord);
        }
        if (column >= 1) {
            text.append(lineOrRecord >= 1 ? ", column " : " column ").append(column);
        }
        return text.append(": ").append(problem).toString();
    }
}
