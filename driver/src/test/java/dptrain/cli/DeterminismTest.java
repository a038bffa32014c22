package dptrain.cli;

import static dptrain.cli.TrainCommandTest.BOOK_SPEC;
import static dptrain.cli.TrainCommandTest.dptrain;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.testing.FashionMnist;
import dptrain.testing.FaultInjection;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same seed and --workers give the same bits however many cores run the replicas, in whatever
 * order tasks finish, and when tasks fail and are retried. Three workers, so partial results can
 * arrive out of order.
 */
class DeterminismTest {
    @TempDir
    static Path data;
    static Path trainImages;

    @BeforeAll
    static void slice() throws IOException {
        trainImages = FashionMnist.writeSlice(data, "train", "train", 0, 900);
    }

    static float[] train(Path out, String master, String... conf) throws IOException {
        List<String> args = new ArrayList<>(List.of("train", "--model", BOOK_SPEC, "--train", trainImages.toString(),
                "--epochs", "2", "--batch-size", "150", "--workers", "3", "--averaging-frequency", "2",
                "--master", master, "--output", out.toString(), "--conf", "spark.ui.enabled=false"));
        for (String c : conf) {
            args.add("--conf");
            args.add(c);
        }
        TrainCommandTest.Run run = dptrain(args.toArray(String[]::new));
        assertEquals(ExitCodes.OK, run.code(), run.out() + run.err());
        assertTrue(run.out().contains("3 workers, 6 steps per worker per epoch, averaging every 2 steps (3 rounds"),
                run.out());
        boolean socket = List.of(conf).contains("spark.dptrain.roundExchange=socket");
        boolean peers = List.of(conf).contains("spark.dptrain.roundExchange=peers");
        assertEquals(peers, run.out().contains("Rounds: one Spark job per epoch, the replicas averaging among "
                + "themselves over Spark's network layer ("), run.out());
        assertEquals(socket, run.out().contains("Rounds: one Spark job per epoch, states via the driver's round "
                + "exchange at "), run.out());
        boolean inMemory = socket && !List.of(conf).contains("spark.dptrain.roundExchange.inProcess=false");
        assertEquals(inMemory, run.out().contains("(in memory for tasks in the driver's JVM)"), run.out());
        return ResumeTest.parameters(out);
    }

    /**
     * The default global batch of 150 split between 3 workers is 50 examples per worker: the bits of a batch of 50
     * per worker, on one core or two.
     */
    @Test
    void aGlobalBatchSplitBetweenTheWorkersGivesTheBitsOfItsShareOnAnyNumberOfCores(@TempDir Path a,
            @TempDir Path b) throws IOException {
        float[] global = train(a, "local[2]");
        List<String> args = new ArrayList<>(List.of("train", "--model", BOOK_SPEC, "--train", trainImages.toString(),
                "--epochs", "2", "--batch-size", "50", "--batch-scope", "worker", "--workers", "3",
                "--averaging-frequency", "2", "--master", "local[1]", "--output", b.toString(), "--conf",
                "spark.ui.enabled=false"));
        TrainCommandTest.Run run = dptrain(args.toArray(String[]::new));
        assertEquals(ExitCodes.OK, run.code(), run.out() + run.err());
        assertTrue(run.out().contains("3 workers, 6 steps per worker per epoch"), run.out());
        assertArrayEquals(global, ResumeTest.parameters(b), "a global batch of 150 over 3 workers on local[2] "
                + "differs from 50 per worker on local[1]");
    }

    @Test
    void oneCoreTwoCoresAndRetriedTasksGiveTheSameBits(@TempDir Path a, @TempDir Path b, @TempDir Path c)
            throws IOException {
        float[] oneCore = train(a, "local[1]");
        float[] twoCores = train(b, "local[2]");
        assertArrayEquals(oneCore, twoCores, "local[1] and local[2] differ");
        // local[N,F] retries a failed task up to F-1 times; the hook fails these tasks' first attempts.
        int before = FaultInjection.injectedFailures();
        float[] retried = train(c, "local[2,3]", FaultInjection.enable(),
                "spark.dptrain.test.failFirstAttempt=1:1:0,1:3:2,2:2:1");
        assertEquals(3, FaultInjection.injectedFailures() - before, "the three chosen tasks failed once each");
        assertArrayEquals(oneCore, retried, "a run with retried tasks differs");
    }

    /**
     * An epoch's rounds in one Spark job (long-lived tasks exchanging states with the driver, in
     * memory in local mode or over TCP as on a cluster) give the bits of one job per round, also
     * when a task fails mid-epoch and Spark restarts the stage.
     */
    @Test
    void roundsInOneJobGiveTheBitsOfAJobPerRound(@TempDir Path a, @TempDir Path b, @TempDir Path c,
            @TempDir Path d, @TempDir Path e) throws IOException {
        float[] jobPerRound = train(a, "local[3]", "spark.dptrain.roundExchange=jobs");
        float[] inMemory = train(b, "local[3]", "spark.dptrain.roundExchange=socket");
        assertArrayEquals(jobPerRound, inMemory, "rounds in one job (in memory) differ from a job per round");
        int before = FaultInjection.injectedFailures();
        float[] restarted = train(c, "local[3,3]", "spark.dptrain.roundExchange=socket", FaultInjection.enable(),
                "spark.dptrain.test.failFirstAttempt=1:2:0,2:3:2");
        assertEquals(2, FaultInjection.injectedFailures() - before, "the two chosen tasks failed once each");
        assertArrayEquals(jobPerRound, restarted, "rounds in one job (in memory) with a restarted stage differ");
        String overTcp = "spark.dptrain.roundExchange.inProcess=false";
        assertArrayEquals(jobPerRound, train(d, "local[3]", "spark.dptrain.roundExchange=socket", overTcp),
                "rounds in one job over TCP differ from a job per round");
        before = FaultInjection.injectedFailures();
        assertArrayEquals(jobPerRound, train(e, "local[3,3]", "spark.dptrain.roundExchange=socket", overTcp,
                FaultInjection.enable(), "spark.dptrain.test.failFirstAttempt=1:3:1,2:1:0"), "rounds in one job over "
                + "TCP with a restarted stage differ");
        assertEquals(2, FaultInjection.injectedFailures() - before, "the two chosen tasks failed once each");
    }

    /**
     * Replicas that average among themselves (each owning a chunk of the state, over Spark's network
     * layer) give the bits of the driver's average: plainly, under Nesterov block momentum with a
     * checkpoint fetched every round, and when a task fails mid-epoch and Spark restarts the stage
     * (its new tasks replay the epoch's rounds from the last state the driver holds).
     */
    @Test
    void replicasAveragingAmongThemselvesGiveTheBitsOfTheDriversAverage(@TempDir Path a, @TempDir Path b,
            @TempDir Path c, @TempDir Path d, @TempDir Path e) throws IOException {
        String peers = "spark.dptrain.roundExchange=peers";
        float[] jobPerRound = train(a, "local[3]", "spark.dptrain.roundExchange=jobs");
        assertArrayEquals(jobPerRound, train(b, "local[3]", peers), "averaging among the replicas differs");
        int before = FaultInjection.injectedFailures();
        float[] restarted = train(c, "local[3,3]", peers, FaultInjection.enable(),
                "spark.dptrain.test.failFirstAttempt=1:2:0,2:3:2");
        assertEquals(2, FaultInjection.injectedFailures() - before, "the two chosen tasks failed once each");
        assertArrayEquals(jobPerRound, restarted, "averaging among the replicas with a restarted stage differs");

        // Under Spark's authentication and AES encryption (the console says so).
        TrainCommandTest.Run secured = TrainCommandTest.dptrain("train", "--model", BOOK_SPEC, "--train",
                trainImages.toString(), "--epochs", "2", "--batch-size", "150", "--workers", "3",
                "--averaging-frequency", "2", "--master", "local[3]", "--output", d.toString(), "--conf",
                "spark.ui.enabled=false", "--conf", peers, "--conf", "spark.authenticate=true", "--conf",
                "spark.authenticate.secret=determinism", "--conf", "spark.network.crypto.enabled=true");
        assertEquals(ExitCodes.OK, secured.code(), secured.out() + secured.err());
        assertTrue(secured.out().contains("averaging among themselves over Spark's network layer (authenticated, "
                + "encrypted)"), secured.out());
        assertArrayEquals(jobPerRound, ResumeTest.parameters(d), "averaging among the replicas, encrypted, differs");

        String[] momentum = {"--block-momentum", "0.4", "--block-nesterov", "--checkpoint-every", "1"};
        float[] driverMomentum = trainWith(d.resolve("momentum"), momentum, "local[3]",
                "spark.dptrain.roundExchange=socket");
        assertArrayEquals(driverMomentum, trainWith(e, momentum, "local[3]", peers),
                "block momentum among the replicas differs from the driver's");
    }

    /**
     * Each replica keeping its own optimizer state between the epoch's exact rounds (alone, and with
     * float16 deltas) gives the same bits whether the driver averages (a job per round; auto in local
     * mode takes it instead of the in-memory exchange, which sends one state to all) or the replicas
     * do among themselves, also when a stage restarts mid-epoch; and not the averaged state's bits.
     */
    @Test
    void aLocalOptimizerStateGivesTheSameBitsWhereverTheReplicasAreAveraged(@TempDir Path a, @TempDir Path b,
            @TempDir Path c, @TempDir Path d, @TempDir Path e, @TempDir Path f) throws IOException {
        String jobs = "spark.dptrain.roundExchange=jobs";
        String peers = "spark.dptrain.roundExchange=peers";
        String[] local = {"--optimizer-state", "local"};
        float[] averaged = train(a, "local[3]", jobs);
        float[] jobPerRound = trainWith(b, local, "local[3]", jobs);
        assertFalse(Arrays.equals(averaged, jobPerRound), "a local optimizer state changes the result");
        assertArrayEquals(jobPerRound, trainWith(c, local, "local[3]", "spark.dptrain.roundExchange=auto"),
                "auto (a job per round in local mode) differs");
        int before = FaultInjection.injectedFailures();
        assertArrayEquals(jobPerRound, trainWith(d, local, "local[3,3]", peers, FaultInjection.enable(),
                "spark.dptrain.test.failFirstAttempt=1:2:0,2:3:2"), "a local optimizer state among the replicas "
                + "with a restarted stage differs from the driver's");
        assertEquals(2, FaultInjection.injectedFailures() - before, "the two chosen tasks failed once each");

        TrainCommandTest.Run socket = dptrain("train", "--model", BOOK_SPEC, "--train", trainImages.toString(),
                "--workers", "3", "--master", "local[3]", "--output", f.resolve("socket").toString(), "--conf",
                "spark.ui.enabled=false", "--conf", "spark.dptrain.roundExchange=socket", "--optimizer-state", "local");
        assertTrue(socket.err().contains("dptrain: error: spark.dptrain.roundExchange=socket sends every replica the "
                + "same state each round, so it cannot keep each replica's own optimizer state (--optimizer-state "
                + "local); use spark.dptrain.roundExchange=peers, jobs or auto"), socket.out() + socket.err());
        assertTrue(socket.code() != ExitCodes.OK);

        String[] both = {"--optimizer-state", "local", "--delta-precision", "float16"};
        float[] bothJobs = trainWith(e, both, "local[3]", jobs);
        assertFalse(Arrays.equals(bothJobs, jobPerRound), "float16 deltas change it again");
        assertArrayEquals(bothJobs, trainWith(f, both, "local[3]", peers),
                "a local optimizer state with float16 deltas among the replicas differs from the driver's");
    }

    private static float[] trainWith(Path out, String[] options, String master, String... conf) throws IOException {
        List<String> args = new ArrayList<>(List.of("train", "--model", BOOK_SPEC, "--train", trainImages.toString(),
                "--epochs", "2", "--batch-size", "150", "--workers", "3", "--averaging-frequency", "2",
                "--master", master, "--output", out.toString(), "--conf", "spark.ui.enabled=false"));
        for (String c : conf) {
            args.add("--conf");
            args.add(c);
        }
        args.addAll(List.of(options));
        TrainCommandTest.Run run = dptrain(args.toArray(String[]::new));
        assertEquals(ExitCodes.OK, run.code(), run.out() + run.err());
        if (List.of(options).contains("--delta-precision")) {
            String precision = options[List.of(options).indexOf("--delta-precision") + 1];
            assertTrue(run.out().contains("; parameter deltas in " + precision + " with error feedback"), run.out());
        }
        assertEquals(String.join(" ", options).contains("--optimizer-state local"),
                run.out().contains("(--optimizer-state local)"), run.out());
        return ResumeTest.parameters(out);
    }

    /**
     * Parameter deltas rounded to float16 or bfloat16 with error feedback (3 rounds per epoch: two
     * rounded, the last exact) give the same bits whether the driver averages (a job per round,
     * rounds in one job in memory) or the replicas average among themselves with 2-byte codes on
     * the wire, also when a stage restarts mid-epoch and replays its rounds; and not float32's bits.
     */
    @Test
    void sixteenBitDeltasGiveTheSameBitsWhereverTheReplicasAreAveraged(@TempDir Path a, @TempDir Path b,
            @TempDir Path c, @TempDir Path d, @TempDir Path e, @TempDir Path f, @TempDir Path g) throws IOException {
        String jobs = "spark.dptrain.roundExchange=jobs";
        String peers = "spark.dptrain.roundExchange=peers";
        String[] fp16 = {"--delta-precision", "float16"};
        float[] float32 = train(a, "local[3]", jobs);
        float[] jobPerRound = trainWith(b, fp16, "local[3]", jobs);
        assertFalse(Arrays.equals(float32, jobPerRound), "float16 deltas change the result");
        assertArrayEquals(jobPerRound, trainWith(c, fp16, "local[3]", "spark.dptrain.roundExchange=socket"),
                "float16 deltas averaged in one job (in memory) differ from a job per round");
        assertArrayEquals(jobPerRound, trainWith(d, fp16, "local[3]", peers),
                "float16 deltas averaged among the replicas differ from the driver's average");
        int before = FaultInjection.injectedFailures();
        assertArrayEquals(jobPerRound, trainWith(e, fp16, "local[3,3]", peers, FaultInjection.enable(),
                "spark.dptrain.test.failFirstAttempt=1:2:0,2:3:2"), "float16 deltas among the replicas with a "
                + "restarted stage differ");
        assertEquals(2, FaultInjection.injectedFailures() - before, "the two chosen tasks failed once each");

        String[] bf16 = {"--delta-precision", "bfloat16"};
        float[] bfloat16 = trainWith(f, bf16, "local[3]", jobs);
        assertFalse(Arrays.equals(bfloat16, jobPerRound), "bfloat16 is not float16");
        assertArrayEquals(bfloat16, trainWith(g, bf16, "local[3]", peers),
                "bfloat16 deltas averaged among the replicas differ from the driver's average");
    }

    /**
     * A stranger pounding the driver's end of the replicas' exchange during a real run (Spark's
     * authentication on): random bytes, a frame claiming 2^31 - 1 bytes, and connections that open
     * and say nothing. The run finishes with the bits of a clean run. (A wrong secret is
     * PeerNetworkTest's: an end in this JVM would find the run's own secret in the JVM's Hadoop
     * credentials, where Spark keeps it, so it would be no stranger.)
     */
    @Test
    void strangersAtTheReplicasExchangeChangeNothing(@TempDir Path a, @TempDir Path b) throws Exception {
        float[] clean = train(a, "local[3]", "spark.dptrain.roundExchange=jobs");
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger refusedSecrets = new java.util.concurrent.atomic.AtomicInteger();
        int target = port;
        // An end that knows a wrong secret. Spark's SecurityManager reads the current user's Hadoop
        // credentials first, where this JVM's Spark put the run's secret; another user's are empty,
        // so under that user the end proves "wrong-secret".
        org.apache.spark.SparkConf wrong = new org.apache.spark.SparkConf().set("spark.authenticate", "true")
                .set("spark.authenticate.secret", "wrong-secret");
        org.apache.hadoop.security.UserGroupInformation strangerUser =
                org.apache.hadoop.security.UserGroupInformation.createRemoteUser("stranger");
        Thread stranger = new Thread(() -> {
            java.util.Random random = new java.util.Random(7);
            java.util.List<java.net.Socket> halfOpen = new ArrayList<>();
            while (running.get()) {
                try {
                    strangerUser.doAs((java.security.PrivilegedExceptionAction<Void>) () -> {
                        try (dptrain.peers.PeerNetwork end = dptrain.peers.PeerNetwork.open(wrong,
                                new org.apache.spark.SecurityManager(wrong, scala.Option.empty(),
                                        org.apache.spark.internal.config.package$.MODULE$.AUTH_SECRET_FILE_DRIVER()),
                                "127.0.0.1", 1L)) {
                            end.send("127.0.0.1", target, new dptrain.peers.PeerMessage.Done(
                                    new dptrain.peers.PeerMessage.Envelope(1L, 0, 1, 0)));
                        } catch (java.io.IOException e) {
                            boolean notListening = false;
                            for (Throwable c = e; c != null; c = c.getCause()) {
                                notListening |= c instanceof java.net.ConnectException;
                            }
                            if (e.getMessage().startsWith(dptrain.peers.PeerNetwork.UNREACHABLE) && !notListening) {
                                refusedSecrets.incrementAndGet(); // the handshake failed: as it should
                            }
                        }
                        return null;
                    });
                } catch (java.io.IOException | InterruptedException e) {
                    return;
                }
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", target)) {
                    byte[] noise = new byte[1 + random.nextInt(4096)];
                    random.nextBytes(noise);
                    s.getOutputStream().write(noise);
                    s.getOutputStream().write(java.nio.ByteBuffer.allocate(12).putLong(Integer.MAX_VALUE).putInt(9)
                            .array());
                    attempts.incrementAndGet();
                } catch (java.io.IOException e) {
                    // Not listening yet, or it closed on us: as it should.
                }
                try {
                    if (halfOpen.size() < 20) {
                        halfOpen.add(new java.net.Socket("127.0.0.1", target));
                    }
                } catch (java.io.IOException e) {
                    // Not listening yet.
                }
                try {
                    Thread.sleep(20); // a steady stream, not a busy loop on the run's 2 cores
                } catch (InterruptedException e) {
                    return;
                }
            }
            for (java.net.Socket s : halfOpen) {
                try {
                    s.close();
                } catch (java.io.IOException e) {
                    // closing
                }
            }
        });
        stranger.setDaemon(true);
        stranger.start();
        float[] pounded;
        try {
            pounded = train(b, "local[3]", "spark.dptrain.roundExchange=peers", "spark.authenticate=true",
                    "spark.authenticate.secret=determinism", "spark.dptrain.roundExchange.port=" + port);
        } finally {
            running.set(false);
            stranger.join(30_000);
        }
        assertTrue(attempts.get() > 0, "the stranger never reached the exchange");
        assertTrue(refusedSecrets.get() > 0, "no end with a wrong secret was refused at the exchange");
        assertArrayEquals(clean, pounded, "a run with strangers at its exchange differs");
    }
}
