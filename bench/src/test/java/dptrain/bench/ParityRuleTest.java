package dptrain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dptrain.driver.pipeline.BatchScope;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** PARITY.md's rule (session 8), as {@link Parity#choose} applies it. */
class ParityRuleTest {
    private static final Parity.Candidate SHIPPED = Parity.Candidate.parse("16:0.4");
    private static final Parity.Candidate GLOBAL = Parity.Candidate.parse("16:0.4:global");
    private static final Parity.Candidate GLOBAL_PLAIN = Parity.Candidate.parse("16:0:global");
    private static final Parity.Run ONE = run(1, null, 0.8700, 3.0);

    private static Parity.Run run(int workers, Parity.Candidate c, double accuracy, double secondsPerEpoch) {
        return new Parity.Run("selection", "fashion-mnist", workers, c == null ? "one worker" : c.label(), accuracy,
                List.of(accuracy), 5 * secondsPerEpoch, List.of(secondsPerEpoch + 1, secondsPerEpoch, secondsPerEpoch,
                        secondsPerEpoch, secondsPerEpoch - 0.1));
    }

    /** Runs at 2-16 workers with the given validation accuracies; 2 workers' epochs take {@code seconds}. */
    private static List<Parity.Run> runs(Parity.Candidate c, double seconds, double... accuracies) {
        List<Parity.Run> runs = new ArrayList<>();
        int[] workers = {2, 4, 8, 16};
        for (int i = 0; i < workers.length; i++) {
            runs.add(run(workers[i], c, accuracies[i], seconds));
        }
        return runs;
    }

    @Test
    void candidatesCarryTheirBatchScope() {
        assertEquals(BatchScope.WORKER, SHIPPED.scope());
        assertEquals(BatchScope.GLOBAL, GLOBAL.scope());
        assertEquals("every 16, block momentum 0.40 (Nesterov), batch scope global", GLOBAL.label());
        assertEquals("every 16, plain, batch scope auto", Parity.Candidate.parse("16:0:auto").label());
    }

    @Test
    void amongTheEligibleTheFastestAtTwoWorkersWins() {
        List<Parity.Run> all = new ArrayList<>(List.of(ONE));
        all.addAll(runs(SHIPPED, 2.0, 0.88, 0.88, 0.87, 0.85));       // fastest, but 2 points short at 16 workers
        all.addAll(runs(GLOBAL, 3.0, 0.87, 0.869, 0.867, 0.866));     // eligible: worst gap 0.4 points
        all.addAll(runs(GLOBAL_PLAIN, 2.5, 0.871, 0.868, 0.866, 0.8655)); // eligible, worst gap 0.45, faster
        assertEquals(GLOBAL_PLAIN, Parity.choose(all, ONE, List.of(SHIPPED, GLOBAL, GLOBAL_PLAIN)));
    }

    @Test
    void aTimeWithinFivePercentGoesToFewerKnobs() {
        List<Parity.Run> all = new ArrayList<>(List.of(ONE));
        all.addAll(runs(GLOBAL, 2.45, 0.87, 0.87, 0.87, 0.87));
        all.addAll(runs(GLOBAL_PLAIN, 2.5, 0.87, 0.87, 0.87, 0.868));
        assertEquals(GLOBAL_PLAIN, Parity.choose(all, ONE, List.of(GLOBAL, GLOBAL_PLAIN)),
                "2% slower, one knob fewer (no block momentum)");
    }

    @Test
    void withNoneEligibleTheSmallestWorstGapWinsWhateverItsTime() {
        List<Parity.Run> all = new ArrayList<>(List.of(ONE));
        all.addAll(runs(SHIPPED, 2.0, 0.88, 0.88, 0.87, 0.85));
        all.addAll(runs(GLOBAL, 9.0, 0.86, 0.86, 0.86, 0.86));
        assertEquals(GLOBAL, Parity.choose(all, ONE, List.of(SHIPPED, GLOBAL)));
        assertEquals(2.0, Parity.epochSecondsAtTwo(all, SHIPPED), 1e-9, "the median of the epochs, not the first");
    }

    @Test
    void aDivergedRunIsNeverEligible() {
        List<Parity.Run> all = new ArrayList<>(List.of(ONE));
        all.addAll(runs(GLOBAL, 1.0, 0.88, 0.88, 0.88, Double.NaN));
        all.addAll(runs(GLOBAL_PLAIN, 5.0, 0.866, 0.866, 0.866, 0.866));
        assertEquals(GLOBAL_PLAIN, Parity.choose(all, ONE, List.of(GLOBAL, GLOBAL_PLAIN)));
    }
}
