package dptrain.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.cli.Dptrain;
import dptrain.cli.ExitCodes;
import dptrain.driver.files.OutputLock;
import dptrain.testing.FashionMnist;
import dptrain.testing.S3Server;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dptrain train} on s3a://, through hadoop-aws, against an S3 API server in this JVM
 * (S3Proxy): data read from the bucket, every output and checkpoint written to it; a run killed
 * while it uploads a checkpoint resumes from the last whole one with the bits of a run that never
 * stopped; an unreachable endpoint and refused credentials are environment errors, a missing
 * bucket an input error.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class S3TrainingIT {
    private static final int TRAIN = 3000;
    private static final int TEST = 500;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path local;
    private static S3Server s3;
    private static FileSystem bucket;
    /** The uninterrupted run's parameters and optimizer state, as model.zip holds them. */
    private static byte[] referenceCoefficients;
    private static byte[] referenceUpdaterState;

    @BeforeAll
    static void startS3AndUploadTheData() throws Exception {
        s3 = S3Server.start();
        bucket = s3.fileSystem();
        bucket.copyFromLocalFile(new org.apache.hadoop.fs.Path(Path.of("../src/examples/mnist-mlp.yaml").toUri()),
                path("specs/mnist-mlp.yaml"));
        // Training data as CSV (Spark's reader), test data as IDX (read by the executors themselves).
        byte[] pixels = FashionMnist.pixels("train", 0, TRAIN);
        byte[] labels = FashionMnist.labels("train", 0, TRAIN);
        try (OutputStream out = bucket.create(path("data/train.csv"), false)) {
            StringBuilder line = new StringBuilder();
            for (int r = 0; r < TRAIN; r++) {
                line.setLength(0);
                line.append(labels[r]);
                for (int p = 0; p < FashionMnist.PIXELS; p++) {
                    line.append(',').append(pixels[r * FashionMnist.PIXELS + p] & 0xff);
                }
                out.write(line.append('\n').toString().getBytes(StandardCharsets.US_ASCII));
            }
        }
        Path images = FashionMnist.writeSlice(local, "t10k", "t10k", 0, TEST);
        bucket.copyFromLocalFile(new org.apache.hadoop.fs.Path(images.toUri()), path("data/t10k-images-idx3-ubyte"));
        bucket.copyFromLocalFile(new org.apache.hadoop.fs.Path(images.resolveSibling("t10k-labels-idx1-ubyte").toUri()),
                path("data/t10k-labels-idx1-ubyte"));
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    /**
     * The book's network on the CSV, 2 epochs of 23 minibatches of 64 per worker ({@code --batch-scope
     * worker}), averaging every 8, a checkpoint every round: checkpoints after 8 and 16 minibatches
     * and at the end of each epoch.
     */
    private static List<String> trainArgs(String output, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--model", s3.uri("specs/mnist-mlp.yaml"),
                "--train", s3.uri("data/train.csv"), "--test", s3.uri("data/t10k-images-idx3-ubyte"),
                "--scale", "255", "--epochs", "2", "--batch-size", "64", "--batch-scope", "worker", "--workers", "2",
                "--master", "local[2]", "--averaging-frequency", "8", "--checkpoint-every", "1", "--output", s3.uri(output),
                "--conf", "spark.ui.enabled=false"));
        args.addAll(s3.settings());
        args.addAll(List.of(more));
        return args;
    }

    @Test
    @Order(1)
    void trainsFromS3AndWritesEveryOutputAndCheckpointToS3UnderItsOwnName() throws IOException {
        Run run = dptrain(trainArgs("runs/reference"));
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("Train on " + TRAIN + " examples; 2 workers"), run.out());
        assertTrue(run.out().contains("Test - loss: ") && run.out().contains("(" + TEST + " examples)"), run.out());

        assertEquals(List.of("checkpoints/checkpoint-e0001-b000008.json", "checkpoints/checkpoint-e0001-b000016.json",
                "checkpoints/checkpoint-e0002-b000000.json", "history.json", "history.png", "model.zip",
                "provenance.json", "report.html"),
                files("runs/reference/").stream().filter(k -> !k.endsWith(".bin")).toList(),
                "the outputs, the 3 newest checkpoints' manifests and nothing else (no lock, no temporary file)");
        assertEquals(3, files("runs/reference/checkpoints/").stream().filter(k -> k.endsWith(".bin")).count());
        List<String> uploads = s3.uploads().stream().filter(k -> k.startsWith("runs/reference/")).toList();
        assertTrue(uploads.stream().noneMatch(k -> k.contains(".tmp-")),
                "every file went up under its own name, none by a copy from a temporary one: " + uploads);

        JsonNode history = JSON.readTree(read("runs/reference/history.json"));
        assertEquals(2, history.get("epochs").size());
        assertEquals(TRAIN, history.get("training_examples").asLong());
        JsonNode provenance = JSON.readTree(read("runs/reference/provenance.json"));
        assertEquals(s3.uri("data/train.csv"), provenance.get("parameters").get("train").get("uri").asText());
        Map<String, byte[]> model = zipEntries(read("runs/reference/model.zip"));
        referenceCoefficients = model.get("coefficients.bin");
        referenceUpdaterState = model.get("updaterState.bin");
        assertNotNull(referenceCoefficients, model.keySet().toString());
        assertNotNull(referenceUpdaterState, model.keySet().toString());
    }

    @Test
    @Order(2)
    void theReportIsDrawnAgainFromARunOnS3WithTheSameSettings() throws IOException {
        bucket.delete(path("runs/reference/report.html"), false);
        bucket.delete(path("runs/reference/history.png"), false);
        List<String> args = new ArrayList<>(List.of("report", "--output", s3.uri("runs/reference")));
        args.addAll(s3.settings());
        Run run = dptrain(args);
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(new String(read("runs/reference/report.html"), StandardCharsets.UTF_8).contains("<svg"));
        assertTrue(read("runs/reference/history.png").length > 0);
    }

    /**
     * A run in its own JVM, as deploy/bin/dptrain starts it with hadoop-aws added, is killed (SIGKILL)
     * while the S3 server holds the upload of the checkpoint after round 1 of epoch 2 halfway. The
     * bucket then holds no part of that checkpoint, only the whole ones before it; the same command
     * with --resume takes over the dead run's lock and ends with the uninterrupted run's bits.
     */
    @Test
    @Order(3)
    void aRunKilledWhileItUploadsACheckpointResumesFromTheLastWholeOneWithTheSameBits() throws Exception {
        assertNotNull(referenceCoefficients, "needs the uninterrupted run");
        String held = "runs/killed/checkpoints/checkpoint-e0001-b000008";
        S3Server.Hold hold = s3.holdUpload(key -> key.startsWith(held), 64 * 1024);
        Path console = local.resolve("killed-run.txt");
        Process run = startDeployedDptrain(trainArgs("runs/killed"), console);
        try {
            String key = null;
            for (long waited = 0; key == null && run.isAlive() && waited < 300; waited++) {
                key = hold.awaitStopped(1);
            }
            assertNotNull(key, "the run never uploaded " + held + "; its output:\n" + Files.readString(console));
            assertTrue(key.endsWith(".bin"), "the data file goes up first: " + key);
            assertTrue(run.isAlive(), "the run waits for its upload");
            run.destroyForcibly();
            assertTrue(run.waitFor(60, TimeUnit.SECONDS), "the killed run's JVM did not end");
        } finally {
            run.descendants().forEach(ProcessHandle::destroyForcibly);
            run.destroyForcibly();
            hold.release();
        }
        assertFalse(Files.readString(console).contains("Epoch 2/2"), Files.readString(console));
        assertEquals(List.of(".dptrain-run.lock", "checkpoints/checkpoint-e0000-b000008.json",
                "checkpoints/checkpoint-e0000-b000016.json", "checkpoints/checkpoint-e0001-b000000.json"),
                files("runs/killed/").stream().filter(k -> !k.endsWith(".bin")).toList(),
                "the checkpoints before the kill, and the dead run's lock; no model");
        assertTrue(files("runs/killed/").stream().noneMatch(k -> k.startsWith(held)), "no part of the held checkpoint");

        Run resumed = dptrain(trainArgs("runs/killed", "--resume"));
        assertEquals(ExitCodes.OK, resumed.code(), resumed.err());
        String console2 = resumed.out() + resumed.err();
        assertTrue(console2.contains("took over " + s3.uri("runs/killed/" + OutputLock.FILE)), console2);
        assertTrue(resumed.out().contains("Resuming from checkpoint: epoch 1 of 2 done, 0 of ")
                && resumed.out().contains("checkpoint-e0001-b000000.json"), resumed.out());
        Map<String, byte[]> model = zipEntries(read("runs/killed/model.zip"));
        assertArrayEquals(referenceCoefficients, model.get("coefficients.bin"),
                "the resumed run's parameters differ from the uninterrupted run's");
        assertArrayEquals(referenceUpdaterState, model.get("updaterState.bin"),
                "the resumed run's optimizer state differs from the uninterrupted run's");
    }

    @Test
    void anS3EndpointWhereNothingListensIsAnEnvironmentErrorNamingIt() throws IOException {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + closed;
        Map<String, String> settings = new LinkedHashMap<>(S3Server.s3aSettings(endpoint, S3Server.ACCESS_KEY,
                S3Server.SECRET_KEY));
        // S3A retries a refused connection for about 100 s by default.
        settings.put("fs.s3a.retry.limit", "1");
        settings.put("fs.s3a.attempts.maximum", "1");
        Run run = failingRun(otherBucket(), settings);
        assertEquals(ExitCodes.ENVIRONMENT, run.code(), run.out() + run.err());
        assertTrue(run.err().contains(": cannot be opened: the S3 endpoint " + endpoint
                + " (fs.s3a.endpoint) cannot be reached (Connection refused); check fs.s3a.endpoint and that the "
                + "object store is up"), run.err());
    }

    @Test
    void credentialsTheStoreRefusesAreAnEnvironmentError() throws IOException {
        Run run = failingRun(otherBucket(), S3Server.s3aSettings(s3.endpoint(), S3Server.ACCESS_KEY, "not-the-secret"));
        assertEquals(ExitCodes.ENVIRONMENT, run.code(), run.out() + run.err());
        assertTrue(run.err().contains(": cannot be opened: the S3 endpoint " + s3.endpoint()
                + " (fs.s3a.endpoint) refused the request (") && run.err().contains("Status Code: 403")
                && run.err().contains("check the credentials (fs.s3a.access.key and fs.s3a.secret.key, or "
                + "fs.s3a.aws.credentials.provider)"), run.err());
    }

    @Test
    void aBucketThatDoesNotExistIsAnInputErrorNamingIt() throws IOException {
        String missing = otherBucket();
        Run run = failingRun(missing, s3.s3aSettings());
        assertEquals(ExitCodes.INPUT, run.code(), run.out() + run.err());
        assertTrue(run.err().contains("dptrain: error: s3a://" + missing
                + "/mnist-mlp.yaml: cannot be opened: the bucket '" + missing
                + "' does not exist; check the URI's bucket"), run.err());
    }

    /** A bucket name of its own: Hadoop keeps one s3a client per bucket, made with the settings of its first use. */
    private static String otherBucket() {
        return "other-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** A run whose --model is in {@code bucketName}, reached with {@code settings}; it fails before Spark starts. */
    private static Run failingRun(String bucketName, Map<String, String> settings) {
        List<String> args = new ArrayList<>(List.of("train", "--model", "s3a://" + bucketName + "/mnist-mlp.yaml",
                "--train", s3.uri("data/train.csv"), "--output", local.resolve("unused").toString(),
                "--master", "local[2]", "--conf", "spark.ui.enabled=false"));
        args.addAll(S3Server.flags(settings));
        return dptrain(args);
    }

    /** The exit code, stdout and stderr of one in-process run. */
    private record Run(int code, String out, String err) {
    }

    private static Run dptrain(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Dptrain.run(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    /**
     * deploy/bin/dptrain with {@code args} in a JVM of its own, with hadoop-aws, the AWS SDK and
     * the analytics accelerator added through DPTRAIN_CLASSPATH, as DEPLOY.md tells users.
     */
    private static Process startDeployedDptrain(List<String> args, Path console)
            throws IOException, URISyntaxException {
        Path repo = Path.of("").toAbsolutePath().getParent();
        List<String> command = new ArrayList<>();
        command.add(repo.resolve("deploy/bin/dptrain").toString());
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(console.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Map<String, String> env = new HashMap<>();
        env.put("DPTRAIN_CLASSPATH", String.join(":", jarOf(org.apache.hadoop.fs.s3a.S3AFileSystem.class),
                jarOf(software.amazon.awssdk.services.s3.S3Client.class),
                jarOf(software.amazon.s3.analyticsaccelerator.S3SeekableInputStreamFactory.class)));
        env.put("DPTRAIN_JAVA_OPTS", "-Xmx2g");
        env.put("DPTRAIN_JAVACPP_CACHE", System.getProperty("org.bytedeco.javacpp.cachedir",
                repo.resolve("target/javacpp-cache").toString()));
        env.put("DPTRAIN_LOG", local.resolve("killed-run.log").toString());
        builder.environment().putAll(env);
        return builder.start();
    }

    private static String jarOf(Class<?> type) throws URISyntaxException {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    /** Files (not folder markers) under {@code prefix}, relative to it, sorted. */
    private static List<String> files(String prefix) {
        return s3.keys(prefix).stream().filter(k -> !k.endsWith("/")).map(k -> k.substring(prefix.length())).toList();
    }

    private static byte[] read(String key) throws IOException {
        try (InputStream in = bucket.open(path(key))) {
            return in.readAllBytes();
        }
    }

    private static org.apache.hadoop.fs.Path path(String key) {
        return new org.apache.hadoop.fs.Path(s3.uri(key));
    }

    private static Map<String, byte[]> zipEntries(byte[] zip) throws IOException {
        Map<String, byte[]> entries = new HashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                entries.put(entry.getName(), in.readAllBytes());
            }
        }
        return entries;
    }
}
