package dptrain.driver.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingResult;
import dptrain.driver.input.ValidationReport;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.driver.rounds.RoundTraffic;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.spark.SparkConf;
import org.apache.spark.metrics.MetricsSystem;
import org.junit.jupiter.api.Test;

/** The metrics a run publishes, fed through the listener the training loop calls; no Spark job runs. */
class TrainingMetricsTest {
    private static final RoundRecord ROUND_1 = new RoundRecord(1, 2, 1, 4, 64, 1.5, 0.01, 0.2, 0.03, 0.25, 0.02,
            0.3, 0);
    private static final RoundRecord ROUND_2 = new RoundRecord(1, 2, 2, 4, 64, 1.25, 0.02, 0.4, 0.05, 0.5, 0.03,
            0.5, 1);

    private static MetricsSystem system() {
        return MetricsSystem.createMetricsSystem("driver", new SparkConf(false));
    }

    /** A started metrics system whose one sink is Spark's JMX sink. */
    private static MetricsSystem jmxSystem() {
        SparkConf conf = new SparkConf(false).set("spark.metrics.conf.*.sink.jmx.class",
                "org.apache.spark.metrics.sink.JmxSink");
        MetricsSystem system = MetricsSystem.createMetricsSystem("driver", conf);
        system.start(false);
        return system;
    }

    private static Object value(TrainingMetrics metrics, String name) {
        var gauge = metrics.metricRegistry().getGauges().get(name);
        if (gauge != null) {
            return gauge.getValue();
        }
        var counter = metrics.metricRegistry().getCounters().get(name);
        if (counter == null) {
            fail("no metric '" + name + "'; the source has " + metrics.metricRegistry().getNames());
        }
        return counter.getCount();
    }

    @Test
    void gaugesHoldTheLastRoundsFiguresAndCountersCountFromTheRunsStart() {
        try (TrainingMetrics metrics = new TrainingMetrics(system())) {
            DistributedTrainer.FoldProgress progress = metrics.recordingThen(new DistributedTrainer.FoldProgress() { });
            assertEquals(0, value(metrics, "epoch"), "before the first round");
            progress.roundEnded(ROUND_1);
            progress.replicasRejected(1, 2, List.of("partition 1: the loss is NaN at step 3 of the round"));
            progress.roundEnded(ROUND_2);
            progress.checkpointWritten("checkpoints/1.json", 0, 2);
            assertEquals(1, value(metrics, "epoch"));
            assertEquals(2, value(metrics, "round"));
            assertEquals(1.25, value(metrics, "loss"));
            assertEquals(128.0, value(metrics, "examplesPerSecond"));
            assertEquals(0.02, value(metrics, "roundSeconds.broadcast"));
            assertEquals(0.4, value(metrics, "roundSeconds.compute"));
            assertEquals(0.05, value(metrics, "roundSeconds.combine"));
            assertEquals(0.5, value(metrics, "roundSeconds.job"));
            assertEquals(0.03, value(metrics, "roundSeconds.update"));
            assertEquals(0.5, value(metrics, "roundSeconds.total"));
            assertEquals(2L, value(metrics, "roundsCompleted"));
            assertEquals(1L, value(metrics, "rejectedReplicas"));
            assertEquals(1L, value(metrics, "checkpoints"));
            assertEquals(0L, value(metrics, "epochsCompleted"));
        }
    }

    @Test
    void roundBytesAreTheLastRoundsAndZeroForARoundWhoseTransportDidNotCountThem() {
        try (TrainingMetrics metrics = new TrainingMetrics(system())) {
            DistributedTrainer.FoldProgress progress = metrics.recordingThen(new DistributedTrainer.FoldProgress() { });
            progress.roundTraffic(1, 1, new RoundTraffic(40, 150, 3_000_000, 2_900_000));
            progress.roundEnded(ROUND_1);
            assertEquals(40L, value(metrics, "roundBytes.driverSent"));
            assertEquals(150L, value(metrics, "roundBytes.driverReceived"));
            assertEquals(3_000_000L, value(metrics, "roundBytes.replicaSent"));
            assertEquals(2_900_000L, value(metrics, "roundBytes.replicaReceived"));
            progress.roundEnded(ROUND_2);
            assertEquals(0L, value(metrics, "roundBytes.driverSent"), "round 2's transport counted nothing");
            assertEquals(0L, value(metrics, "roundBytes.replicaReceived"), "round 2's transport counted nothing");
        }
    }

    @Test
    void theSourceIsInTheMetricsSystemUntilTheRunEndsAndAnotherRunsEndDoesNotTakeItOut() throws Exception {
        MetricsSystem system = jmxSystem();
        // Spark removes a source's metrics by name, so what shows is what the sinks still have.
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName epoch = new ObjectName("metrics:name=dptrain.epoch,type=gauges");
        try {
            TrainingMetrics first = new TrainingMetrics(system);
            assertTrue(first.published());
            assertEquals(1, system.getSourcesByName(TrainingMetrics.SOURCE_NAME).size());
            try (TrainingMetrics second = new TrainingMetrics(system)) {
                assertFalse(second.published(), "one run's metrics at a time");
            }
            assertTrue(server.isRegistered(epoch), "the second run's end left the first's metrics");
            first.close();
            assertFalse(server.isRegistered(epoch), "a finished run publishes nothing");
            assertTrue(system.getSourcesByName(TrainingMetrics.SOURCE_NAME).isEmpty());
            try (TrainingMetrics third = new TrainingMetrics(system)) {
                assertTrue(third.published(), "a run after the first ended publishes");
                first.close();
                assertTrue(server.isRegistered(epoch), "closing the first run again left the third's metrics");
            }
        } finally {
            system.stop();
        }
    }

    @Test
    void sparksJmxSinkShowsTheMetricsAsMBeans() throws Exception {
        MetricsSystem system = jmxSystem();
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        // Without an application id (no SparkContext here) Spark names the metrics after the source alone.
        ObjectName loss = new ObjectName("metrics:name=dptrain.loss,type=gauges");
        ObjectName rounds = new ObjectName("metrics:name=dptrain.roundsCompleted,type=counters");
        try {
            try (TrainingMetrics metrics = new TrainingMetrics(system)) {
                metrics.recordingThen(new DistributedTrainer.FoldProgress() { }).roundEnded(ROUND_2);
                assertEquals(1.25, server.getAttribute(loss, "Value"), "MBeans: " + server.queryNames(
                        new ObjectName("metrics:*"), null));
                assertEquals(1L, server.getAttribute(rounds, "Count"));
            }
            assertFalse(server.isRegistered(loss), "the source's MBeans go when the run ends");
        } finally {
            system.stop();
        }
    }

    /** A new listener method that the recording listener did not pass on would silence the console. */
    @Test
    void everyListenerCallReachesTheRunsOwnListener() throws Exception {
        List<String> heard = new ArrayList<>();
        DistributedTrainer.FoldProgress next = (DistributedTrainer.FoldProgress) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {DistributedTrainer.FoldProgress.class},
                (proxy, method, args) -> {
                    heard.add(method.getName());
                    return null;
                });
        TreeSet<String> expected = new TreeSet<>();
        try (TrainingMetrics metrics = new TrainingMetrics(system())) {
            DistributedTrainer.FoldProgress recording = metrics.recordingThen(next);
            for (Method method : DistributedTrainer.FoldProgress.class.getMethods()) {
                if (Modifier.isStatic(method.getModifiers())) {
                    continue;
                }
                expected.add(method.getName());
                method.invoke(recording, Arrays.stream(method.getParameterTypes()).map(t -> sample(t, method))
                        .toArray());
            }
        }
        assertEquals(expected, new TreeSet<>(heard));
        assertEquals(expected.size(), heard.size(), "each call passed on once: " + heard);
    }

    private static Object sample(Class<?> type, Method method) {
        Map<Class<?>, Object> samples = Map.of(int.class, 1, long.class, 1L, double.class, 0.5, boolean.class, true,
                String.class, "x", List.class, List.of("partition 1: the loss is NaN at step 3 of the round"),
                RoundRecord.class, ROUND_1, RoundTraffic.class, new RoundTraffic(1, 2, 3, 4),
                EpochRecord.class, new EpochRecord(1, 0.5, Map.of(), Double.NaN, Map.of(), 1, 64, 1, 1, 2, 0.1));
        if (type == ValidationReport.class || type == TrainingResult.class) {
            return null;
        }
        if (!samples.containsKey(type)) {
            fail("no sample argument of type " + type.getName() + " for " + method + "; add one");
        }
        return samples.get(type);
    }
}
