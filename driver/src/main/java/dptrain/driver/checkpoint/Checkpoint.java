package dptrain.driver.checkpoint;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.replica.ReplicaStats;
import dptrain.replica.TrainingState;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a run needs to continue exactly where it stopped: the state snapshot (parameters,
 * optimizer state, counters), how far it got (epochs done, minibatches done in the next epoch and
 * that epoch's statistics so far), the history so far, the best state for early stopping, and
 * what must not have changed since (settings, the fitted normalization, the example counts).
 *
 * <p>Replica training is a pure function of the state, the partition's data, the seed and the
 * position in the run, so continuing from a checkpoint gives the same bits as never stopping.
 *
 * @param epochsDone         epochs completed
 * @param batchesDone        minibatches per replica already trained in epoch {@code epochsDone + 1}
 * @param state              the state after them
 * @param soFar              epoch {@code epochsDone + 1}'s statistics so far (NONE at an epoch's end)
 * @param history            one record per completed epoch
 * @param rounds             one record per completed round
 * @param best               the best epoch by val_loss so far, or null when not tracked
 * @param blockFilter        block momentum's state, or null without block momentum
 * @param settings           the run's settings that a resumed run must share (TrainingConfig.resumeSettings)
 * @param normalizer         the fitted normalization's statistics, or null for none
 * @param trainingExamples   examples in the training part
 * @param validationExamples examples in the validation part
 */
public record Checkpoint(int epochsDone, int batchesDone, TrainingState state, EpochSoFar soFar,
        List<EpochRecord> history, List<RoundRecord> rounds, Best best, BlockMomentum.Filter blockFilter,
        Map<String, Object> settings,
        float[][] normalizer, long trainingExamples, long validationExamples) {

    static final String FORMAT = "dptrain-checkpoint";
    /** 2: epochs record metrics by name ({@code accuracy}, {@code mae}, ...); 1 had accuracy fields only. */
    static final int VERSION = 2;
    private static final byte[] MAGIC = "DPTCKPT\n".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /** An epoch's statistics before it ended: the replicas' sums, the slowest replicas' time, wall time. */
    public record EpochSoFar(ReplicaStats stats, double slowestReplicaSeconds, double seconds) {
        public static final EpochSoFar NONE = new EpochSoFar(ReplicaStats.NONE, 0, 0);
    }

    /** The epoch with the lowest val_loss so far, its loss, and its state (for --restore-best). */
    public record Best(int epoch, double valLoss, TrainingState state) {
    }

    /** Writes the checkpoint: a header, the metadata as JSON, then the float arrays bit for bit. */
    void writeTo(OutputStream stream) throws IOException {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("version", VERSION);
        meta.put("epochs_done", epochsDone);
        meta.put("batches_done", batchesDone);
        meta.put("iteration", state.iteration());
        meta.put("epoch_counter", state.epoch());
        meta.put("so_far", soFar);
        meta.put("history", history);
        meta.put("rounds", rounds);
        meta.put("best_epoch", best == null ? null : best.epoch());
        meta.put("best_val_loss", best == null ? null : best.valLoss());
        meta.put("best_iteration", best == null ? null : best.state().iteration());
        meta.put("best_epoch_counter", best == null ? null : best.state().epoch());
        meta.put("settings", settings);
        meta.put("normalized", normalizer != null);
        meta.put("training_examples", trainingExamples);
        meta.put("validation_examples", validationExamples);
        Map<String, float[]> arrays = new LinkedHashMap<>();
        arrays.put("parameters", state.copyParameters());
        arrays.put("optimizer_state", state.copyOptimizerState());
        if (normalizer != null) {
            arrays.put("normalizer_0", normalizer[0]);
            arrays.put("normalizer_1", normalizer[1]);
        }
        if (blockFilter != null) {
            arrays.put("block_global", blockFilter.global());
            arrays.put("block_delta", blockFilter.delta());
        }
        if (best != null) {
            arrays.put("best_parameters", best.state().copyParameters());
            arrays.put("best_optimizer_state", best.state().copyOptimizerState());
        }
        DataOutputStream out = new DataOutputStream(stream);
        out.write(MAGIC);
        byte[] metaBytes = JSON.writeValueAsBytes(meta);
        out.writeInt(metaBytes.length);
        out.write(metaBytes);
        out.writeInt(arrays.size());
        for (Map.Entry<String, float[]> array : arrays.entrySet()) {
            out.writeUTF(array.getKey());
            out.writeInt(array.getValue().length);
            // Big-endian raw bits, as DataOutputStream.writeFloat would write them, in one bulk copy.
            ByteBuffer raw = ByteBuffer.allocate(4 * array.getValue().length);
            raw.asFloatBuffer().put(array.getValue());
            out.write(raw.array());
        }
        out.flush();
    }

    /**
     * Reads what {@link #writeTo} wrote.
     *
     * @throws IOException naming what is wrong, when the bytes are not a complete checkpoint
     */
    static Checkpoint readFrom(byte[] bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        try {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new IOException("it does not start like a dptrain checkpoint");
            }
            int metaLength = in.readInt();
            if (metaLength < 0 || metaLength > bytes.length) {
                throw new IOException("its metadata length " + metaLength + " is impossible");
            }
            byte[] metaBytes = in.readNBytes(metaLength);
            Meta meta = JSON.readValue(metaBytes, Meta.class);
            if (!FORMAT.equals(meta.format) || (meta.version != VERSION && meta.version != 1)) {
                throw new IOException("it is format " + meta.format + " version " + meta.version + "; expected "
                        + FORMAT + " version 1 or " + VERSION);
            }
            if (meta.version == 1) {
                meta.history = historyOfVersion1(JSON.readTree(metaBytes).path("history"));
            }
            Map<String, float[]> arrays = new LinkedHashMap<>();
            int count = in.readInt();
            for (int a = 0; a < count; a++) {
                String name = in.readUTF();
                int length = in.readInt();
                if (length < 0 || 4L * length > bytes.length) {
                    throw new IOException("array " + name + " has impossible length " + length);
                }
                byte[] raw = in.readNBytes(4 * length);
                if (raw.length != 4 * length) {
                    throw new EOFException();
                }
                float[] values = new float[length];
                ByteBuffer.wrap(raw).asFloatBuffer().get(values);
                arrays.put(name, values);
            }
            if (in.read() != -1) {
                throw new IOException("it has bytes after its last array");
            }
            TrainingState state = TrainingState.restore(required(arrays, "parameters"),
                    required(arrays, "optimizer_state"), meta.iteration, meta.epoch_counter);
            Best best = meta.best_epoch == null ? null : new Best(meta.best_epoch,
                    meta.best_val_loss == null ? Double.NaN : meta.best_val_loss,
                    TrainingState.restore(required(arrays, "best_parameters"), required(arrays, "best_optimizer_state"),
                            meta.best_iteration, meta.best_epoch_counter));
            BlockMomentum.Filter filter = arrays.containsKey("block_global")
                    ? new BlockMomentum.Filter(required(arrays, "block_global"), required(arrays, "block_delta")) : null;
            float[][] normalizer = meta.normalized
                    ? new float[][] {required(arrays, "normalizer_0"), required(arrays, "normalizer_1")} : null;
            return new Checkpoint(meta.epochs_done, meta.batches_done, state, meta.so_far, List.copyOf(meta.history),
                    List.copyOf(meta.rounds), best, filter, meta.settings, normalizer, meta.training_examples,
                    meta.validation_examples);
        } catch (EOFException e) {
            throw new IOException("it ends too early (truncated)", e);
        }
    }

    /** A version 1 history: a classifier's epochs with accuracy and valAccuracy fields, as metrics by name. */
    private static List<EpochRecord> historyOfVersion1(com.fasterxml.jackson.databind.JsonNode epochs) {
        List<EpochRecord> history = new java.util.ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode e : epochs) {
            double valLoss = e.path("valLoss").asDouble(Double.NaN);
            history.add(new EpochRecord(e.path("epoch").asInt(), e.path("loss").asDouble(Double.NaN),
                    Map.of("accuracy", e.path("accuracy").asDouble(Double.NaN)), valLoss,
                    Double.isNaN(valLoss) ? Map.of() : Map.of("accuracy", e.path("valAccuracy").asDouble(Double.NaN)),
                    e.path("seconds").asDouble(), e.path("examples").asLong(), e.path("averagingRounds").asInt(),
                    e.path("stepsPerReplica").asLong(), e.path("stepsTotal").asLong(),
                    e.path("replicaComputeSeconds").asDouble()));
        }
        return history;
    }

    private static float[] required(Map<String, float[]> arrays, String name) throws IOException {
        float[] values = arrays.get(name);
        if (values == null) {
            throw new IOException("it has no " + name + " array");
        }
        return values;
    }

    /** The metadata as read back; field names as written. */
    @SuppressWarnings("checkstyle:MemberName")
    private static final class Meta {
        public String format;
        public int version;
        public int epochs_done;
        public int batches_done;
        public int iteration;
        public int epoch_counter;
        public EpochSoFar so_far;
        public List<EpochRecord> history;
        public List<RoundRecord> rounds;
        public Integer best_epoch;
        public Double best_val_loss;
        public int best_iteration;
        public int best_epoch_counter;
        public Map<String, Object> settings;
        public boolean normalized;
        public long training_examples;
        public long validation_examples;
    }
}
