package dptrain.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.cli.Dptrain;
import dptrain.testing.FashionMnist;
import dptrain.testing.FaultInjection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The result does not depend on what failed or on where the replicas ran: one job on a real
 * standalone cluster (two one-core workers on two loopback addresses), undisturbed, with executors
 * killed, with a straggler and speculation, and with the driver killed and the run resumed, ends
 * with the same parameters, bit for bit, as in local[1] and local[2].
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReliabilityIT {
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(5);

    @RegisterExtension
    static final LocalCluster CLUSTER = new LocalCluster(Path.of("target/reliability-it"), List.of("--distinct-hosts"));

    static Path train;
    /** The undisturbed cluster run's final parameters and optimizer state. */
    static float[] reference;

    @BeforeAll
    static void slice() throws IOException {
        train = FashionMnist.writeSlice(CLUSTER.testFolder("data"), "train", "train", 0, 12_000);
    }

    /** 12,000 images, 2 workers, 4 epochs of 47 minibatches per replica, averaging every 8, a checkpoint every round. */
    static List<String> job(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--model",
                LocalCluster.repo().resolve("src/examples/mnist-mlp.yaml").toString(), "--train", train.toString(),
                "--workers", "2", "--epochs", "4", "--averaging-frequency", "8", "--checkpoint-every", "1",
                "--output", out.toString()));
        args.addAll(List.of(more));
        return args;
    }

    static float[] parameters(Path out) throws IOException {
        var model = ModelSerializer.restoreMultiLayerNetwork(out.resolve("model.zip").toFile(), true);
        float[] params = model.params().dup().data().asFloat();
        float[] state = model.getUpdater().getStateViewArray().dup().data().asFloat();
        float[] both = java.util.Arrays.copyOf(params, params.length + state.length);
        System.arraycopy(state, 0, both, params.length, state.length);
        return both;
    }

    @Test
    @Order(1)
    void theSameJobGivesTheSameBitsOnTheClusterInLocal1AndInLocal2() throws IOException {
        Path folder = CLUSTER.testFolder("undisturbed");
        Scripts.Run run = CLUSTER.submit(folder, true, Map.of(), List.of("--deploy-mode", "client"),
                job(folder.resolve("out")));
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("Epoch 4/4"), run.output());
        reference = parameters(folder.resolve("out"));

        for (String master : List.of("local[1]", "local[2]")) {
            Path local = CLUSTER.testFolder(master.replaceAll("\\W", "")).resolve("out");
            List<String> args = job(local, "--master", master, "--conf", "spark.ui.enabled=false");
            assertEquals(0, Dptrain.run(args.toArray(String[]::new)), master);
            assertArrayEquals(reference, parameters(local), master + " differs from the cluster run");
        }
    }

    @Test
    @Order(2)
    void killingAnExecutorThreeTimesInOneRunChangesNothing() throws Exception {
        assertNotNull(reference, "needs the undisturbed run");
        Path folder = CLUSTER.testFolder("executor-loss");
        Path out = folder.resolve("out");
        Process driver = CLUSTER.start(folder, List.of("--deploy-mode", "client"), job(out));
        List<Long> killed = new ArrayList<>();
        try {
            // In the middle of epochs 1, 2 and 3: once the round ending at minibatch 16 is checkpointed.
            for (int epochsDone = 0; epochsDone < 3; epochsDone++) {
                awaitCheckpoint(out, driver, epochsDone, 16);
                ProcessHandle executor = executors().get(epochsDone % 2 == 0 ? 0 : executors().size() - 1);
                assertTrue(executor.destroyForcibly(), "SIGKILL to executor " + executor.pid());
                executor.onExit().get(30, TimeUnit.SECONDS);
                killed.add(executor.pid());
            }
            assertTrue(driver.waitFor(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS), "the run did not finish");
        } finally {
            driver.descendants().forEach(ProcessHandle::destroyForcibly);
            driver.destroyForcibly();
        }
        String output = Files.readString(folder.resolve("submit.out"));
        assertEquals(0, driver.exitValue(), output);
        assertEquals(3, killed.stream().distinct().count(), "three different executor JVMs were killed: " + killed);
        String log = Files.readString(folder.resolve("driver.log"));
        assertTrue(log.contains("Lost executor") || log.contains("ExecutorLostFailure"), "Spark saw no executor loss");
        assertArrayEquals(reference, parameters(out), "the run with executors killed differs from the undisturbed run");
    }

    @Test
    @Order(3)
    void aStragglerAndItsSpeculativeCopyChangeNothing() throws IOException {
        assertNotNull(reference, "needs the undisturbed run");
        Path folder = CLUSTER.testFolder("speculation");
        Path events = Files.createDirectories(folder.resolve("events"));
        Scripts.Run run = CLUSTER.submit(folder, true, Map.of(), List.of("--deploy-mode", "client",
                "--conf", "spark.speculation=true", "--conf", "spark.speculation.interval=100ms",
                "--conf", "spark.speculation.quantile=0.5", "--conf", "spark.speculation.multiplier=2",
                "--conf", "spark.speculation.minTaskRuntime=500ms",
                // Epoch 2, round 3, partition 0 stalls for 20 s on its first attempt; the hook travels with the
                // application, as user code does.
                "--jars", FaultInjection.jar(folder).toString(), "--conf", FaultInjection.enable(),
                "--conf", "spark.dptrain.test.slowFirstAttempt=2:3:0:20000",
                "--conf", "spark.eventLog.enabled=true", "--conf", "spark.eventLog.dir=" + events.toUri(),
                "--conf", "spark.eventLog.compress=false"), job(folder.resolve("out")));
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(speculativeTasksLaunched(events) >= 1, "Spark launched no speculative copy");
        assertArrayEquals(reference, parameters(folder.resolve("out")), "the run with speculation differs");
    }

    @Test
    @Order(4)
    void killingTheDriverAfterTheSecondEpochAndResumingChangesNothing() throws Exception {
        assertNotNull(reference, "needs the undisturbed run");
        Path folder = CLUSTER.testFolder("driver-loss");
        Path out = folder.resolve("out");
        Process driver = CLUSTER.start(folder, List.of("--deploy-mode", "client"), job(out));
        try {
            awaitCheckpoint(out, driver, 2, 0);
            // The submission's process is the driver's JVM (dptrain-submit execs it): SIGKILL, no shutdown hooks.
            driver.destroyForcibly();
            assertTrue(driver.waitFor(30, TimeUnit.SECONDS));
        } finally {
            driver.descendants().forEach(ProcessHandle::destroyForcibly);
        }
        assertFalse(Files.exists(out.resolve("model.zip")), "the killed run finished before it was killed");
        Path resumedFolder = CLUSTER.testFolder("driver-loss-resumed");
        Scripts.Run resumed = CLUSTER.submit(resumedFolder, true, Map.of(), List.of("--deploy-mode", "client"),
                job(out, "--resume"));
        assertEquals(0, resumed.exitCode(), resumed.output());
        assertTrue(resumed.output().contains("Resuming from checkpoint: epoch "), resumed.output());
        assertFalse(resumed.output().contains("Epoch 1/4"), resumed.output());
        assertArrayEquals(reference, parameters(out), "the resumed run differs from the undisturbed run");
    }

    /** Waits until the run writing to {@code out} has checkpointed (epochsDone, batchesDone). */
    private static void awaitCheckpoint(Path out, Process driver, int epochsDone, int batchesDone)
            throws IOException, InterruptedException {
        Path manifest = out.resolve("checkpoints").resolve(String.format("checkpoint-e%04d-b%06d.json", epochsDone,
                batchesDone));
        Instant deadline = Instant.now().plus(RUN_TIMEOUT);
        while (!Files.exists(manifest)) {
            assertTrue(driver.isAlive(), "the run ended before checkpoint " + manifest.getFileName());
            assertTrue(Instant.now().isBefore(deadline), "no checkpoint " + manifest + " within " + RUN_TIMEOUT);
            Thread.sleep(20);
        }
    }

    /** This cluster's executor JVMs, oldest first. */
    private static List<ProcessHandle> executors() {
        List<ProcessHandle> found = CLUSTER.executors();
        assertFalse(found.isEmpty(), "no executor JVM of the cluster in " + CLUSTER.dir() + " is running");
        return found;
    }

    private static long speculativeTasksLaunched(Path events) throws IOException {
        ObjectMapper json = new ObjectMapper();
        long count = 0;
        try (Stream<Path> logs = Files.walk(events)) {
            for (Path log : logs.filter(p -> p.getFileName().toString().startsWith("events_")).toList()) {
                for (String line : Files.readAllLines(log)) {
                    JsonNode event = json.readTree(line);
                    if ("SparkListenerTaskStart".equals(event.path("Event").asText())
                            && event.path("Task Info").path("Speculative").asBoolean(false)) {
                        count++;
                    }
                }
            }
        }
        return count;
    }
}
