package dptrain.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ParameterAverageTest {

    /** Results of {@code n} replicas whose values make float sums order-dependent. */
    private static List<ReplicaResult> results(int n, long seed) {
        return results(n, seed, 257);
    }

    private static List<ReplicaResult> results(int n, long seed, int size) {
        Random random = new Random(seed);
        List<ReplicaResult> out = new ArrayList<>();
        for (int p = 0; p < n; p++) {
            float[] params = new float[size];
            float[] optimizer = new float[size];
            for (int i = 0; i < params.length; i++) {
                params[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(9) - 4));
                optimizer[i] = (float) (random.nextDouble() * 1e-3);
            }
            // Cancelling magnitudes: (big - big) + small differs from (big + small) - big even in doubles.
            params[0] = p == 0 ? 3e30f : p == 1 ? -3e30f : 1f;
            long examples = p < 2 ? 128 : 100 + random.nextInt(29); // equal weights: the big values cancel exactly
            ReplicaStats stats = ReplicaStats.ofReplica(examples, 3, random.nextDouble() * examples,
                    new OutputTally(examples / 2, 0.0, 0.0),
                    random.nextDouble());
            out.add(new ReplicaResult(new TrainingState(params, optimizer, 3, 0), stats).forPartition(p));
        }
        return out;
    }

    /** Each result added to its own zero value (as a Spark task does), then merged in the given order. */
    private static ParameterAverage mergeInOrder(List<ReplicaResult> results, List<Integer> order) {
        ParameterAverage total = ParameterAverage.empty();
        for (int p : order) {
            total = total.merge(ParameterAverage.empty().add(results.get(p)));
        }
        return total;
    }

    @Test
    void theAverageIsTheSameBitsWhateverOrderResultsArriveIn() {
        List<ReplicaResult> results = results(8, 42);
        List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 6, 7));
        ParameterAverage inOrder = mergeInOrder(results, order);
        TrainingState expected = inOrder.toState(3, 0);
        Random shuffler = new Random(7);
        boolean someOrderDiffersUnordered = false;
        for (int trial = 0; trial < 20; trial++) {
            Collections.shuffle(order, shuffler);
            ParameterAverage shuffled = mergeInOrder(results, order);
            assertEquals(8, shuffled.contributions());
            assertEquals(0, shuffled.waiting());
            assertArrayEquals(expected.copyParameters(), shuffled.toState(3, 0).copyParameters());
            assertArrayEquals(expected.copyOptimizerState(), shuffled.toState(3, 0).copyOptimizerState());
            assertEquals(inOrder.stats(), shuffled.stats());
            // The same results without partition marks sum in arrival order: the bits may differ.
            ParameterAverage unordered = ParameterAverage.empty();
            for (int p : order) {
                unordered = unordered.merge(ParameterAverage.empty().add(unmarked(results.get(p))));
            }
            someOrderDiffersUnordered |= !java.util.Arrays.equals(expected.copyParameters(),
                    unordered.toState(3, 0).copyParameters());
        }
        assertTrue(someOrderDiffersUnordered, "the test data must make float sums order-dependent");
    }

    @Test
    void theAverageIsTheExampleWeightedMeanSummedInDoublesInPartitionOrder() {
        for (int n : new int[] {2, 3, 5}) {
            // Two replicas: arrays of several parallel chunks, the last one partial.
            int size = n == 2 ? 3 * ParallelLoops.CHUNK + 1 : 257;
            List<ReplicaResult> results = results(n, 11 + n, size);
            double[] sums = new double[size];
            double[] optimizerSums = new double[size];
            double weight = 0;
            for (ReplicaResult r : results) {
                double w = r.stats().examples();
                for (int i = 0; i < sums.length; i++) {
                    sums[i] += w * r.state().parameter(i);
                    optimizerSums[i] += w * r.state().optimizerValue(i);
                }
                weight += w;
            }
            List<Integer> lastFirst = new ArrayList<>();
            for (int p = n - 1; p >= 0; p--) {
                lastFirst.add(p);
            }
            TrainingState average = mergeInOrder(results, lastFirst).toState(3, 0);
            float[] parameters = average.copyParameters();
            float[] optimizer = average.copyOptimizerState();
            for (int i = 0; i < sums.length; i++) {
                assertEquals(Float.floatToRawIntBits((float) (sums[i] / weight)), Float.floatToRawIntBits(parameters[i]),
                        n + " replicas, parameter " + i);
                assertEquals(Float.floatToRawIntBits((float) (optimizerSums[i] / weight)),
                        Float.floatToRawIntBits(optimizer[i]), n + " replicas, optimizer value " + i);
            }
        }
    }

    @Test
    void partialAveragesMergedInATreeGiveTheSameBits() {
        List<ReplicaResult> results = results(6, 3);
        TrainingState expected = mergeInOrder(results, List.of(0, 1, 2, 3, 4, 5)).toState(1, 0);
        ParameterAverage left = ParameterAverage.empty().add(results.get(5)).merge(ParameterAverage.empty().add(results.get(1)));
        ParameterAverage right = ParameterAverage.empty().add(results.get(3)).merge(ParameterAverage.empty().add(results.get(0)));
        ParameterAverage rest = ParameterAverage.empty().add(results.get(4)).merge(ParameterAverage.empty().add(results.get(2)));
        ParameterAverage all = left.merge(rest).merge(right);
        assertArrayEquals(expected.copyParameters(), all.toState(1, 0).copyParameters());
    }

    @Test
    void anIncompleteRoundCannotBecomeAState() {
        List<ReplicaResult> results = results(3, 5);
        ParameterAverage missingFirst = mergeInOrder(results, List.of(2, 1));
        assertEquals(0, missingFirst.contributions());
        assertEquals(2, missingFirst.waiting());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> missingFirst.toState(1, 0));
        assertTrue(e.getMessage().contains("partition 0 did not"), e.getMessage());
    }

    @Test
    void aPartitionCountsOnce() {
        List<ReplicaResult> results = results(2, 5);
        ParameterAverage average = mergeInOrder(results, List.of(0, 1));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> average.add(results.get(1)));
        assertTrue(e.getMessage().contains("partition 1 contributed twice"), e.getMessage());
    }

    @Test
    void aRejectedReplicaIsReportedAndLeftOutOfTheAverageAndTheLoss() {
        List<ReplicaResult> results = results(3, 9);
        ReplicaResult diverged = ReplicaResult.rejected("the loss is NaN at step 2 of the round",
                ReplicaStats.ofReplica(256, 2, Double.NaN, new OutputTally(3, 0.0, 0.0), 0.1)).forPartition(1);
        ParameterAverage average = mergeInOrder(List.of(results.get(0), diverged, results.get(2)), List.of(2, 1, 0));
        assertEquals(3, average.contributions());
        assertEquals(List.of("partition 1: the loss is NaN at step 2 of the round"), average.rejections());
        ParameterAverage withoutIt = ParameterAverage.empty().add(unmarked(results.get(0))).add(unmarked(results.get(2)));
        assertArrayEquals(withoutIt.toState(3, 0).copyParameters(), average.toState(3, 0).copyParameters());
        assertTrue(Double.isFinite(average.stats().lossSum()));
        assertEquals(results.get(0).stats().examples() + results.get(2).stats().examples(), average.stats().examples());
    }

    @Test
    void everyReplicaRejectedLeavesNoState() {
        ReplicaResult diverged = ReplicaResult.rejected("the loss is Infinity at step 1 of the round",
                ReplicaStats.ofReplica(10, 1, Double.NaN, OutputTally.NONE, 0.1)).forPartition(0);
        ParameterAverage average = ParameterAverage.empty().add(diverged);
        assertFalse(average.hasContributions());
        assertEquals(1, average.contributions());
    }

    private static ReplicaResult unmarked(ReplicaResult marked) {
        return new ReplicaResult(marked.state(), marked.stats());
    }
}
