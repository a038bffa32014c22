package dptrain.driver.rounds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.data.Minibatch;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.OptimizerStateScope;
import java.time.Duration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An epoch of one barrier job needs a task slot per worker. When an epoch starts short of them (on
 * a cluster: an executor lost, its replacement not registered yet), it waits for them for a bounded
 * time, then in auto mode runs its rounds as a job each and says why. Here local[2] stands in for a
 * cluster that has 2 slots for 3 workers.
 */
class EpochSlotWaitTest {
    static JavaSparkContext jsc;

    @BeforeAll
    static void start() {
        jsc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("EpochSlotWaitTest")
                .set("spark.ui.enabled", "false"));
    }

    @AfterAll
    static void stop() {
        jsc.stop();
    }

    private static RoundTransport rounds(int workers, SlotWait wait) throws Exception {
        JavaRDD<Minibatch> batches = jsc.emptyRDD();
        return new SlotWaitingRounds(new EpochJobRounds(jsc, batches, null, "EpochSlotWaitTest", new RoundExchange(
                workers, "127.0.0.1", "127.0.0.1", 0, false), 3, BlockMomentum.NONE, DeltaPrecision.FLOAT32),
                new JobPerRound(jsc, batches, null, "EpochSlotWaitTest", BlockMomentum.NONE, DeltaPrecision.FLOAT32,
                OptimizerStateScope.AVERAGED), wait, jsc, workers);
    }

    @Test
    void anEpochShortOfTaskSlotsWaitsThenRunsAJobPerRoundAndSaysWhy() throws Exception {
        try (RoundTransport rounds = rounds(3, new SlotWait(Duration.ofMillis(300), true))) {
            long began = System.nanoTime();
            String how = rounds.beginEpoch(2);
            assertTrue(System.nanoTime() - began >= Duration.ofMillis(300).toNanos(), "did not wait for slots");
            assertEquals("one Spark job per round: the cluster has 2 task slots for 3 workers (an executor was lost "
                    + "and no replacement registered within 300 ms, spark.dptrain.roundExchange.slotWait)", how);
        }
    }

    @Test
    void anEpochWithASlotPerWorkerRunsInOneJobAtOnce() throws Exception {
        try (RoundTransport rounds = rounds(2, new SlotWait(Duration.ofMinutes(5), true))) {
            String how = rounds.beginEpoch(2);
            assertEquals(rounds.describe(), how);
            assertTrue(how.startsWith("one Spark job per epoch, states via the driver's round exchange at "), how);
        }
    }

    @Test
    void inSocketModeAnEpochShortOfSlotsKeepsItsOneJob() throws Exception {
        try (RoundTransport rounds = rounds(3, new SlotWait(Duration.ofMillis(100), false))) {
            assertEquals(rounds.describe(), rounds.beginEpoch(1));
        }
    }
}
