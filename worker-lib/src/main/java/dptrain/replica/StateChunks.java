package dptrain.replica;

import java.io.Serializable;

/**
 * A state cut into {@code count} contiguous chunks, one per replica, for averaging among the
 * replicas themselves: chunk {@code c} holds parameters {@code [parameterFrom(c), parameterFrom(c + 1))}
 * and optimizer values {@code [optimizerFrom(c), optimizerFrom(c + 1))}. Averaging is per value, so a
 * chunk averaged on its own has the same bits as the same values of the whole state averaged at
 * once ({@code StateChunksTest}).
 */
public final class StateChunks implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int parameters;
    private final int optimizerValues;
    private final int count;

    private StateChunks(int parameters, int optimizerValues, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("at least one chunk, got " + count);
        }
        this.parameters = parameters;
        this.optimizerValues = optimizerValues;
        this.count = count;
    }

    /** Chunks of states shaped like {@code like}. */
    public static StateChunks of(TrainingState like, int count) {
        return new StateChunks(like.parameterCount(), like.optimizerStateCount(), count);
    }

    /** The chunks whose parts these are, in order (a task that was handed them, not the whole state). */
    public static StateChunks ofParts(TrainingState[] parts) {
        long p = 0;
        long o = 0;
        for (TrainingState part : parts) {
            p += part.parameterCount();
            o += part.optimizerStateCount();
        }
        return new StateChunks(Math.toIntExact(p), Math.toIntExact(o), parts.length);
    }

    public int count() {
        return count;
    }

    private int parameterFrom(int chunk) {
        return (int) ((long) parameters * chunk / count);
    }

    private int optimizerFrom(int chunk) {
        return (int) ((long) optimizerValues * chunk / count);
    }

    /** Chunk {@code chunk} of {@code state}, with its counters. */
    public TrainingState slice(TrainingState state, int chunk) {
        checkShape(state);
        return new TrainingState(slice(state.parametersView(), chunk), sliceOptimizer(state.optimizerStateView(), chunk),
                state.iteration(), state.epoch());
    }

    /**
     * Chunk {@code chunk} of the state a replica reached in a round, or null when it reached none (it
     * trained on nothing, or was rejected).
     */
    public TrainingState slice(ReplicaResult result, int chunk) {
        return result.state() == null ? null : slice(result.state(), chunk);
    }

    /** Chunk {@code chunk} of a parameter-sized array (e.g. block momentum's global model). */
    public float[] slice(float[] parameterSized, int chunk) {
        if (parameterSized.length != parameters) {
            throw new IllegalArgumentException("expected " + parameters + " values, got " + parameterSized.length);
        }
        return java.util.Arrays.copyOfRange(parameterSized, parameterFrom(chunk), parameterFrom(chunk + 1));
    }

    /** Chunk {@code chunk} of parameter-sized 16-bit codes ({@link DeltaRounding}). */
    public short[] slice(short[] parameterSized, int chunk) {
        if (parameterSized.length != parameters) {
            throw new IllegalArgumentException("expected " + parameters + " codes, got " + parameterSized.length);
        }
        return java.util.Arrays.copyOfRange(parameterSized, parameterFrom(chunk), parameterFrom(chunk + 1));
    }

    private float[] sliceOptimizer(float[] optimizerSized, int chunk) {
        return java.util.Arrays.copyOfRange(optimizerSized, optimizerFrom(chunk), optimizerFrom(chunk + 1));
    }

    /** The whole state from its chunks in order; counters from the first. */
    public TrainingState assemble(TrainingState[] chunks) {
        checkCount(chunks.length);
        float[] p = new float[parameters];
        float[] o = new float[optimizerValues];
        for (int c = 0; c < count; c++) {
            copyInto(chunks[c].parametersView(), p, parameterFrom(c), parameterFrom(c + 1), "parameters", c);
            copyInto(chunks[c].optimizerStateView(), o, optimizerFrom(c), optimizerFrom(c + 1), "optimizer values", c);
        }
        return new TrainingState(p, o, chunks[0].iteration(), chunks[0].epoch());
    }

    /** A whole parameter-sized array from its chunks in order. */
    public float[] assemble(float[][] chunks) {
        checkCount(chunks.length);
        float[] whole = new float[parameters];
        for (int c = 0; c < count; c++) {
            copyInto(chunks[c], whole, parameterFrom(c), parameterFrom(c + 1), "parameters", c);
        }
        return whole;
    }

    private void checkCount(int chunks) {
        if (chunks != count) {
            throw new IllegalArgumentException("expected " + count + " chunks, got " + chunks);
        }
    }

    private void checkShape(TrainingState state) {
        if (state.parameterCount() != parameters || state.optimizerStateCount() != optimizerValues) {
            throw new IllegalArgumentException("expected a state of " + parameters + " parameters and "
                    + optimizerValues + " optimizer values, got " + state.parameterCount() + " and "
                    + state.optimizerStateCount());
        }
    }

    private static void copyInto(float[] chunk, float[] whole, int from, int to, String what, int index) {
        if (chunk.length != to - from) {
            throw new IllegalArgumentException("chunk " + index + " has " + chunk.length + " " + what + ", expected "
                    + (to - from));
        }
        System.arraycopy(chunk, 0, whole, from, chunk.length);
    }
}
