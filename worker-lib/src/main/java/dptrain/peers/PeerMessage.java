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
 * driver -> task    Start      the task's chunk of the state to start from (and of block momentum's filter)
 * driver -> task 0  Assign     the round: epoch, round, first minibatch, minibatches, seed (task 0 passes it on)
 * task   -> task    Header     what the sender's replica did in the round (its statistics, or its rejection)
 * task   -> owner   Chunk      the sender's values of the owner's chunk of the state it reached
 * owner  -> task    Reduced    the owner's chunk of the next state, averaged and filtered
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

    record Start(Envelope envelope, TrainingState chunk, float[] global, float[] delta) implements PeerMessage {
    }

    record Assign(Envelope envelope, int epoch, int round, int firstBatch, int minibatches, long roundSeed)
            implements PeerMessage {
    }

    /** {@code contributes}: chunks of the sender's state follow for every owner. */
    record Header(Envelope envelope, boolean contributes, ReplicaResult statsOrRejection) implements PeerMessage {
    }

    record Chunk(Envelope envelope, TrainingState values) implements PeerMessage {
    }

    record Reduced(Envelope envelope, boolean finite, TrainingState values) implements PeerMessage {
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
    static ByteBuffer encode(PeerMessage message) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(message instanceof Chunk || message instanceof Reduced
                || message instanceof Start || message instanceof State ? 1 << 20 : 256);
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
            } else if (message instanceof Start m) {
                writeChunkAndFilter(out, m.chunk(), m.global(), m.delta());
            } else if (message instanceof Assign m) {
                out.writeInt(m.epoch());
                out.writeInt(m.round());
                out.writeInt(m.firstBatch());
                out.writeInt(m.minibatches());
                out.writeLong(m.roundSeed());
            } else if (message instanceof Header m) {
                out.writeBoolean(m.contributes());
                m.statsOrRejection().writeTo(out);
            } else if (message instanceof Chunk m) {
                m.values().writeTo(out);
            } else if (message instanceof Reduced m) {
                out.writeBoolean(m.finite());
                m.values().writeTo(out);
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
            } else if (message instanceof State m) {
                writeChunkAndFilter(out, m.chunk(), m.global(), m.delta());
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
    static PeerMessage decode(ByteBuffer buffer) throws IOException {
        byte[] copy = new byte[buffer.remaining()];
        buffer.get(copy);
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(copy))) {
            byte kind = in.readByte();
            Envelope e = new Envelope(in.readLong(), in.readInt(), in.readInt(), in.readInt());
            return switch (kind) {
                case 1 -> new Hello(e, in.readUTF(), in.readInt());
                case 2 -> {
                    TrainingState chunk = TrainingState.readFrom(in);
                    float[][] filter = readFilter(in);
                    yield new Start(e, chunk, filter[0], filter[1]);
                }
                case 3 -> new Assign(e, in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readLong());
                case 4 -> new Header(e, in.readBoolean(), ReplicaResult.readFrom(in));
                case 5 -> new Chunk(e, TrainingState.readFrom(in));
                case 6 -> new Reduced(e, in.readBoolean(), TrainingState.readFrom(in));
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
                case 9 -> {
                    TrainingState chunk = TrainingState.readFrom(in);
                    float[][] filter = readFilter(in);
                    yield new State(e, chunk, filter[0], filter[1]);
                }
                case 10 -> new Done(e);
                default -> throw new IOException("unknown peer message kind " + kind);
            };
        }
    }

    private static byte kind(PeerMessage message) {
        List<Class<?>> kinds = List.of(Hello.class, Start.class, Assign.class, Header.class, Chunk.class,
                Reduced.class, Report.class, Fetch.class, State.class, Done.class);
        return (byte) (kinds.indexOf(message.getClass()) + 1);
    }

    /** A chunk and, when block momentum is on, its chunk of the filter: global model and last update. */
    private static void writeChunkAndFilter(DataOutputStream out, TrainingState chunk, float[] global, float[] delta)
            throws IOException {
        chunk.writeTo(out);
        out.writeBoolean(global != null);
        if (global != null) {
            // The filter's two arrays travel as a state's two arrays: one format for every float array.
            TrainingState.restore(global, delta, 0, 0).writeTo(out);
        }
    }

    private static float[][] readFilter(DataInputStream in) throws IOException {
        if (!in.readBoolean()) {
            return new float[2][];
        }
        TrainingState filter = TrainingState.readFrom(in);
        return new float[][] {filter.copyParameters(), filter.copyOptimizerState()};
    }
}
