package dptrain.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dptrain.data.Example;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.spec.TargetEncoding;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What outputs score against regression targets, as Keras's mae, mse and rmse compute them. */
class OutputTallyTest {

    @Test
    void regressionErrorsAverageOverOutputsThenRows() {
        Minibatch batch = new MinibatchBuilder(2, 1, 2, TargetEncoding.REAL, 1f).batches(List.of(
                Example.regression(new float[] {0}, new float[] {1, 2}),
                Example.regression(new float[] {0}, new float[] {3, -1})).iterator()).next();
        // Errors: row 0: 0.5, -1; row 1: 2, 0.
        OutputTally tally = OutputTally.of(new float[] {1.5f, 1f, 5f, -1f}, 2, batch, TargetEncoding.REAL);
        assertEquals((0.5 + 1) / 2 + (2 + 0) / 2.0, tally.absoluteErrors(), 1e-12);
        assertEquals((0.25 + 1) / 2 + (4 + 0) / 2.0, tally.squaredErrors(), 1e-12);
        ReplicaStats stats = ReplicaStats.ofReplica(2, 1, 0.0, tally, 0.0);
        assertEquals(Map.of("mae", 1.75 / 2, "mse", 2.625 / 2, "rmse", Math.sqrt(2.625 / 2)),
                stats.metrics(List.of("mae", "mse", "rmse")));
        assertEquals(0, tally.correct());
    }
}
