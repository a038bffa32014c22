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
        Updater updater = net.getUpdater(true);
        INDArray state = updater == null ? null : updater.getStateViewArray();
        float[] optimizer = state == null ? new float[0] : copyOf(state);
        return new TrainingState(copyOf(net.params()), optimizer, net.getIterationCount(), net.getEpochCount());
    }

    /** The values of a contiguous float array (a view or not) in one bulk copy out of native memory. */
    private static float[] copyOf(INDArray contiguous) {
        float[] values = new float[Math.toIntExact(contiguous.length())];
        contiguousBuffer(contiguous).get(values);
        return values;
    }

    /** The array's native memory as a float buffer positioned at its first element. */
    private static FloatBuffer contiguousBuffer(INDArray array) {
        if (array.dataType() != DataType.FLOAT || array.elementWiseStride() != 1) {
            throw new IllegalArgumentException("expected a contiguous float array, got " + array.shapeInfoToString());
        }
        Nd4j.getExecutioner().commit();
        FloatBuffer buffer = array.data().asNioFloat();
        buffer.position(Math.toIntExact(array.offset()));
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
        Updater updater = net.getUpdater(true);
        INDArray state = updater == null ? null : updater.getStateViewArray();
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
        out.writeInt(iteration);
        out.writeInt(epoch);
        writeFloats(out, parameters);
        writeFloats(out, optimizerState);
    }

    /** Reads a snapshot written by {@link #writeTo}. */
    public static TrainingState readFrom(DataInputStream in) throws IOException {
        int iteration = in.readInt();
        int epoch = in.readInt();
        float[] parameters = readFloats(in);
        float[] optimizerState = readFloats(in);
        return new TrainingState(parameters, optimizerState, iteration, epoch);
    }

    /** This snapshot as the bytes {@link #writeTo} writes, in one array sized exactly (one copy of each value). */
    public byte[] encode() {
        ByteBuffer out = ByteBuffer.allocate(4 * (4 + parameters.length + optimizerState.length));
        out.putInt(iteration).putInt(epoch);
        out.putInt(parameters.length);
        out.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(parameters);
        out.position(out.position() + 4 * parameters.length);
        out.putInt(optimizerState.length);
        out.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(optimizerState);
        return out.array();
    }

    private static final int CHUNK_FLOATS = 1 << 14;

    static void writeFloats(DataOutputStream out, float[] values) throws IOException {
        out.writeInt(values.length);
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK_FLOATS * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int from = 0; from < values.length; from += CHUNK_FLOATS) {
            int n = Math.min(CHUNK_FLOATS, values.length - from);
            chunk.clear();
            chunk.asFloatBuffer().put(values, from, n);
            out.write(chunk.array(), 0, n * Float.BYTES);
        }
    }

    static float[] readFloats(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            throw new IOException("corrupt state stream: negative array length " + length);
        }
        float[] values = new float[length];
        byte[] chunk = new byte[Math.min(length, CHUNK_FLOATS) * Float.BYTES];
        for (int from = 0; from < length; from += CHUNK_FLOATS) {
            int n = Math.min(CHUNK_FLOATS, length - from);
            in.readFully(chunk, 0, n * Float.BYTES);
            ByteBuffer.wrap(chunk, 0, n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values, from, n);
        }
        return values;
    }

    float parameter(int i) {
        return parameters[i];
    }

    float optimizerValue(int i) {
        return optimizerState[i];
    }

    private static boolean allFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
