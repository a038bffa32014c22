package dptrain.driver.input;

import dptrain.data.DataFormatException;
import dptrain.data.Example;
import java.io.Serializable;

/** One record as decoded: an example with its position in the file, or why it is bad. */
record DecodedRecord(long position, Example example, BadRecord bad) implements Serializable {
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
