package dptrain.data;

import java.io.Externalizable;
import java.io.IOException;
import java.io.ObjectInput;
import java.io.ObjectOutput;
import java.io.ObjectStreamException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Java-serialized forms of {@link Example} and {@link Minibatch}, which Spark's shuffle and
 * disk caches write and read by the million: float arrays as one block of bytes each. Java
 * serialization writes and reads a {@code float[]} value by value, and that was the largest cost
 * of shuffling a dataset into balanced partitions (profiled: {@code ObjectInputStream.readFloats}).
 */
final class SerializedForms {
    private SerializedForms() {
    }

    /** Writes {@code values} (null allowed) as its length (-1 for null) and its bytes. */
    static void writeFloats(ObjectOutput out, float[] values) throws IOException {
        if (values == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(values.length);
        byte[] bytes = new byte[values.length * Float.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
        out.write(bytes);
    }

    static float[] readFloats(ObjectInput in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length * Float.BYTES];
        in.readFully(bytes);
        float[] values = new float[length];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    static void writeInts(ObjectOutput out, int[] values) throws IOException {
        out.writeInt(values.length);
        byte[] bytes = new byte[values.length * Integer.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().put(values);
        out.write(bytes);
    }

    static int[] readInts(ObjectInput in) throws IOException {
        byte[] bytes = new byte[in.readInt() * Integer.BYTES];
        in.readFully(bytes);
        int[] values = new int[bytes.length / Integer.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(values);
        return values;
    }

    /** What an {@link Example} is written as. */
    static final class ExampleForm implements Externalizable {
        private static final long serialVersionUID = 1L;
        private Example example;

        /** For Java serialization. */
        public ExampleForm() {
        }

        ExampleForm(Example example) {
            this.example = example;
        }

        @Override
        public void writeExternal(ObjectOutput out) throws IOException {
            out.writeInt(example.label());
            writeFloats(out, example.features());
            writeFloats(out, example.targets());
        }

        @Override
        public void readExternal(ObjectInput in) throws IOException {
            int label = in.readInt();
            float[] features = readFloats(in);
            float[] targets = readFloats(in);
            example = targets == null ? new Example(features, label) : Example.regression(features, targets);
        }

        private Object readResolve() throws ObjectStreamException {
            return example;
        }
    }

    /** What a {@link Minibatch} is written as. */
    static final class MinibatchForm implements Externalizable {
        private static final long serialVersionUID = 1L;
        private Minibatch minibatch;

        /** For Java serialization. */
        public MinibatchForm() {
        }

        MinibatchForm(Minibatch minibatch) {
            this.minibatch = minibatch;
        }

        @Override
        public void writeExternal(ObjectOutput out) throws IOException {
            minibatch.writeTo(out);
        }

        @Override
        public void readExternal(ObjectInput in) throws IOException {
            minibatch = Minibatch.readFrom(in);
        }

        private Object readResolve() throws ObjectStreamException {
            return minibatch;
        }
    }
}
