package dptrain.driver.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.files.ParameterException;
import org.junit.jupiter.api.Test;

class BatchScopeTest {
    private static final long FASHION_SELECTION_ROWS = 54_000;
    private static final long DIGITS_ROWS = 8_004;

    @Test
    void aBatchPerWorkerIsEveryWorkersMinibatchWhateverTheWorkers() {
        for (int workers : new int[] {1, 2, 16}) {
            assertEquals(128, BatchScope.WORKER.workerBatch(128, workers, DIGITS_ROWS));
        }
    }

    @Test
    void aGlobalBatchIsSplitBetweenTheWorkersRoundingUp() {
        assertEquals(128, BatchScope.GLOBAL.workerBatch(128, 1, DIGITS_ROWS));
        assertEquals(64, BatchScope.GLOBAL.workerBatch(128, 2, DIGITS_ROWS));
        assertEquals(8, BatchScope.GLOBAL.workerBatch(128, 16, DIGITS_ROWS));
        assertEquals(43, BatchScope.GLOBAL.workerBatch(128, 3, DIGITS_ROWS), "ceil(128 / 3)");
        assertEquals(1, BatchScope.GLOBAL.workerBatch(10, 16, DIGITS_ROWS), "never below one example");
    }

    @Test
    void autoKeepsTheWholeBatchWhileEveryReplicaHasFiftyMinibatchesPerEpoch() {
        // 54,000 rows over 2, 4 and 8 workers: 27,000, 13,500 and 6,750 rows each, at least 50 minibatches of 128.
        for (int workers : new int[] {1, 2, 4, 8}) {
            assertEquals(128, BatchScope.AUTO.workerBatch(128, workers, FASHION_SELECTION_ROWS), workers + " workers");
        }
    }

    @Test
    void autoSplitsTheBatchSoEveryReplicaKeepsFiftyMinibatchesPerEpoch() {
        // 3,375 rows per replica / 50 = 67 examples per minibatch: 50 minibatches per epoch.
        int batch = BatchScope.AUTO.workerBatch(128, 16, FASHION_SELECTION_ROWS);
        assertEquals(67, batch);
        assertTrue(FASHION_SELECTION_ROWS / 16 / batch >= BatchScope.AUTO_MIN_MINIBATCHES_PER_EPOCH);
        // 8,004 rows over 4 workers: 2,001 each, 40 examples per minibatch.
        assertEquals(40, BatchScope.AUTO.workerBatch(128, 4, DIGITS_ROWS));
    }

    @Test
    void autoNeverSplitsFurtherThanAGlobalBatch() {
        // 8,004 rows over 16 workers: 500 each would need minibatches of 10 for 50 per epoch; the global split is 8.
        assertEquals(10, BatchScope.AUTO.workerBatch(128, 16, DIGITS_ROWS));
        assertEquals(8, BatchScope.AUTO.workerBatch(128, 16, 1_000), "as far as the global split, no further");
    }

    @Test
    void scopesParseFromWhatTheyPrintAndAnythingElseIsRefusedByName() {
        for (BatchScope scope : BatchScope.values()) {
            assertEquals(scope, BatchScope.parse(" " + scope.toString().toUpperCase() + " "));
        }
        ParameterException e = assertThrows(ParameterException.class, () -> BatchScope.parse("replica"));
        String message = e.message(ParameterException::flag);
        assertTrue(message.contains("--batch-scope") && message.contains("'replica'")
                && message.contains("worker, global or auto"), message);
    }
}
