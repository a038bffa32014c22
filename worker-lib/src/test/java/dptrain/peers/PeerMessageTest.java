package dptrain.peers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dptrain.replica.ReplicaStats;
import dptrain.replica.RoundCombine;
import dptrain.replica.TrainingState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every message reads back as it was written; cut or lying bytes are refused before anything large is allocated. */
class PeerMessageTest {
    private static final PeerMessage.Envelope E = new PeerMessage.Envelope(-7L, 2, 31, 3);
    private static final TrainingState STATE = TrainingState.restore(new float[] {1.5f, -0.0f, Float.NaN, 3e-38f},
            new float[] {0.25f, 7f}, 12, 3);

    private static <T extends PeerMessage> T roundTrip(T message) throws IOException {
        @SuppressWarnings("unchecked")
        T back = (T) PeerMessage.decode(PeerMessage.encode(message));
        assertEquals(message.envelope(), back.envelope());
        return back;
    }

    private static void assertSameState(TrainingState expected, TrainingState actual) {
        assertArrayEquals(expected.copyParameters(), actual.copyParameters());
        assertArrayEquals(expected.copyOptimizerState(), actual.copyOptimizerState());
        assertEquals(expected.iteration(), actual.iteration());
        assertEquals(expected.epoch(), actual.epoch());
    }

    @Test
    void everyKindReadsBackAsWritten() throws IOException {
        assertEquals(new PeerMessage.Hello(E, "10.0.0.7", 4242), roundTrip(new PeerMessage.Hello(E, "10.0.0.7", 4242)));
        assertEquals(new PeerMessage.Assign(E, 2, 5, 64, 16, 99L),
                roundTrip(new PeerMessage.Assign(E, 2, 5, 64, 16, 99L)));
        assertEquals(true, roundTrip(new PeerMessage.Assign(E, 2, 5, 64, 16, 99L, true)).exact());
        PeerMessage.Chunk coded = roundTrip(new PeerMessage.Chunk(E, STATE, new short[] {-1, 0x3c00, 7}));
        assertArrayEquals(new short[] {-1, 0x3c00, 7}, coded.codes());
        assertSameState(STATE, coded.values());
        assertArrayEquals(new short[] {5}, roundTrip(new PeerMessage.Reduced(E, true, STATE, new short[] {5})).codes());
        assertNull(roundTrip(new PeerMessage.Reduced(E, true, STATE)).codes());
        assertSameState(STATE, roundTrip(new PeerMessage.Chunk(E, STATE)).values());
        PeerMessage.Reduced reduced = roundTrip(new PeerMessage.Reduced(E, false, STATE));
        assertEquals(false, reduced.finite());
        assertSameState(STATE, reduced.values());
        PeerMessage.Start start = roundTrip(new PeerMessage.Start(E, List.of("10.0.0.7:4242", "exécuteur:1"), STATE,
                new float[] {1, 2}, new float[] {3, 4}));
        assertEquals(List.of("10.0.0.7:4242", "exécuteur:1"), start.addresses());
        assertSameState(STATE, start.chunk());
        assertArrayEquals(new float[] {1, 2}, start.global());
        assertArrayEquals(new float[] {3, 4}, start.delta());
        PeerMessage.State plain = roundTrip(new PeerMessage.State(E, STATE, null, null));
        assertNull(plain.global());
        ReplicaStats stats = new ReplicaStats(10, 2, 2, 4.5, 7, 0, 0, 0.1, 0.1);
        PeerMessage.Header header = roundTrip(new PeerMessage.Header(E, true,
                RoundCombine.chunkResult(3, stats, "the loss is NaN at step 2", null)));
        assertEquals(stats, header.statsOrRejection().stats());
        assertEquals("the loss is NaN at step 2", header.statsOrRejection().rejection());
        PeerMessage.Report report = roundTrip(new PeerMessage.Report(E, stats, List.of("partition 1: x"), 4, true,
                false, 0.25, 100, 200));
        assertEquals(new PeerMessage.Report(E, stats, List.of("partition 1: x"), 4, true, false, 0.25, 100, 200),
                report);
        roundTrip(new PeerMessage.Fetch(E));
        roundTrip(new PeerMessage.Done(E));
    }

    @Test
    void cutOrLyingBytesAreRefused() {
        ByteBuffer whole = PeerMessage.encode(new PeerMessage.Chunk(E, STATE));
        ByteBuffer cut = ByteBuffer.wrap(whole.array(), 0, whole.remaining() - 3);
        assertThrows(IOException.class, () -> PeerMessage.decode(cut));
        // The parameter count claims 2^31 - 1 floats: refused without allocating them.
        ByteBuffer lying = PeerMessage.encode(new PeerMessage.Chunk(E, STATE));
        lying.putInt(21 + 8, Integer.MAX_VALUE);
        IOException e = assertThrows(IOException.class, () -> PeerMessage.decode(lying));
        assertEquals("corrupt state: an array of 2147483647 floats in 32 remaining bytes", e.getMessage());
        // A chunk's 16-bit deltas claiming more codes than the bytes left.
        ByteBuffer codes = PeerMessage.encode(new PeerMessage.Chunk(E, STATE, new short[] {1, 2}));
        codes.putInt(codes.limit() - 8, 5);
        IOException c = assertThrows(IOException.class, () -> PeerMessage.decode(codes));
        assertEquals("corrupt message: 5 16-bit deltas in 4 remaining bytes", c.getMessage());
        assertThrows(IOException.class, () -> PeerMessage.decode(ByteBuffer.wrap(new byte[] {42, 0, 0})));
    }
}
