package dptrain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The throughput pairs' arithmetic; the timings themselves are not tested. */
class ThroughputPairsTest {

    @Test
    void eachDptrainRowIsSetAgainstThePairDoingTheSameWorkAndTheMedianIsPerMinibatchSize() {
        List<ThroughputPairs.Pair> pairs = List.of(
                new ThroughputPairs.Pair(64, 20_000, 19_000, 3.0),
                new ThroughputPairs.Pair(128, 40_000, 44_000, 3.5),
                new ThroughputPairs.Pair(64, 10_000, 12_000, 6.0),
                new ThroughputPairs.Pair(128, 40_000, 40_000, 6.5),
                new ThroughputPairs.Pair(64, 30_000, 30_000, 2.0),
                new ThroughputPairs.Pair(128, 50_000, 60_000, 2.5));
        String table = ThroughputPairs.table(pairs);
        assertTrue(table.contains("| 1 | 64 | 20,000 | 19,000 | 0.950 | 3.0 |"), table);
        assertTrue(table.contains("| 3 | 128 | 50,000 | 60,000 | 1.200 | 2.5 |"), table);
        // 64: ratios 0.95, 1.2 and 1.0, median 1.0; 128: 1.1, 1.0 and 1.2, median 1.1.
        assertTrue(table.contains("Minibatches of 64 per replica (dptrain's default: the batch of 128 counted for both "
                + "workers): median ratio 1.000 (from 0.950 to 1.200 over 3 repeats)."), table);
        assertTrue(table.contains("Minibatches of 128 per replica: median ratio 1.100 (from 1.000 to 1.200 over 3 "
                + "repeats)."), table);
        assertEquals(64, ThroughputPairs.MINIBATCHES[0]);
    }
}
