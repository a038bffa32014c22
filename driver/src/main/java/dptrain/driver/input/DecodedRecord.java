package dptrain.driver.input;

import dptrain.data.DataFormatException;
import dptrain.data.Example;
import java.io.Serializable;

/**
 * One record as decoded: an example with its position in the file, why it is bad, or neither (a
 * line that holds no record: a CSV header, a blank line). Text formats keep every line, so that a
 * split's records count its lines.
 */
record DecodedRecord(long position, Example example, BadRecord bad) implements Serializable {
    /** A line that is neither an example nor bad. */
    static final DecodedRecord NO_RECORD = new DecodedRecord(-1, null, null);

    static DecodedRecord good(long position, Example example) {
        return new DecodedRecord(position, example, null);
    }

    static DecodedRecord bad(DataFormatException e) {
        return new DecodedRecord(e.lineOrRecord(), null, BadRecord.of(e, false));
    }

    /** A record after which the file cannot be read any further. */
    static DecodedRecord breaking(DataFormatException e) {
        return new DecodedRecord(e.lineOrRecord(), null, BadRecord.of(e, true));
    }
}
