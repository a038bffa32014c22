package dptrain.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class SeededPermutationTest {

    @Test
    void isABijectionForSizesAroundPowersOfTwo() {
        for (long size : new long[] {1, 2, 3, 4, 5, 7, 8, 9, 1000, 1023, 1024, 1025, 60000}) {
            SeededPermutation p = new SeededPermutation(size, 42);
            BitSet seen = new BitSet();
            for (long i = 0; i < size; i++) {
                long position = p.apply(i);
                assertTrue(position >= 0 && position < size, "position " + position + " of size " + size);
                assertTrue(!seen.get((int) position), "position " + position + " given twice for size " + size);
                seen.set((int) position);
            }
            assertEquals(size, seen.cardinality());
        }
    }

    @Test
    void theSameSeedGivesTheSameOrderAndAnotherSeedAnotherOrder() {
        SeededPermutation a = new SeededPermutation(60000, 1);
        SeededPermutation b = new SeededPermutation(60000, 1);
        SeededPermutation c = new SeededPermutation(60000, 2);
        int differences = 0;
        for (long i = 0; i < 60000; i++) {
            assertEquals(a.apply(i), b.apply(i));
            if (a.apply(i) != c.apply(i)) {
                differences++;
            }
        }
        assertTrue(differences > 59000, "seeds 1 and 2 agree on " + (60000 - differences) + " positions");
    }

    @Test
    void shufflesWellEnoughThatNeighboursLandFarApart() {
        // After a good shuffle, the first half of the examples fills about half of each half of the positions.
        SeededPermutation p = new SeededPermutation(60000, 3);
        int firstHalfInFirstHalf = 0;
        for (long i = 0; i < 30000; i++) {
            if (p.apply(i) < 30000) {
                firstHalfInFirstHalf++;
            }
        }
        assertEquals(15000, firstHalfInFirstHalf, 500);
        assertNotEquals(1, p.apply(1) - p.apply(0));
    }
}
