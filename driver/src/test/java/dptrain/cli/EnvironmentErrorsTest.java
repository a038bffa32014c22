package dptrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.testing.FashionMnist;
import dptrain.testing.StopSpark;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What dptrain runs on fails: Spark masters that cannot take the application, and Spark stopping during a run.
 * Each failure is one sentence naming the master URL and the likely cause, exit code
 * {@link ExitCodes#ENVIRONMENT}, for masters within spark.dptrain.masterTimeout. (A master that refuses the
 * application's authentication, and one without room for an executor: StandaloneClusterIT.)
 */
class EnvironmentErrorsTest {
    private static final List<String> NOT_WANTED = List.of("bug", "Exception", "cannot be read", "stopped SparkContext");

    @TempDir
    static Path dir;
    private static String spec;
    private static String train;

    @BeforeAll
    static void inputs() throws IOException {
        spec = write("tiny.yaml", "input_shape: [3]\nlayers:\n  - dense: {units: 2, activation: softmax}\n"
                + "loss: categorical_crossentropy\n");
        train = write("x.csv", "1,0.5,0.25,0.125\n0,0.5,0.5,1\n");
    }

    @Test
    void nothingListeningOnTheMastersPortIsReportedAfterTheTimeout() throws IOException {
        int port = freePort();
        String master = "spark://127.0.0.1:" + port;
        long start = System.nanoTime();
        TrainCommandTest.Run run = train(master, "3s", dir.resolve("out-refused"));
        double seconds = (System.nanoTime() - start) / 1e9;

        assertOneSentence(run, "dptrain: error: the Spark master " + master + " cannot be reached within 3 s "
                + "(spark.dptrain.masterTimeout): nothing listens on 127.0.0.1:" + port + " (connection refused); "
                + "check the master URL and that the master is running");
        // Refused connections are retried until the timeout (the master may be starting), and not longer.
        assertTrue(seconds >= 3 && seconds < 3 + 5, "took " + seconds + " s with a 3 s timeout");
    }

    @Test
    void aMasterOnAnUnknownHostIsReportedAtOnce() throws IOException {
        String master = "spark://no-such-host.invalid:7077";
        long start = System.nanoTime();
        TrainCommandTest.Run run = train(master, "20s", dir.resolve("out-unknown-host"));
        double seconds = (System.nanoTime() - start) / 1e9;

        assertOneSentence(run, "dptrain: error: the Spark master " + master + " cannot be reached: the host "
                + "'no-such-host.invalid' is unknown; check the master URL's host");
        assertTrue(seconds < 20, "took " + seconds + " s; an unknown host is not retried");
    }

    /**
     * A port that takes connections and never answers (a stuck process, the wrong service): Spark would wait for
     * it a minute and then fail the first read as a data error. Run as a process of its own, as users run dptrain:
     * a SparkContext still registering when dptrain gives up is only stopped by Spark a minute later, which is no
     * concern for a command that exits but would be for the other tests in this JVM.
     */
    @Test
    void aMasterThatNeverAnswersIsReportedAtTheTimeout() throws IOException, InterruptedException {
        try (SilentServer silent = new SilentServer()) {
            String master = "spark://127.0.0.1:" + silent.port();
            Path folder = Files.createDirectories(dir.resolve("silent"));
            Process process = dptrainProcess(folder, "train", "--model", spec, "--train", train, "--output",
                    folder.resolve("out").toString(), "--master", master, "--conf", "spark.dptrain.masterTimeout=5s");
            assertTrue(process.waitFor(3, TimeUnit.MINUTES), "dptrain did not end");
            long ended = System.nanoTime();
            String err = Files.readString(folder.resolve("stderr"));

            assertEquals(ExitCodes.ENVIRONMENT, process.exitValue(), err);
            assertOneSentence(new TrainCommandTest.Run(process.exitValue(), "", err), "dptrain: error: the Spark "
                    + "master " + master + " did not register the application within 5 s (spark.dptrain.masterTimeout): "
                    + "127.0.0.1:" + silent.port() + " takes connections but does not answer; check that the URL names a "
                    + "Spark master of a compatible version, or raise spark.dptrain.masterTimeout if it is only slow");
            // From dptrain's first connection (its check before Spark starts) to the end of the process: the timeout.
            double waited = (ended - silent.firstConnection()) / 1e9;
            assertTrue(waited >= 4.5 && waited < 5 + 4, "waited " + waited + " s with a 5 s timeout");
            assertFalse(Files.exists(folder.resolve("out/model.zip")));
        }
    }

    @Test
    void sparkStoppingDuringTrainingIsNotBlamedOnTheDataOrOnDptrain() throws IOException, InterruptedException {
        Path data = FashionMnist.writeSlice(dir.resolve("stop"), "train", "train", 0, 512);
        Path out = dir.resolve("out-stopped");
        TrainCommandTest.Run run;
        try {
            run = TrainCommandTest.dptrain("train", "--model", TrainCommandTest.BOOK_SPEC, "--train", data.toString(),
                    "--output", out.toString(), "--master", "local[2]", "--workers", "2", "--batch-size", "32",
                    "--averaging-frequency", "2", "--epochs", "2", "--conf", "spark.ui.enabled=false",
                    "--conf", StopSpark.enable());
        } finally {
            StopSpark.awaitStops();
        }
        assertOneSentence(run, "dptrain: error: Spark stopped while dptrain was running (local[2]); Spark's log says why");
        assertFalse(Files.exists(out.resolve("model.zip")));
    }

    /**
     * Executors that cannot open a connection to the driver's round exchange (a firewall, a NetworkPolicy):
     * here the exchange listens on 127.0.0.1 while the driver's advertised host is 127.0.0.2.
     */
    @Test
    void executorsThatCannotReachTheRoundExchangeAreAnEnvironmentFailure() throws IOException {
        Path data = FashionMnist.writeSlice(dir.resolve("unreachable"), "train", "train", 0, 256);
        Path out = dir.resolve("out-unreachable");
        TrainCommandTest.Run run = TrainCommandTest.dptrain("train", "--model", TrainCommandTest.BOOK_SPEC, "--train",
                data.toString(), "--output", out.toString(), "--master", "local[2]", "--workers", "2", "--batch-size",
                "32", "--averaging-frequency", "2", "--epochs", "1", "--conf", "spark.ui.enabled=false",
                "--conf", "spark.driver.bindAddress=127.0.0.1", "--conf", "spark.driver.host=127.0.0.2",
                "--conf", "spark.dptrain.roundExchange=socket", "--conf", "spark.dptrain.roundExchange.inProcess=false");

        assertEquals(ExitCodes.ENVIRONMENT, run.code(), run.err());
        String message = run.err().strip();
        assertTrue(message.matches("dptrain: error: the executors cannot reach the driver's round exchange at "
                + "127\\.0\\.0\\.2:\\d+: Connection refused; open that port from the executors to the driver "
                + "\\(spark\\.dptrain\\.roundExchange\\.port fixes it\\), or set spark\\.dptrain\\.roundExchange=jobs to "
                + "send rounds as Spark jobs"), message);
        for (String word : NOT_WANTED) {
            assertFalse(message.contains(word), "'" + word + "' in: " + message);
        }
        assertFalse(Files.exists(out.resolve("model.zip")));
    }

    /**
     * The same with the replicas averaging among themselves: the tasks cannot reach the driver's end
     * of their exchange.
     */
    @Test
    void executorsThatCannotReachTheReplicasExchangeAreAnEnvironmentFailure() throws IOException {
        Path data = FashionMnist.writeSlice(dir.resolve("unreachable-peers"), "train", "train", 0, 256);
        Path out = dir.resolve("out-unreachable-peers");
        TrainCommandTest.Run run = TrainCommandTest.dptrain("train", "--model", TrainCommandTest.BOOK_SPEC, "--train",
                data.toString(), "--output", out.toString(), "--master", "local[2]", "--workers", "2", "--batch-size",
                "32", "--averaging-frequency", "2", "--epochs", "1", "--conf", "spark.ui.enabled=false",
                "--conf", "spark.driver.bindAddress=127.0.0.1", "--conf", "spark.driver.host=127.0.0.2",
                "--conf", "spark.dptrain.roundExchange=peers");

        assertEquals(ExitCodes.ENVIRONMENT, run.code(), run.err());
        String message = run.err().strip();
        assertTrue(message.matches("dptrain: error: the executors cannot reach the replicas' exchange at "
                + "127\\.0\\.0\\.2:\\d+: Connection refused; open the executors' ports to each other and the "
                + "driver's to them \\(spark\\.dptrain\\.roundExchange\\.port fixes the driver's\\), or set "
                + "spark\\.dptrain\\.roundExchange=jobs to send rounds as Spark jobs"), message);
        for (String word : NOT_WANTED) {
            assertFalse(message.contains(word), "'" + word + "' in: " + message);
        }
        assertFalse(Files.exists(out.resolve("model.zip")));
    }

    private static void assertOneSentence(TrainCommandTest.Run run, String expected) {
        assertEquals(ExitCodes.ENVIRONMENT, run.code(), run.err());
        assertEquals(expected, run.err().strip(), "the whole of stderr");
        for (String word : NOT_WANTED) {
            assertFalse(run.err().contains(word), "'" + word + "' in: " + run.err());
        }
    }

    private static TrainCommandTest.Run train(String master, String timeout, Path out) {
        return TrainCommandTest.dptrain("train", "--model", spec, "--train", train, "--output", out.toString(),
                "--master", master, "--conf", "spark.dptrain.masterTimeout=" + timeout, "--conf", "spark.ui.enabled=false");
    }

    /** dptrain's main in a JVM of its own, as deploy/bin/dptrain runs it; stdout and stderr go to files in {@code folder}. */
    static Process dptrainProcess(Path folder, String... args) throws IOException {
        Path repo = Path.of("").toAbsolutePath().getParent();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                "-Dlog4j2.configurationFile=" + repo.resolve("deploy/conf/log4j2.properties"),
                "-Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir",
                        repo.resolve("target/javacpp-cache").toString()),
                Dptrain.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectOutput(folder.resolve("stdout").toFile())
                .redirectError(folder.resolve("stderr").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        builder.environment().put("DPTRAIN_LOG", folder.resolve("driver.log").toString());
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return builder.start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static String write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8).toString();
    }

    /** A port on 127.0.0.1 that accepts connections, reads nothing and answers nothing. */
    private static final class SilentServer implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final List<Socket> held = new ArrayList<>();
        private final AtomicLong first = new AtomicLong();
        private final Thread acceptor;

        SilentServer() throws IOException {
            acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket socket = server.accept();
                        first.compareAndSet(0, System.nanoTime());
                        synchronized (held) {
                            held.add(socket);
                        }
                    } catch (IOException e) {
                        return; // closed
                    }
                }
            }, "silent-server");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        long firstConnection() {
            assertTrue(first.get() != 0, "dptrain never connected");
            return first.get();
        }

        @Override
        public void close() {
            try {
                server.close();
                synchronized (held) {
                    for (Socket s : held) {
                        s.close();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
