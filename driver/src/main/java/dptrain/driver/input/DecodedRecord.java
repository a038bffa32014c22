package dptrain.driver.input;

import dptrain.data.DataFormatException;
import dptrain.data.Example;
import java.io.Serializable;

/**
 * One record as decoded: an example with its file and position in it, why it is bad, or neither (a
 * line that holds no record: a CSV header, a blank line). Text formats keep every line, so that a
 * split's records count its lines.
 */
record DecodedRecord(String source, long position, Example example, BadRecord bad) implements Serializable {
    /** A line that is neither an example nor bad. */
    static final DecodedRecord NO_RECORD = new DecodedRecord(null, -1, null, null);

    static DecodedRecord good(String source, long position, Example example) {
        return new DecodedRecord(source, position, example, null);
    }

    static DecodedRecord bad(DataFormatException e) {
        BadRecord bad = BadRecord.of(e, false);
        return new DecodedRecord(bad.source(), e.lineOrRecord(), null, bad);
    }

    /** A record after which the file cannot be read any further. */
    static DecodedRecord breaking(DataFormatException e) {
        BadRecord bad = BadRecord.of(e, true);
        return new DecodedRecord(bad.source(), e.lineOrRecord(), null, bad);
    }

    /** Whether this record follows {@code previous} directly in the same file. */
    boolean follows(DecodedRecord previous) {
        return previous != null && position == previous.position + 1 && java.util.Objects.equals(source, previous.source);
    }
}
