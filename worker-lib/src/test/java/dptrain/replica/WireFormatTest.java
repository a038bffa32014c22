package dptrain.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** States and results cross the round exchange's sockets bit for bit, NaN payloads and all. */
class WireFormatTest {

    private static float[] values(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = Float.intBitsToFloat(random.nextInt()); // every bit pattern: NaNs, infinities, subnormals
        }
        return v;
    }

    private static DataInputStream roundTrip(IOWriter writer) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writer.write(out);
        }
        return new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
    }

    private interface IOWriter {
        void write(DataOutputStream out) throws IOException;
    }

    @Test
    void stateKeepsEveryBitAcrossChunks() throws IOException {
        Random random = new Random(7);
        // More than one 16 Ki-float chunk, and not a multiple of it.
        TrainingState state = new TrainingState(values(random, 40_000), values(random, 3), 17, 2);
        TrainingState read = TrainingState.readFrom(roundTrip(state::writeTo));
        assertEquals(17, read.iteration());
        assertEquals(2, read.epoch());
        assertArrayEquals(bits(state.copyParameters()), bits(read.copyParameters()));
        assertArrayEquals(bits(state.copyOptimizerState()), bits(read.copyOptimizerState()));
    }

    @Test
    void encodeWritesWhatWriteToWrites() throws IOException {
        Random random = new Random(9);
        TrainingState state = new TrainingState(values(random, 20_000), values(random, 20_001), 5, 1);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            state.writeTo(out);
        }
        assertArrayEquals(bytes.toByteArray(), state.encode());
    }

    @Test
    void resultKeepsItsStatsPartitionAndRejection() throws IOException {
        Random random = new Random(8);
        ReplicaStats stats = new ReplicaStats(128, 3, 3, 41.5, 77, 1.5, 2.25, 0.25, 0.25);
        ReplicaResult accepted = new ReplicaResult(new TrainingState(values(random, 10), new float[0], 3, 0), stats)
                .forPartition(4);
        ReplicaResult read = ReplicaResult.readFrom(roundTrip(accepted::writeTo));
        assertEquals(4, read.partition());
        assertEquals(stats, read.stats());
        assertNull(read.rejection());
        assertArrayEquals(bits(accepted.state().copyParameters()), bits(read.state().copyParameters()));

        ReplicaResult rejected = ReplicaResult.rejected("the loss is NaN at step 2 of the round", stats).forPartition(1);
        ReplicaResult readRejected = ReplicaResult.readFrom(roundTrip(rejected::writeTo));
        assertEquals("the loss is NaN at step 2 of the round", readRejected.rejection());
        assertNull(readRejected.state());
        assertEquals(1, readRejected.partition());
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }
}
