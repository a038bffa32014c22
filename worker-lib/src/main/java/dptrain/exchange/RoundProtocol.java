package dptrain.exchange;

import dptrain.replica.ReplicaResult;
import dptrain.replica.TrainingState;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Optional;

/**
 * The round exchange's messages, as written on its TCP connections (big-endian, see
 * {@link DataOutputStream}). A task opens one connection and sends a hello; then, until the driver
 * says the epoch is done, it receives an assignment and answers with its replica's result:
 *
 * <pre>
 * task   -> driver  hello:      magic, version, token, partition, stage attempt
 * driver -> task    assignment: ROUND, sequence, epoch, round, firstBatch, count, roundSeed, state
 *                   or          DONE
 * task   -> driver  result:     sequence, replica result
 * </pre>
 * The state is {@link TrainingState#writeTo}'s format and the replica result {@link
 * ReplicaResult#writeTo}'s. A task reads the assignment's state straight into its replica's network
 * and writes its result from there ({@link dptrain.replica.ReplicaTrainer#receiveState}, {@link
 * dptrain.replica.HeldResult}).
 */
public final class RoundProtocol {
    static final int MAGIC = 0x44505452; // "DPTR"
    static final int VERSION = 2;
    private static final byte ROUND = 1;
    private static final byte DONE = 2;

    private RoundProtocol() {
    }

    /** What a task says first: who it is and the token that proves it belongs to this run. */
    public record Hello(long token, int partition, int stageAttempt) {
    }

    public static void writeHello(DataOutputStream out, Hello hello) throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeLong(hello.token());
        out.writeInt(hello.partition());
        out.writeInt(hello.stageAttempt());
        out.flush();
    }

    /** Reads a hello; an {@link IOException} names what is wrong with a stranger's bytes. */
    public static Hello readHello(DataInputStream in) throws IOException {
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new IOException(String.format("not a dptrain round exchange client (magic 0x%08x)", magic));
        }
        int version = in.readInt();
        if (version != VERSION) {
            throw new IOException("round exchange protocol version " + version + " from the task, " + VERSION
                    + " on the driver: the executors run another dptrain version");
        }
        return new Hello(in.readLong(), in.readInt(), in.readInt());
    }

    /**
     * Writes an assignment from an already encoded state ({@link TrainingState#encode}), so the driver
     * encodes a round's state once for all tasks.
     */
    public static void writeAssignment(DataOutputStream out, RoundAssignment a, byte[] encodedStart)
            throws IOException {
        out.writeByte(ROUND);
        out.writeInt(a.sequence());
        out.writeInt(a.epoch());
        out.writeInt(a.round());
        out.writeInt(a.firstBatch());
        out.writeInt(a.minibatches());
        out.writeLong(a.roundSeed());
        out.write(encodedStart);
        out.flush();
    }

    public static void writeDone(DataOutputStream out) throws IOException {
        out.writeByte(DONE);
        out.flush();
    }

    /**
     * The next assignment, or empty when the driver says the epoch is done. The round's starting
     * state follows on the stream: the caller reads it next.
     */
    public static Optional<RoundAssignment> readAssignment(DataInputStream in) throws IOException {
        byte kind = in.readByte();
        if (kind == DONE) {
            return Optional.empty();
        }
        if (kind != ROUND) {
            throw new IOException("unknown round exchange message kind " + kind);
        }
        return Optional.of(new RoundAssignment(in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt(),
                in.readLong()));
    }

    /** Writes partition {@code partition}'s result of round {@code sequence}. */
    public static void writeResult(DataOutputStream out, int sequence, int partition, RoundClient.ResultWriter result)
            throws IOException {
        out.writeInt(sequence);
        result.write(out, partition);
        out.flush();
    }

    /** A result as it arrives at the driver: the round's sequence number and the replica's result. */
    public record Result(int sequence, ReplicaResult result) {
    }

    public static Result readResult(DataInputStream in) throws IOException {
        return new Result(in.readInt(), ReplicaResult.readFrom(in));
    }
}
