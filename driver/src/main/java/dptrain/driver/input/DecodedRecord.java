package dptrain.driver.input;

import dptrain.data.DataFormatException;
import dptrain.data.Example;
import java.io.Externalizable;
import java.io.IOException;
import java.io.ObjectInput;
import java.io.ObjectOutput;
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

    /**
     * Java serialization writes {@link Form}: records are kept by the million (on disk under {@code --cache disk},
     * or spilled), and Java's reading of a record class (its fields looked up by name, then its canonical
     * constructor) cost more than the examples' own bytes.
     */
    private Object writeReplace() {
        return new Form(this);
    }

    /** What a {@link DecodedRecord} is written as: its fields in a fixed order. */
    static final class Form implements Externalizable {
        private static final long serialVersionUID = 1L;
        private DecodedRecord record;

        /** For Java serialization. */
        public Form() {
        }

        Form(DecodedRecord record) {
            this.record = record;
        }

        @Override
        public void writeExternal(ObjectOutput out) throws IOException {
            out.writeObject(record.source);
            out.writeLong(record.position);
            out.writeObject(record.example);
            out.writeObject(record.bad);
        }

        @Override
        public void readExternal(ObjectInput in) throws IOException, ClassNotFoundException {
            record = new DecodedRecord((String) in.readObject(), in.readLong(), (Example) in.readObject(),
                    (BadRecord) in.readObject());
        }

        private Object readResolve() {
            return record;
        }
    }

    /** Whether this record follows {@code previous} directly in the same file. */
    boolean follows(DecodedRecord previous) {
        return previous != null && position == previous.position + 1 && java.util.Objects.equals(source, previous.source);
    }
}
