package dptrain.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Spark standalone cluster on 127.0.0.1, started once for a test class by {@code deploy/local-cluster/start}
 * and always stopped by {@code deploy/local-cluster/stop}: after the class, and by a shutdown hook should the JVM
 * end first. Submissions go through {@code deploy/bin/dptrain-submit} as processes, as a user runs them.
 *
 * <p>Every executor and cluster-mode driver gets its own copy of the application jar (about 250 MB,
 * twice per executor with Spark's fetch cache), and a worker keeps its applications' folders; so
 * after each test the copies are deleted (the logs stay), or a test class would leave gigabytes
 * behind and a CI machine with a few GB free would run out of disk mid-run.
 */
final class LocalCluster implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration SUBMIT_TIMEOUT = Duration.ofMinutes(6);

    private final Path work;
    private final Path dir;
    private final List<String> startOptions;
    private Thread shutdownHook;
    private String masterUrl;

    /** A cluster whose folder, and the outputs of its tests, live in {@code work}. */
    LocalCluster(Path work) {
        this(work, List.of());
    }

    /** Like {@link #LocalCluster(Path)}, started with extra options of {@code deploy/local-cluster/start}. */
    LocalCluster(Path work, List<String> startOptions) {
        this.work = work.toAbsolutePath().normalize();
        this.dir = this.work.resolve("cluster");
        this.startOptions = List.copyOf(startOptions);
    }

    /** The repository's root: failsafe runs the tests in driver/. */
    static Path repo() {
        Path repo = Path.of("").toAbsolutePath().getParent();
        assertTrue(Files.isExecutable(repo.resolve("deploy/bin/dptrain-submit")), "not the repository root: " + repo);
        return repo;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        if (Files.isDirectory(dir)) {
            stop(); // a cluster left by a run that was killed before it could stop it
        }
        Scripts.deleteTree(work);
        Files.createDirectories(work);
        // For reading a failure afterwards: a full disk makes Spark's clusters stall rather than fail.
        System.out.printf("LocalCluster: %.1f GB free on the disk of %s%n",
                Files.getFileStore(work).getUsableSpace() / 1e9, work);
        shutdownHook = new Thread(this::stop, "stop the local Spark cluster");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        List<String> command = new ArrayList<>(List.of(repo().resolve("deploy/local-cluster/start").toString(), "--dir",
                dir.toString()));
        command.addAll(startOptions);
        Scripts.Run start = Scripts.run(work.resolve("start.out"), START_TIMEOUT, Map.of(), command);
        assertEquals(0, start.exitCode(), "deploy/local-cluster/start failed:\n" + start.output());
        List<String> lines = start.output().strip().lines().toList();
        masterUrl = lines.get(lines.size() - 1);
        assertTrue(masterUrl.matches("spark://127\\.0\\.0\\.1:\\d+"), "the last line of start: " + masterUrl);
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        deleteApplicationCopies();
    }

    /**
     * Deletes the copies of the application jar in the workers' folders: in each application's and
     * cluster-mode driver's work folder, and in Spark's fetch cache under the workers' local folders.
     * A JVM still running from one keeps its open file; the space comes back when it ends.
     */
    void deleteApplicationCopies() throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        // Executors that are ending delete their own folders meanwhile: what vanishes is skipped.
        Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes a)
                    throws IOException {
                String name = file.getFileName().toString();
                String path = dir.relativize(file).toString();
                if (path.startsWith("worker-") && (name.endsWith(".jar") && path.contains("/work/")
                        || name.endsWith("_cache") && path.contains("/local/"))) {
                    Files.deleteIfExists(file);
                }
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
    }

    private void stop() {
        try {
            Scripts.run(work.resolve("stop.out"), Duration.ofMinutes(1), Map.of(),
                    List.of(repo().resolve("deploy/local-cluster/stop").toString(), "--dir", dir.toString()));
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalStateException("could not stop the cluster of " + dir + "; its PIDs are in *.pid there", e);
        }
    }

    String masterUrl() {
        return masterUrl;
    }

    /** The cluster's folder: secret, logs, PIDs and the workers' work folders. */
    Path dir() {
        return dir;
    }

    /** This cluster's executor JVMs, oldest first. */
    List<ProcessHandle> executors() {
        String work = dir.toString();
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains("CoarseGrainedExecutorBackend")
                        && c.contains(work)).orElse(false))
                .sorted(java.util.Comparator.comparing(p -> p.info().startInstant().orElse(java.time.Instant.EPOCH)))
                .toList();
    }

    /**
     * The executor JVM that holds partition {@code partition} of the training minibatches in the newest
     * application, once an epoch has read them: the RDD block of that partition its log says it found
     * locally most often ("Found block rdd_N_P locally"), since every epoch reads the training
     * minibatches and nothing else is read as often.
     */
    ProcessHandle executorHolding(int partition) throws IOException {
        java.util.regex.Pattern found = java.util.regex.Pattern.compile("Found block rdd_(\\d+)_" + partition
                + " locally");
        List<Path> logs;
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            logs = files.filter(p -> p.getFileName().toString().equals("stderr")
                    && p.getParent().getParent().getFileName().toString().startsWith("app-")).toList();
        }
        String app = logs.stream().map(p -> p.getParent().getParent().getFileName().toString())
                .max(String::compareTo).orElseThrow(() -> new AssertionError("no executor log in " + dir));
        int most = 0;
        String id = null;
        for (Path log : logs) {
            if (log.getParent().getParent().getFileName().toString().equals(app)) {
                Map<String, Integer> reads = new java.util.HashMap<>();
                java.util.regex.Matcher m = found.matcher(Files.readString(log));
                while (m.find()) {
                    int n = reads.merge(m.group(1), 1, Integer::sum);
                    if (n > most) {
                        most = n;
                        id = log.getParent().getFileName().toString();
                    }
                }
            }
        }
        if (id == null) {
            throw new AssertionError("no executor of " + app + " has read a cached block of partition " + partition);
        }
        String executorId = id;
        return executors().stream().filter(p -> p.info().commandLine().map(c -> c.contains(app)
                && c.contains("--executor-id " + executorId + " ")).orElse(false)).findFirst()
                .orElseThrow(() -> new AssertionError("executor " + executorId + " of " + app + " is not running"));
    }

    /** A fresh folder for one test's files. */
    Path testFolder(String name) throws IOException {
        Path folder = work.resolve(name);
        Scripts.deleteTree(folder);
        return Files.createDirectories(folder);
    }

    /**
     * Runs {@code deploy/bin/dptrain-submit SPARK_OPTIONS APP_ARGS} with the cluster's folder (its master and secret)
     * unless {@code withSecret} is false; output and the driver's Spark log go to files in {@code folder}.
     */
    Scripts.Run submit(Path folder, boolean withSecret, Map<String, String> env, List<String> sparkOptions,
            List<String> appArgs) throws IOException {
        ProcessBuilder builder = submission(folder, withSecret, env, sparkOptions, appArgs);
        return Scripts.run(folder.resolve("submit.out"), SUBMIT_TIMEOUT, builder.environment(), builder.command(),
                List.of(dir.toString()), folder.resolve("driver.log"));
    }

    /**
     * Starts the submission of {@link #submit} without waiting for it (a client-mode submission's
     * process is the driver); its output goes to {@code folder/submit.out}.
     */
    Process start(Path folder, List<String> sparkOptions, List<String> appArgs) throws IOException {
        return submission(folder, true, Map.of(), sparkOptions, appArgs).redirectErrorStream(true)
                .redirectOutput(folder.resolve("submit.out").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
    }

    private ProcessBuilder submission(Path folder, boolean withSecret, Map<String, String> env,
            List<String> sparkOptions, List<String> appArgs) {
        List<String> command = new ArrayList<>();
        command.add(repo().resolve("deploy/bin/dptrain-submit").toString());
        if (withSecret) {
            command.addAll(List.of("--cluster-dir", dir.toString()));
        }
        command.addAll(sparkOptions);
        command.addAll(appArgs);
        Map<String, String> environment = new java.util.HashMap<>(env);
        // Driver and executors share this machine, so they share the tests' javacpp cache.
        environment.putIfAbsent("DPTRAIN_JAVACPP_CACHE", System.getProperty("org.bytedeco.javacpp.cachedir",
                repo().resolve("target/javacpp-cache").toString()));
        environment.put("DPTRAIN_LOG", folder.resolve("driver.log").toString());
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        return builder;
    }
}
