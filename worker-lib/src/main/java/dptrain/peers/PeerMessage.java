package dptrain.peers;

import dptrain.replica.ReplicaResult;
import dptrain.replica.ReplicaStats;
import dptrain.replica.RoundCombine;
import dptrain.replica.TrainingState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The messages of averaging among the replicas, as they travel over Spark's network layer ({@link
 * PeerNetwork}). Each starts with its kind, the run's token, the barrier stage attempt, the round's
 * sequence number and the sender (a partition, or {@link #DRIVER}); big-endian, states in {@link
 * TrainingState#writeTo}'s format.
 *
 * <pre>
 * task   -> driver  Hello      where the task's own server listens
 * driver -> task    Start      every task's address, and the task's chunk of the state to start from (and of
 *                               block momentum's filter)
 * driver -> task 0  Assign     the round: epoch, round, first minibatch, minibatches, seed, whether it is exact
 *                               (task 0 passes it on)
 * task   -> task    Header     what the sender's replica did in the round (its statistics, or its rejection)
 * task   -> owner   Chunk      the sender's values of the owner's chunk of the state it reached (with 16-bit
 *                               deltas: its parameters as codes, 2 bytes each, the optimizer state as floats)
 * owner  -> task    Reduced    the owner's chunk of the next state, averaged and filtered (codes likewise)
 * task 0 -> driver  Report     the round's statistics and checks
 * driver -> task    Fetch      send your chunk of the state of round seq
 * task   -> driver  State      that chunk, with its chunk of the filter
 * driver -> task    Done       the epoch's rounds are over
 * </pre>
 */
public sealed interface PeerMessage {
    /** The sender of the driver's messages. */
    int DRIVER = -1;

    Envelope envelope();

    /** What every message carries first. */
    record Envelope(long token, int attempt, int sequence, int from) {
    }

    record Hello(Envelope envelope, String host, int port) implements PeerMessage {
    }

    /** {@code addresses}: every task's "host:port", by partition, as their hellos gave them. */
    record Start(Envelope envelope, List<String> addresses, TrainingState chunk, float[] global, float[] delta)
            implements PeerMessage {
    }

    /** {@code exact}: the round's deltas travel in float32 and flush the residuals (see DeltaFeedback). */
    record Assign(Envelope envelope, int epoch, int round, int firstBatch, int minibatches, long roundSeed,
            boolean exact) implements PeerMessage {
        public Assign(Envelope envelope, int epoch, int round, int firstBatch, int minibatches, long roundSeed) {
            this(envelope, epoch, round, firstBatch, minibatches, roundSeed, false);
        }
    }

    /** {@code contributes}: chunks of the sender's state follow for every owner. */
    record Header(Envelope envelope, boolean contributes, ReplicaResult statsOrRejection) implements PeerMessage {
    }

    /**
     * {@code codes}: null, or the 16-bit deltas of the chunk's parameters from the round's start
     * ({@code values} then holds no parameters, only the optimizer state and counters).
     */
    record Chunk(Envelope envelope, TrainingState values, short[] codes) implements PeerMessage {
        public Chunk(Envelope envelope, TrainingState values) {
            this(envelope, values, null);
        }
    }

    /** {@code codes} as in {@link Chunk}. */
    record Reduced(Envelope envelope, boolean finite, TrainingState values, short[] codes) implements PeerMessage {
        public Reduced(Envelope envelope, boolean finite, TrainingState values) {
            this(envelope, finite, values, null);
        }
    }

    /** Bytes are what partition 0 sent and received among the replicas in the round. */
    record Report(Envelope envelope, ReplicaStats stats, List<String> rejections, int contributions,
            boolean contributed, boolean finite, double combineSeconds, long bytesSent, long bytesReceived)
            implements PeerMessage {
    }

    record Fetch(Envelope envelope) implements PeerMessage {
    }

    record State(Envelope envelope, TrainingState chunk, float[] global, float[] delta) implements PeerMessage {
    }

    record Done(Envelope envelope) implements PeerMessage {
    }

    /** This message as the bytes {@link #decode} reads. */
    public static ByteBuffer encode(PeerMessage message) {
        if (message instanceof Chunk m) {
            return withStates(m, null, null, m.values(), null, null, false, m.codes());
        } else if (message instanceof Reduced m) {
            return withStates(m, m.finite(), null, m.values(), null, null, false, m.codes());
        } else if (message instanceof Start m) {
            return withStates(m, null, m.addresses(), m.chunk(), m.global(), m.delta(), true, null);
        } else if (message instanceof State m) {
            return withStates(m, null, null, m.chunk(), m.global(), m.delta(), true, null);
        }
        return withDataOutput(message);
    }

    /** Bytes of a message's head: kind, token, attempt, sequence, sender. */
    private static int headBytes() {
        return 1 + 8 + 4 + 4 + 4;
    }

    /**
     * A message that carries a state, in one buffer sized exactly with each float array put in one
     * bulk copy (these are the messages that carry megabytes every round): the head, then {@code flag}
     * if given, {@code addresses} if given (a count, then each as a length and UTF-8 bytes), the state,
     * and, when {@code filterFollows}, whether a filter follows and the filter's two arrays as a state's;
     * a chunk's or a reduced chunk's 16-bit codes last (a count, -1 for none, then 2 bytes each).
     */
    private static ByteBuffer withStates(PeerMessage message, Boolean flag, List<String> addresses,
            TrainingState state, float[] global, float[] delta, boolean filterFollows, short[] codes) {
        boolean codesFollow = message instanceof Chunk || message instanceof Reduced;
        TrainingState filter = global == null ? null : TrainingState.restore(global, delta, 0, 0);
        List<byte[]> encodedAddresses = addresses == null ? List.of()
                : addresses.stream().map(a -> a.getBytes(java.nio.charset.StandardCharsets.UTF_8)).toList();
        int size = headBytes() + (flag == null ? 0 : 1) + state.encodedSize() + (filterFollows ? 1 : 0)
                + (filter == null ? 0 : filter.encodedSize())
                + (addresses == null ? 0 : 4 + encodedAddresses.stream().mapToInt(a -> 4 + a.length).sum())
                + (codesFollow ? 4 + (codes == null ? 0 : 2 * codes.length) : 0);
        ByteBuffer out = ByteBuffer.allocate(size);
        Envelope e = message.envelope();
        out.put(kind(message)).putLong(e.token()).putInt(e.attempt()).putInt(e.sequence()).putInt(e.from());
        if (flag != null) {
            out.put((byte) (flag ? 1 : 0));
        }
        if (addresses != null) {
            out.putInt(encodedAddresses.size());
            for (byte[] a : encodedAddresses) {
                out.putInt(a.length).put(a);
            }
        }
        state.encodeInto(out);
        if (filterFollows) {
            out.put((byte) (filter == null ? 0 : 1));
            if (filter != null) {
                filter.encodeInto(out);
            }
        }
        if (codesFollow) {
            out.putInt(codes == null ? -1 : codes.length);
            if (codes != null) {
                out.asShortBuffer().put(codes);
                out.position(out.position() + 2 * codes.length);
            }
        }
        return out.flip();
    }

    /** The small messages, through a {@link DataOutputStream}. */
    private static ByteBuffer withDataOutput(PeerMessage message) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            Envelope e = message.envelope();
            out.writeByte(kind(message));
            out.writeLong(e.token());
            out.writeInt(e.attempt());
            out.writeInt(e.sequence());
            out.writeInt(e.from());
            if (message instanceof Hello m) {
                out.writeUTF(m.host());
                out.writeInt(m.port());
            } else if (message instanceof Assign m) {
                out.writeInt(m.epoch());
                out.writeInt(m.round());
                out.writeInt(m.firstBatch());
                out.writeInt(m.minibatches());
                out.writeLong(m.roundSeed());
                out.writeBoolean(m.exact());
            } else if (message instanceof Header m) {
                out.writeBoolean(m.contributes());
                m.statsOrRejection().writeTo(out);
            } else if (message instanceof Report m) {
                RoundCombine.chunkResult(0, m.stats(), null, null).writeTo(out);
                out.writeInt(m.rejections().size());
                for (String r : m.rejections()) {
                    out.writeUTF(r);
                }
                out.writeInt(m.contributions());
                out.writeBoolean(m.contributed());
                out.writeBoolean(m.finite());
                out.writeDouble(m.combineSeconds());
                out.writeLong(m.bytesSent());
                out.writeLong(m.bytesReceived());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("encoding a " + message.getClass().getSimpleName(), e);
        }
        return ByteBuffer.wrap(bytes.toByteArray());
    }

    /**
     * Reads a message; an {@link IOException} names what is wrong with a stranger's bytes. The buffer
     * is read now: Spark's network layer reuses it once the handler returns.
     */
    public static PeerMessage decode(ByteBuffer buffer) throws IOException {
        if (buffer.remaining() >= headBytes()) {
            byte kind = buffer.get(buffer.position());
            if (kind == 2 || kind == 5 || kind == 6 || kind == 9) {
                return decodeWithState(buffer.slice());
            }
        }
        byte[] copy = new byte[buffer.remaining()];
        buffer.get(copy);
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(copy))) {
            byte kind = in.readByte();
            Envelope e = new Envelope(in.readLong(), in.readInt(), in.readInt(), in.readInt());
            return switch (kind) {
                case 1 -> new Hello(e, in.readUTF(), in.readInt());
                case 3 -> new Assign(e, in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readLong(),
                        in.readBoolean());
                case 4 -> new Header(e, in.readBoolean(), ReplicaResult.readFrom(in));
                case 7 -> {
                    ReplicaStats stats = ReplicaResult.readFrom(in).stats();
                    int n = in.readInt();
                    if (n < 0 || n > copy.length) {
                        throw new IOException("a report with " + n + " rejections");
                    }
                    List<String> rejections = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        rejections.add(in.readUTF());
                    }
                    yield new Report(e, stats, List.copyOf(rejections), in.readInt(), in.readBoolean(),
                            in.readBoolean(), in.readDouble(), in.readLong(), in.readLong());
                }
                case 8 -> new Fetch(e);
                case 10 -> new Done(e);
                default -> throw new IOException("unknown peer message kind " + kind);
            };
        }
    }

    /** Reads a message {@link #withStates} wrote, its arrays copied straight out of the buffer. */
    private static PeerMessage decodeWithState(ByteBuffer in) throws IOException {
        try {
            byte kind = in.get();
            Envelope e = new Envelope(in.getLong(), in.getInt(), in.getInt(), in.getInt());
            switch (kind) {
                case 5:
                    TrainingState values = TrainingState.decode(in);
                    return new Chunk(e, values, decodeCodes(in));
                case 6:
                    boolean finite = in.get() != 0;
                    TrainingState reduced = TrainingState.decode(in);
                    return new Reduced(e, finite, reduced, decodeCodes(in));
                default:
                    List<String> addresses = kind == 2 ? decodeAddresses(in) : null;
                    TrainingState chunk = TrainingState.decode(in);
                    TrainingState filter = in.get() != 0 ? TrainingState.decode(in) : null;
                    float[] global = filter == null ? null : filter.copyParameters();
                    float[] delta = filter == null ? null : filter.copyOptimizerState();
                    return kind == 2 ? new Start(e, addresses, chunk, global, delta)
                            : new State(e, chunk, global, delta);
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new IOException("a message cut short", e);
        }
    }

    private static short[] decodeCodes(ByteBuffer in) throws IOException {
        int count = in.getInt();
        if (count == -1) {
            return null;
        }
        if (count < 0 || count > in.remaining() / 2) {
            throw new IOException("corrupt message: " + count + " 16-bit deltas in " + in.remaining()
                    + " remaining bytes");
        }
        short[] codes = new short[count];
        in.asShortBuffer().get(codes);
        in.position(in.position() + 2 * count);
        return codes;
    }

    private static List<String> decodeAddresses(ByteBuffer in) throws IOException {
        int count = in.getInt();
        if (count < 0 || count > in.remaining() / 4) {
            throw new IOException("a start message with " + count + " addresses");
        }
        List<String> addresses = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int length = in.getInt();
            if (length < 0 || length > in.remaining()) {
                throw new IOException("an address of " + length + " bytes");
            }
            byte[] bytes = new byte[length];
            in.get(bytes);
            addresses.add(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
        }
        return List.copyOf(addresses);
    }

    private static byte kind(PeerMessage message) {
        List<Class<?>> kinds = List.of(Hello.class, Start.class, Assign.class, Header.class, Chunk.class,
                Reduced.class, Report.class, Fetch.class, State.class, Done.class);
        return (byte) (kinds.indexOf(message.getClass()) + 1);
    }
}
