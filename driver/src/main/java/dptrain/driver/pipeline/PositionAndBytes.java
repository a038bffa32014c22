package dptrain.driver.pipeline;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.spark.serializer.DeserializationStream;
import org.apache.spark.serializer.SerializationStream;
import org.apache.spark.serializer.Serializer;
import org.apache.spark.serializer.SerializerInstance;
import scala.reflect.ClassTag;

/**
 * The shuffle's serializer for (position, example bytes) records: a long and a length-prefixed block of bytes,
 * nothing else. Java serialization wrote class descriptors again every 100 objects and read them back through
 * reflection; Spark's Kryo needs {@code --add-opens java.base/java.nio}, which a JVM not started by Spark's launcher
 * (a test, a notebook with the estimators) lacks.
 */
final class PositionAndBytes extends Serializer implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final int POSITION = 0;
    private static final int BYTES = 1;

    @Override
    public SerializerInstance newInstance() {
        return new Instance();
    }

    private static final class Instance extends SerializerInstance {
        @Override
        public <T> ByteBuffer serialize(T value, ClassTag<T> tag) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            serializeStream(bytes).writeObject(value, tag).close();
            return ByteBuffer.wrap(bytes.toByteArray());
        }

        @Override
        public <T> T deserialize(ByteBuffer buffer, ClassTag<T> tag) {
            byte[] bytes = new byte[buffer.remaining()];
            buffer.duplicate().get(bytes);
            return deserializeStream(new ByteArrayInputStream(bytes)).readObject(tag);
        }

        @Override
        public <T> T deserialize(ByteBuffer buffer, ClassLoader loader, ClassTag<T> tag) {
            return deserialize(buffer, tag);
        }

        @Override
        public SerializationStream serializeStream(OutputStream stream) {
            DataOutputStream out = new DataOutputStream(stream);
            return new SerializationStream() {
                @Override
                public <T> SerializationStream writeObject(T value, ClassTag<T> tag) {
                    try {
                        if (value instanceof Long position) {
                            out.writeByte(POSITION);
                            out.writeLong(position);
                        } else if (value instanceof byte[] bytes) {
                            out.writeByte(BYTES);
                            out.writeInt(bytes.length);
                            out.write(bytes);
                        } else {
                            throw new IllegalArgumentException("expected a position or an example's bytes, got "
                                    + (value == null ? "null" : value.getClass().getName()));
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    return this;
                }

                @Override
                public void flush() {
                    try {
                        out.flush();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }

                @Override
                public void close() {
                    try {
                        out.close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            };
        }

        @Override
        public DeserializationStream deserializeStream(InputStream stream) {
            DataInputStream in = new DataInputStream(stream);
            return new DeserializationStream() {
                /** The next object; the stream's end is an {@link java.io.EOFException}, as Spark expects. */
                @Override
                @SuppressWarnings("unchecked")
                public <T> T readObject(ClassTag<T> tag) {
                    try {
                        int kind = in.readUnsignedByte();
                        if (kind == POSITION) {
                            return (T) Long.valueOf(in.readLong());
                        }
                        if (kind != BYTES) {
                            throw new IllegalStateException("shuffle record of unknown kind " + kind);
                        }
                        byte[] bytes = new byte[in.readInt()];
                        in.readFully(bytes);
                        return (T) bytes;
                    } catch (IOException e) {
                        throw sneaky(e);
                    }
                }

                @Override
                public void close() {
                    try {
                        in.close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            };
        }
    }

    /** Rethrows {@code e} unchecked, as Scala code does: Spark ends a stream on the EOFException itself. */
    @SuppressWarnings("unchecked")
    private static <E extends Throwable> RuntimeException sneaky(Throwable e) throws E {
        throw (E) e;
    }
}
