package dptrain.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelLoopsTest {

    @Test
    void visitsEveryIndexOnceWhateverTheLength() {
        for (int length : new int[] {0, 1, ParallelLoops.CHUNK - 1, ParallelLoops.CHUNK, 2 * ParallelLoops.CHUNK,
                3 * ParallelLoops.CHUNK + 17}) {
            AtomicIntegerArray visits = new AtomicIntegerArray(length);
            ParallelLoops.forRange(length, (from, to) -> {
                for (int i = from; i < to; i++) {
                    visits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < length; i++) {
                assertEquals(1, visits.get(i), "length " + length + ", index " + i);
            }
        }
    }

    @Test
    void aStateWithOneNonFiniteValueInAnyChunkIsNotFinite() {
        int length = 3 * ParallelLoops.CHUNK + 5;
        assertTrue(TrainingState.restore(new float[length], new float[length], 0, 0).isFinite());
        for (int at : new int[] {0, ParallelLoops.CHUNK - 1, ParallelLoops.CHUNK, length - 1}) {
            float[] values = new float[length];
            values[at] = Float.NaN;
            assertFalse(TrainingState.restore(values, new float[3], 0, 0).isFinite(), "NaN at " + at);
            values[at] = Float.NEGATIVE_INFINITY;
            assertFalse(TrainingState.restore(new float[3], values, 0, 0).isFinite(), "-inf at " + at);
        }
    }
}
