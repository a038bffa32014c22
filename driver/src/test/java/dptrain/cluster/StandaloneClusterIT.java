package dptrain.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.cli.Dptrain;
import dptrain.cli.ExitCodes;
import dptrain.testing.FashionMnist;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * dptrain on a real Spark standalone cluster on loopback (one master, two one-core workers, authentication on),
 * submitted with deploy/bin/dptrain-submit as a user would. The cluster is started once for all these tests.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
    private static final long BOOK_NETWORK_PARAMETERS = 407_050;
    /** Spark logs this when a stage's closure and RDD (its "task binary") reach 1000 KiB. */
    private static final String LARGE_TASK_BINARY = "Broadcasting large task binary";

    @RegisterExtension
    static final LocalCluster CLUSTER = new LocalCluster(Path.of("target/cluster-it"));

    /** The client-mode run's outputs, which the local-mode comparison reuses. */
    private static Path clientModeOutput;

    @Test
    @Order(1)
    void clientModeTrainsTheBooksNetworkAndSparkShowsEachEpochAsOneJob() throws IOException {
        Path folder = CLUSTER.testFolder("client-mode");
        Path events = Files.createDirectories(folder.resolve("events"));
        Path out = folder.resolve("out");
        Scripts.Run run = CLUSTER.submit(folder, true, Map.of(), List.of("--deploy-mode", "client",
                "--conf", "spark.eventLog.enabled=true", "--conf", "spark.eventLog.dir=" + events.toUri(),
                "--conf", "spark.eventLog.compress=false"), bookJob(out));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("Epoch 5/5"), run.output());
        // Every task runs in an executor's JVM here: the console must not claim states pass in memory.
        // The local cluster authenticates: the replicas' exchange does too.
        assertTrue(run.output().contains("Rounds: one Spark job per epoch, the replicas averaging among themselves over "
                + "Spark's network layer (authenticated, not encrypted)") && !run.output().contains("in memory"),
                run.output());
        assertBooksNetworkTrained(out);
        List<String> jobs = jobDescriptions(events);
        // The default averages every 16 minibatches; with a task slot per worker an epoch's rounds are one job.
        for (int epoch = 1; epoch <= 5; epoch++) {
            String prefix = "dptrain epoch " + epoch + "/5 (its rounds in one job, the replicas averaging among themselves)";
            assertEquals(1, jobs.stream().filter(job -> job.startsWith(prefix)).count(),
                    "Spark's job descriptions: " + jobs);
        }
        assertTrue(jobs.contains("dptrain test evaluation"), "Spark's job descriptions: " + jobs);
        clientModeOutput = out;
    }

    @Test
    @Order(2)
    void theSameSeedGivesTheSameAccuracyInLocalModeAndOnTheCluster() throws IOException {
        assumeTrue(clientModeOutput != null, "needs the client-mode run's outputs");
        Path local = CLUSTER.testFolder("local-mode").resolve("out");
        List<String> args = new ArrayList<>(bookJob(local));
        args.addAll(List.of("--master", "local[2]", "--conf", "spark.ui.enabled=false"));
        assertEquals(0, Dptrain.run(args.toArray(String[]::new)));

        double localAccuracy = testAccuracy(local);
        double clusterAccuracy = testAccuracy(clientModeOutput);
        float[] localParameters = parameters(local);
        float[] clusterParameters = parameters(clientModeOutput);
        double largest = 0;
        int differing = 0;
        for (int i = 0; i < localParameters.length; i++) {
            float d = Math.abs(localParameters[i] - clusterParameters[i]);
            largest = Math.max(largest, d);
            differing += d > 0 ? 1 : 0;
        }
        String comparison = String.format(Locale.ROOT, "test accuracy local[2] %s, standalone cluster %s "
                + "(difference %s); %d of %d parameters differ, by at most %s", localAccuracy, clusterAccuracy,
                clusterAccuracy - localAccuracy, differing, localParameters.length, largest);
        Files.writeString(local.getParent().resolve("local-vs-cluster.txt"), comparison + System.lineSeparator());
        assertEquals(localAccuracy, clusterAccuracy, 0.0, comparison);
    }

    @Test
    @Order(3)
    void clusterModeTrainsTheBooksNetworkWithTheDriverOnAWorker() throws IOException {
        Path folder = CLUSTER.testFolder("cluster-mode");
        Path out = folder.resolve("out");
        Scripts.Run run = CLUSTER.submit(folder, true, Map.of(), List.of("--deploy-mode", "cluster"), bookJob(out));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("is FINISHED"), run.output());
        assertBooksNetworkTrained(out);
        // The driver ran on a worker: its console output is in that worker's work folder.
        String driverOutput;
        try (Stream<Path> files = Files.find(CLUSTER.dir(), 4,
                (p, a) -> p.getFileName().toString().equals("stdout") && p.getParent().getFileName().toString().startsWith("driver-"))) {
            List<Path> stdout = files.toList();
            assertEquals(1, stdout.size(), "drivers' stdout files: " + stdout);
            driverOutput = Files.readString(stdout.get(0));
        }
        assertTrue(driverOutput.contains("Epoch 5/5") && driverOutput.contains("Wrote model.zip"), driverOutput);
    }

    @Test
    @Order(4)
    void noLargeValueTravelsInsideATaskOrClosureUnderAOneMegabyteRpcLimit() throws IOException {
        // Parameters and RMSprop state are 3.2 MB; with averaging every 64 steps and a Spark job per round,
        // 4 rounds broadcast them (by default the replicas average among themselves, over Spark's network layer).
        Path folder = CLUSTER.testFolder("rpc-limit");
        List<String> oneMegabyte = List.of("--conf", "spark.rpc.message.maxSize=1", "--conf",
                "spark.dptrain.roundExchange=jobs");
        Scripts.Run training = CLUSTER.submit(folder, true, Map.of(), oneMegabyte, List.of("train",
                "--model", bookSpec(), "--train", FashionMnist.trainImages().toAbsolutePath().toString(),
                "--workers", "2", "--batch-scope", "worker", "--epochs", "1", "--averaging-frequency", "64",
                "--output", folder.resolve("out").toString()));
        assertEquals(0, training.exitCode(), training.output());
        assertTrue(training.output().contains("4 rounds per epoch"), training.output());
        String driverLog = Files.readString(folder.resolve("driver.log"));
        assertFalse(driverLog.contains(LARGE_TASK_BINARY), driverLog);

        // The same cluster and limit refuse a task that carries a 4 MB value, and flag a 4 MB closure.
        Path probeFolder = CLUSTER.testFolder("rpc-limit-probe");
        Path probeJar = probeJar(probeFolder);
        Scripts.Run probe = CLUSTER.submit(probeFolder, true,
                Map.of("DPTRAIN_APP_JAR", probeJar.toString(), "DPTRAIN_MAIN", TaskSizeProbe.class.getName()),
                oneMegabyte, List.of("probe"));
        assertEquals(0, probe.exitCode(), probe.output());
        assertTrue(probe.output().contains(TaskSizeProbe.TASK_REFUSED), probe.output());
        assertTrue(probe.output().contains("exceeds max allowed: spark.rpc.message.maxSize (1048576 bytes)"),
                probe.output());
        // Spark ships a stage's closure as a broadcast of its own, so the RPC limit does not stop it; the driver log does show it.
        assertTrue(probe.output().contains(TaskSizeProbe.CLOSURE_RAN), probe.output());
        assertTrue(Files.readString(probeFolder.resolve("driver.log")).contains(LARGE_TASK_BINARY));
    }

    @Test
    @Order(5)
    void theDriverWarnsWhenTheExecutorsLeaveNd4jTooLittleMemory() throws IOException {
        Path folder = CLUSTER.testFolder("memory-warning");
        Path train = FashionMnist.writeSlice(folder.resolve("data"), "train", "small", 0, 2048);
        Scripts.Run run = CLUSTER.submit(folder, true, Map.of(),
                List.of("--conf", "spark.executor.extraJavaOptions=-Dorg.bytedeco.javacpp.maxphysicalbytes=1200m"),
                List.of("train", "--model", bookSpec(), "--train", train.toString(), "--workers", "2", "--epochs", "1",
                        "--output", folder.resolve("out").toString()));
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("dptrain: warning: org.bytedeco.javacpp.maxphysicalbytes on the executors is "
                + "1200 MiB, less than their 1024 MiB heap plus the about 336 MiB ND4J needs outside it"), run.output());
    }

    @Test
    @Order(6)
    void aSubmissionWithoutTheClustersSecretIsRefused() throws IOException, InterruptedException {
        int driversBefore = driversKnownToTheMaster();
        Path folder = CLUSTER.testFolder("no-secret");
        List<String> job = List.of("train", "--model", bookSpec(), "--train",
                FashionMnist.trainImages().toAbsolutePath().toString(), "--output", folder.resolve("out").toString());
        Scripts.Run noSecret = CLUSTER.submit(folder, false, Map.of(),
                List.of("--master", CLUSTER.masterUrl(), "--deploy-mode", "cluster"), job);
        assertNotEquals(0, noSecret.exitCode(), noSecret.output());
        assertTrue(noSecret.output().contains("Expected SaslMessage"), noSecret.output());

        Path wrong = CLUSTER.testFolder("wrong-secret");
        Scripts.Run wrongSecret = CLUSTER.submit(wrong, false, Map.of(), List.of("--master", CLUSTER.masterUrl(),
                "--deploy-mode", "cluster", "--conf", "spark.authenticate=true",
                "--conf", "spark.authenticate.secret=not-the-secret"), job);
        assertNotEquals(0, wrongSecret.exitCode(), wrongSecret.output());
        assertFalse(wrongSecret.output().contains("Driver successfully submitted"), wrongSecret.output());

        assertEquals(driversBefore, driversKnownToTheMaster(), "the master accepted a driver without the secret");
        assertFalse(Files.exists(folder.resolve("out")));
    }

    @Test
    @Order(7)
    void aClientModeDriverWithoutTheSecretSaysInOneSentenceThatTheMasterRefusedIt() throws IOException {
        Path folder = CLUSTER.testFolder("no-secret-client");
        long start = System.nanoTime();
        Scripts.Run run = CLUSTER.submit(folder, false, Map.of(), List.of("--master", CLUSTER.masterUrl()),
                List.of("train", "--model", bookSpec(), "--train", FashionMnist.trainImages().toAbsolutePath().toString(),
                        "--output", folder.resolve("out").toString()));
        double seconds = (System.nanoTime() - start) / 1e9;

        assertEquals(ExitCodes.ENVIRONMENT, run.exitCode(), run.output());
        assertEquals("dptrain: error: the Spark master " + CLUSTER.masterUrl() + " refused this application: the cluster "
                + "requires authentication and the application has no secret; submit with spark.authenticate=true and "
                + "the cluster's spark.authenticate.secret (dptrain-submit --cluster-dir DIR for a cluster started by "
                + "deploy/local-cluster/start)", errorLine(run));
        // Spark retries a refusing master for a minute; its first refusal already tells.
        assertTrue(seconds < 40, "took " + seconds + " s");
        assertFalse(Files.exists(folder.resolve("out/model.zip")));
    }

    @Test
    @Order(8)
    void anApplicationNoWorkerHasRoomForIsReportedAtTheTimeoutAndLeavesTheMaster() throws IOException,
            InterruptedException {
        Path folder = CLUSTER.testFolder("no-room");
        long start = System.nanoTime();
        // The workers have 4 GiB each.
        Scripts.Run run = CLUSTER.submit(folder, true, Map.of(), List.of("--executor-memory", "8g",
                "--conf", "spark.dptrain.masterTimeout=15s"), List.of("train", "--model", bookSpec(), "--train",
                        FashionMnist.trainImages().toAbsolutePath().toString(), "--output", folder.resolve("out").toString()));
        double seconds = (System.nanoTime() - start) / 1e9;

        assertEquals(ExitCodes.ENVIRONMENT, run.exitCode(), run.output());
        String error = errorLine(run);
        assertEquals("dptrain: error: the Spark master " + CLUSTER.masterUrl() + " registered the application (app-…) "
                + "but started no executor for it within 15 s (spark.dptrain.masterTimeout): no worker has the free "
                + "cores and memory one executor asks for (at least 1 core and 8192 MiB; spark.executor.cores, "
                + "spark.executor.memory), or other applications hold them; ask for less, add workers, or raise "
                + "spark.dptrain.masterTimeout to wait for them", error.replaceFirst("\\(app-[0-9-]+\\)", "(app-…)"));
        assertTrue(seconds >= 15 && seconds < 15 + 40, "took " + seconds + " s");
        assertEquals(0, applicationsWaitingOrRunning(), "dptrain ended its application at the master");
    }

    /** The one line of dptrain's error message in a submission's output. */
    private static String errorLine(Scripts.Run run) {
        List<String> lines = run.output().lines().filter(line -> line.startsWith("dptrain: ")).toList();
        assertEquals(1, lines.size(), run.output());
        assertFalse(run.output().contains("bug") || run.output().contains("\tat ")
                || run.output().contains("stopped SparkContext") || run.output().contains("cannot be read"), run.output());
        return lines.get(0);
    }

    /** How many applications the master's JSON page lists as waiting or running. */
    private static int applicationsWaitingOrRunning() throws IOException, InterruptedException {
        return masterJson().path("activeapps").size();
    }

    private static String bookSpec() {
        return LocalCluster.repo().resolve("src/examples/mnist-mlp.yaml").toString();
    }

    /**
     * Losing an executor costs its epoch, not the ones after it. Killing the executor that cached
     * partition 1 in epoch 3 made Spark rebuild that partition on the executor that already held
     * partition 0's block; every later epoch one task then waited out the locality wait and read its
     * block over the network (8-11 s per epoch against 6). dptrain drops the crowded block at epoch
     * 4's start and rebuilds it where its task runs: epoch 5 runs each task beside its block, and the
     * bits are those of the undisturbed run.
     */
    @Test
    @Order(9)
    void afterAnExecutorLossTheEpochAfterNextRunsEachTaskBesideItsCachedBlockWithTheSameBits() throws Exception {
        assertNotNull(clientModeOutput, "needs the undisturbed client-mode run");
        Path folder = CLUSTER.testFolder("executor-loss");
        Path events = Files.createDirectories(folder.resolve("events"));
        Path out = folder.resolve("out");
        Process driver = CLUSTER.start(folder, List.of("--deploy-mode", "client",
                "--conf", "spark.eventLog.enabled=true", "--conf", "spark.eventLog.dir=" + events.toUri(),
                "--conf", "spark.eventLog.compress=false"), bookJob(out));
        Path console = folder.resolve("submit.out");
        try {
            java.time.Instant deadline = java.time.Instant.now().plus(java.time.Duration.ofMinutes(6));
            while (!Files.readString(console).contains("Epoch 2/5")) {
                assertTrue(driver.isAlive() && java.time.Instant.now().isBefore(deadline),
                        "epoch 2 did not end: " + Files.readString(console));
                Thread.sleep(50);
            }
            Thread.sleep(700);
            ProcessHandle executor = CLUSTER.executorHolding(1);
            assertTrue(executor.destroyForcibly(), "SIGKILL to executor " + executor.pid());
            executor.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(driver.waitFor(6, java.util.concurrent.TimeUnit.MINUTES), "the run did not finish");
        } finally {
            driver.descendants().forEach(ProcessHandle::destroyForcibly);
            driver.destroyForcibly();
        }
        String output = Files.readString(console);
        assertEquals(0, driver.exitValue(), output);
        assertArrayEquals(parameters(clientModeOutput), parameters(out), "the run with an executor killed differs");
        // The training tasks: a barrier map stage (its job's one result task only collects their round counts).
        List<JsonNode> lastEpoch = SparkEventLog.successfulTasks(events, "dptrain epoch 5/5 (its rounds in one job",
                "ShuffleMapTask");
        assertEquals(2, lastEpoch.size(), "epoch 5 ran one task per partition: " + lastEpoch + "\n" + output);
        for (JsonNode task : lastEpoch) {
            assertEquals("PROCESS_LOCAL", task.path("Locality").asText(), "epoch 5's task of partition "
                    + task.path("Index") + " ran away from its cached block: " + lastEpoch + "\n" + output);
        }
        assertNotEquals(lastEpoch.get(0).path("Executor ID").asText(), lastEpoch.get(1).path("Executor ID").asText(),
                "both tasks of epoch 5 ran on one executor: " + lastEpoch);
    }

    /** The book's job: its network on the full Fashion-MNIST, two workers, five epochs, with a test evaluation. */
    private static List<String> bookJob(Path out) {
        return List.of("train", "--model", bookSpec(),
                "--train", FashionMnist.trainImages().toAbsolutePath().toString(),
                "--test", FashionMnist.testImages().toAbsolutePath().toString(),
                "--workers", "2", "--epochs", "5", "--output", out.toString());
    }

    private static void assertBooksNetworkTrained(Path out) throws IOException {
        JsonNode history = new ObjectMapper().readTree(out.resolve("history.json").toFile());
        assertEquals(5, history.get("epochs").size(), history.toString());
        JsonNode first = history.get("epochs").get(0);
        assertEquals(60000, first.get("examples").asLong());
        assertEquals(469, first.get("steps_per_replica").asLong(),
                "30,000 examples per worker in minibatches of 64: the default global batch of 128 split in two");
        double testAccuracy = history.get("test_accuracy").asDouble();
        assertTrue(testAccuracy >= 0.85, "test accuracy " + testAccuracy);
        assertEquals(BOOK_NETWORK_PARAMETERS, parameters(out).length);
        JsonNode provenance = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
        assertEquals(CLUSTER.masterUrl(), provenance.get("master").asText());
    }

    private static double testAccuracy(Path out) throws IOException {
        return new ObjectMapper().readTree(out.resolve("history.json").toFile()).get("test_accuracy").asDouble();
    }

    private static float[] parameters(Path out) throws IOException {
        MultiLayerNetwork model = ModelSerializer.restoreMultiLayerNetwork(out.resolve("model.zip").toFile(), false);
        return model.params().dup().data().asFloat();
    }

    /** The descriptions of every job in the Spark event logs in {@code events}, as the Spark UI lists them. */
    private static List<String> jobDescriptions(Path events) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> descriptions = new ArrayList<>();
        // Spark 4 writes rolling event logs: a folder per application holding events_N_<app> files.
        try (Stream<Path> logs = Files.walk(events)) {
            for (Path log : logs.filter(p -> p.getFileName().toString().startsWith("events_")).toList()) {
                for (String line : Files.readAllLines(log)) {
                    JsonNode event = json.readTree(line);
                    if ("SparkListenerJobStart".equals(event.path("Event").asText())) {
                        descriptions.add(event.path("Properties").path("spark.job.description").asText());
                    }
                }
            }
        }
        return descriptions;
    }

    /** How many drivers, running or finished, the master's JSON page lists. */
    private static int driversKnownToTheMaster() throws IOException, InterruptedException {
        JsonNode master = masterJson();
        return master.path("activedrivers").size() + master.path("completeddrivers").size();
    }

    /** The master's state, as its UI's JSON page shows it. */
    private static JsonNode masterJson() throws IOException, InterruptedException {
        String ui = Files.readString(CLUSTER.dir().resolve("master-ui-url")).strip();
        HttpResponse<String> page = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(ui + "/json/")).build(), HttpResponse.BodyHandlers.ofString());
        return new ObjectMapper().readTree(page.body());
    }

    /** A jar of {@link TaskSizeProbe}'s classes, to submit as an application. */
    private static Path probeJar(Path folder) throws IOException {
        Path classes = Path.of(TaskSizeProbe.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        Path jar = folder.resolve("task-size-probe.jar");
        String prefix = TaskSizeProbe.class.getName().replace('.', '/');
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
                Stream<Path> all = Files.walk(classes)) {
            for (Path p : all.filter(p -> classes.relativize(p).toString().startsWith(prefix)).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(p).toString()));
                Files.copy(p, out);
                out.closeEntry();
            }
        }
        return jar;
    }
}
