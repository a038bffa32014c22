package dptrain.driver.input;

import dptrain.data.DataFormatException;
import java.io.Serializable;
import java.util.Comparator;

/**
 * A record that could not become an example: where it is and what is wrong, as the user will read
 * it. Small and plain, so bad records can travel from executors to the driver.
 *
 * @param source      the file
 * @param position    the 1-based line or record number, or -1 when unknown; a line counted within a file split
 *                    until {@link #shifted} makes it count from the file's start
 * @param column      the 1-based column, or -1 when unknown
 * @param problem     what is wrong and what was expected, e.g. {@code "'abc' is not a number; expected ..."}
 * @param recordBased the position counts records (IDX, Parquet, DataFrame rows), not lines
 * @param reason      the problem with its values masked, so that like problems count together
 * @param breaksFile  true when nothing after this record can be read (a truncated or corrupt file), so
 *                    skipping it would silently drop the rest of the file too
 */
public record BadRecord(String source, long position, int column, String problem, boolean recordBased,
        String reason, boolean breaksFile) implements Serializable {

    /** File order, then position: the order in which a user would fix them. */
    public static final Comparator<BadRecord> IN_FILE_ORDER =
            Comparator.comparing(BadRecord::source).thenComparingLong(BadRecord::position);

    public static BadRecord of(DataFormatException e, boolean breaksFile) {
        return new BadRecord(e.source() == null ? "" : e.source(), e.lineOrRecord(), e.column(), e.problem(),
                e.recordBased(), reason(e.problem()), breaksFile);
    }

    /** The whole sentence, e.g. {@code "train.csv line 17, column 3: 'abc' is not a number; ..."}. */
    public String message() {
        return DataFormatException.message(source, position, column, problem, recordBased);
    }

    /** This record {@code lines} lines (or records) further on: where a split-relative position lies in its file. */
    BadRecord shifted(long lines) {
        return lines == 0 || position < 1 ? this
                : new BadRecord(source, position + lines, column, problem, recordBased, reason, breaksFile);
    }

    /** The problem sentence with quoted values and numbers masked: "'abc' is not a number" → "'…' is not a number". */
    static String reason(String problem) {
        return problem.replaceAll("'[^']*'", "'…'")
                .replaceAll("(?<![\\w.-])-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?(?![\\w-])", "N");
    }
}
