package dptrain.replica;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One immutable snapshot of what training has learned: flattened parameters, flattened optimizer
 * state (e.g. RMSprop's moving average of squared gradients) and DL4J's iteration and epoch
 * counters (Adam's bias correction and learning-rate schedules read them).
 *
 * <p>Exactly one snapshot is broadcast per averaging round. The arrays are never exposed for
 * writing: readers copy into ND4J arrays or into new Java arrays.
 */
public final class TrainingState implements Serializable {
    private static final long serialVersionUID = 1L;

    private final float[] parameters;
    private final float[] optimizerState;
    private final int iteration;
    private final int epoch;

    TrainingState(float[] parameters, float[] optimizerState, int iteration, int epoch) {
        this.parameters = parameters;
        this.optimizerState = optimizerState;
        this.iteration = iteration;
        this.epoch = epoch;
    }

    /**
     * A snapshot of copies of the given values, e.g. read back from a checkpoint.
     */
    public static TrainingState restore(float[] parameters, float[] optimizerState, int iteration, int epoch) {
        return new TrainingState(parameters.clone(), optimizerState.clone(), iteration, epoch);
    }

    /** Copies the current parameters, optimizer state and counters of {@code net}. */
    public static TrainingState of(MultiLayerNetwork net) {
        INDArray state = optimizerStateOf(net);
        float[] optimizer = state == null ? new float[0] : copyOf(state);
        return new TrainingState(copyOf(net.params()), optimizer, net.getIterationCount(), net.getEpochCount());
    }

    /** The values of a contiguous float array (a view or not) in one bulk copy out of native memory. */
    private static float[] copyOf(INDArray contiguous) {
        float[] values = new float[Math.toIntExact(contiguous.length())];
        contiguousBuffer(contiguous).get(values);
        return values;
    }

    /** The array's native memory as a float buffer from its first element to its last. */
    private static FloatBuffer contiguousBuffer(INDArray array) {
        if (array.dataType() != DataType.FLOAT || array.elementWiseStride() != 1) {
            throw new IllegalArgumentException("expected a contiguous float array, got " + array.shapeInfoToString());
        }
        Nd4j.getExecutioner().commit();
        FloatBuffer buffer = array.data().asNioFloat();
        int offset = Math.toIntExact(array.offset());
        buffer.limit(offset + Math.toIntExact(array.length())).position(offset);
        return buffer;
    }

    /** Writes this snapshot into {@code net}, whose configuration must match the one it was taken from. */
    public void loadInto(MultiLayerNetwork net) {
        INDArray params = net.params();
        if (params.length() != parameters.length) {
            throw new IllegalArgumentException("snapshot has " + parameters.length + " parameters but the network has "
                    + params.length());
        }
        contiguousBuffer(params).put(parameters);
        INDArray state = optimizerStateOf(net);
        long stateLength = state == null ? 0 : state.length();
        if (stateLength != optimizerState.length) {
            throw new IllegalArgumentException("snapshot has " + optimizerState.length
                    + " optimizer state values but the network's optimizer has " + stateLength);
        }
        if (state != null) {
            contiguousBuffer(state).put(optimizerState);
        }
        net.setIterationCount(iteration);
        net.setEpochCount(epoch);
    }

    /**
     * The same optimizer state and counters with other parameters. Takes {@code newParameters}
     * without copying it (a round's state can be large): the caller hands it over and must not
     * change it afterwards.
     */
    public TrainingState withParameters(float[] newParameters) {
        if (newParameters.length != parameters.length) {
            throw new IllegalArgumentException("expected " + parameters.length + " parameters, got "
                    + newParameters.length);
        }
        return new TrainingState(newParameters, optimizerState, iteration, epoch);
    }

    /**
     * The same parameters and counters with another optimizer state, taken without copying (the
     * caller hands it over): a replica's own, when it keeps it ({@link OptimizerStateScope#LOCAL}).
     */
    public TrainingState withOptimizerState(float[] newOptimizerState) {
        if (newOptimizerState.length != optimizerState.length) {
            throw new IllegalArgumentException("expected " + optimizerState.length + " optimizer values, got "
                    + newOptimizerState.length);
        }
        return new TrainingState(parameters, newOptimizerState, iteration, epoch);
    }

    /** The same learned values with new counters. */
    public TrainingState withCounters(int newIteration, int newEpoch) {
        return new TrainingState(parameters, optimizerState, newIteration, newEpoch);
    }

    public int parameterCount() {
        return parameters.length;
    }

    public int optimizerStateCount() {
        return optimizerState.length;
    }

    public int iteration() {
        return iteration;
    }

    public int epoch() {
        return epoch;
    }

    /** A copy of the flattened parameters. */
    public float[] copyParameters() {
        return parameters.clone();
    }

    /** A copy of the flattened optimizer state. */
    public float[] copyOptimizerState() {
        return optimizerState.clone();
    }

    /** True when every parameter and optimizer value is finite. */
    public boolean isFinite() {
        return allFinite(parameters) && allFinite(optimizerState);
    }

    /**
     * Writes this snapshot to {@code out} for {@link #readFrom}: counters (big-endian ints), then the
     * parameters and the optimizer state, each a length and raw little-endian floats: the memory
     * order of x86 and ARM, so each array is one bulk copy rather than a byte swap per value.
     */
    public void writeTo(DataOutputStream out) throws IOException {
        write(out, iteration, epoch, FloatBuffer.wrap(parameters), FloatBuffer.wrap(optimizerState));
    }

    /** Reads a snapshot written by {@link #writeTo}. */
    public static TrainingState readFrom(DataInputStream in) throws IOException {
        int iteration = in.readInt();
        int epoch = in.readInt();
        float[] parameters = new float[readLength(in)];
        readFloats(in, FloatBuffer.wrap(parameters));
        float[] optimizerState = new float[readLength(in)];
        readFloats(in, FloatBuffer.wrap(optimizerState));
        return new TrainingState(parameters, optimizerState, iteration, epoch);
    }

    /**
     * This snapshot as the bytes {@link #writeTo} writes, in one array sized exactly: the driver
     * encodes a round's state once and writes the same bytes to every task. Each array goes in as one
     * bulk copy; {@code WireFormatTest} checks that the bytes are {@link #writeTo}'s.
     */
    public byte[] encode() {
        ByteBuffer out = ByteBuffer.allocate(encodedSize());
        encodeInto(out);
        return out.array();
    }

    /** Bytes {@link #encode} writes. */
    public int encodedSize() {
        return 4 * (4 + parameters.length + optimizerState.length);
    }

    /** Puts {@link #encode}'s bytes into {@code out} (big-endian, its position advanced), each array in one bulk copy. */
    public void encodeInto(ByteBuffer out) {
        out.putInt(iteration).putInt(epoch);
        out.putInt(parameters.length);
        out.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(parameters);
        out.position(out.position() + 4 * parameters.length);
        out.putInt(optimizerState.length);
        out.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(optimizerState);
        out.position(out.position() + 4 * optimizerState.length);
    }

    /**
     * Reads a snapshot that {@link #encodeInto} put into {@code in} (big-endian), advancing its
     * position; each array in one bulk copy. A length that does not fit what remains is refused
     * before anything is allocated.
     */
    public static TrainingState decode(ByteBuffer in) throws IOException {
        int iteration = in.getInt();
        int epoch = in.getInt();
        float[] parameters = decodeFloats(in);
        float[] optimizerState = decodeFloats(in);
        return new TrainingState(parameters, optimizerState, iteration, epoch);
    }

    private static float[] decodeFloats(ByteBuffer in) throws IOException {
        int length = in.getInt();
        if (length < 0 || length > in.remaining() / 4) {
            throw new IOException("corrupt state: an array of " + length + " floats in " + in.remaining()
                    + " remaining bytes");
        }
        float[] values = new float[length];
        in.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        in.position(in.position() + 4 * length);
        return values;
    }

    /**
     * Writes the state {@code net} holds now in {@link #writeTo}'s format, straight from its native
     * memory (no copy of the state on the Java heap): how a long-lived task sends a round's result.
     */
    static void writeFrom(MultiLayerNetwork net, DataOutputStream out) throws IOException {
        INDArray optimizer = optimizerStateOf(net);
        write(out, net.getIterationCount(), net.getEpochCount(), contiguousBuffer(net.params()),
                optimizer == null ? FloatBuffer.allocate(0) : contiguousBuffer(optimizer));
    }

    /**
     * Reads a state written by {@link #writeTo} straight into {@code net}'s native memory, as
     * {@link #loadInto} would load it (no copy of the state on the Java heap): how a long-lived task
     * receives a round's starting state. An array of another length is refused before its values are read.
     */
    static void readInto(DataInputStream in, MultiLayerNetwork net) throws IOException {
        int iteration = in.readInt();
        int epoch = in.readInt();
        readArray(in, contiguousBuffer(net.params()), "parameters", "network");
        INDArray optimizer = optimizerStateOf(net);
        readArray(in, optimizer == null ? FloatBuffer.allocate(0) : contiguousBuffer(optimizer),
                "optimizer state values", "optimizer");
        net.setIterationCount(iteration);
        net.setEpochCount(epoch);
    }

    /** True when every parameter and optimizer value {@code net} holds now is finite. */
    static boolean isFinite(MultiLayerNetwork net) {
        INDArray optimizer = optimizerStateOf(net);
        return allFinite(contiguousBuffer(net.params()))
                && (optimizer == null || allFinite(contiguousBuffer(optimizer)));
    }

    private static INDArray optimizerStateOf(MultiLayerNetwork net) {
        Updater updater = net.getUpdater(true);
        return updater == null ? null : updater.getStateViewArray();
    }

    /** Floats per bulk copy between a buffer and a stream: 64 KiB, small enough to stay in the CPU's cache. */
    private static final int CHUNK_FLOATS = 1 << 14;

    /** The one writer of the format: counters, then each array as a length and its raw little-endian floats. */
    private static void write(DataOutputStream out, int iteration, int epoch, FloatBuffer parameters,
            FloatBuffer optimizerState) throws IOException {
        out.writeInt(iteration);
        out.writeInt(epoch);
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK_FLOATS * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        writeFloats(out, parameters, chunk);
        writeFloats(out, optimizerState, chunk);
    }

    private static void writeFloats(DataOutputStream out, FloatBuffer values, ByteBuffer chunk) throws IOException {
        out.writeInt(values.remaining());
        while (values.hasRemaining()) {
            int n = Math.min(CHUNK_FLOATS, values.remaining());
            chunk.clear();
            chunk.asFloatBuffer().put(values.slice(values.position(), n));
            values.position(values.position() + n);
            out.write(chunk.array(), 0, n * Float.BYTES);
        }
    }

    private static int readLength(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            throw new IOException("corrupt state stream: negative array length " + length);
        }
        return length;
    }

    /** Reads one array of the format into {@code into}, refusing one of another length before reading its values. */
    private static void readArray(DataInputStream in, FloatBuffer into, String what, String holder)
            throws IOException {
        int length = readLength(in);
        if (length != into.remaining()) {
            throw new IllegalArgumentException("the round's state has " + length + " " + what + " but the replica's "
                    + holder + " has " + into.remaining() + ": the driver and the executors were given different "
                    + "models");
        }
        readFloats(in, into);
    }

    /** Fills {@code into}'s remaining floats from the stream's raw little-endian floats. */
    private static void readFloats(DataInputStream in, FloatBuffer into) throws IOException {
        byte[] chunk = new byte[Math.min(into.remaining(), CHUNK_FLOATS) * Float.BYTES];
        while (into.hasRemaining()) {
            int n = Math.min(CHUNK_FLOATS, into.remaining());
            in.readFully(chunk, 0, n * Float.BYTES);
            into.put(ByteBuffer.wrap(chunk, 0, n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
        }
    }

    /** The parameters themselves, for this package's readers that promise not to change them. */
    float[] parametersView() {
        return parameters;
    }

    /** The optimizer state itself, for this package's readers that promise not to change it. */
    float[] optimizerStateView() {
        return optimizerState;
    }

    float parameter(int i) {
        return parameters[i];
    }

    float optimizerValue(int i) {
        return optimizerState[i];
    }

    /** On all cores: the driver checks every round's averaged state while the replicas wait. */
    private static boolean allFinite(float[] values) {
        return ParallelLoops.allRanges(values.length,
                (from, to) -> allFinite(FloatBuffer.wrap(values, from, to - from)));
    }

    private static boolean allFinite(FloatBuffer values) {
        for (int i = values.position(); i < values.limit(); i++) {
            if (!Float.isFinite(values.get(i))) {
                return false;
            }
        }
        return true;
    }
}
