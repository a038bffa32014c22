package dptrain.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Runs the project's scripts as processes, their output in a file, within a time limit. */
final class Scripts {
    private Scripts() {
    }

    /** A finished process: its exit code and everything it printed (stdout and stderr, interleaved). */
    record Run(int exitCode, String output) {
    }

    /** Runs {@code command} with {@code env} added to this JVM's environment; output goes to {@code outputFile}. */
    static Run run(Path outputFile, Duration timeout, Map<String, String> env, List<String> command) throws IOException {
        return run(outputFile, timeout, env, command, List.of(), null);
    }

    /**
     * Like {@link #run(Path, Duration, Map, List)}; should the command not finish in time, the
     * failure also shows where it was stuck: the threads of its own JVMs and of the JVMs whose
     * command line contains one of {@code related} (a cluster's executors and drivers), dumped whole
     * into {@code outputFile}'s sibling {@code thread-dumps.txt}, and the last lines of {@code log}.
     * Those executors and drivers are then killed with it.
     */
    static Run run(Path outputFile, Duration timeout, Map<String, String> env, List<String> command,
            List<String> related, Path log) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(outputFile.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        builder.environment().putAll(env);
        Process process = builder.start();
        try {
            if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                String stuck = StuckProcesses.describe(process.toHandle(), related,
                        outputFile.resolveSibling("thread-dumps.txt"), log);
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                // Its executors and cluster-mode driver too, or they would hold the cluster's cores from the next test.
                ProcessHandle.allProcesses().filter(p -> p.info().commandLine().map(c -> related.stream()
                        .anyMatch(c::contains) && (c.contains("CoarseGrainedExecutorBackend")
                                || c.contains("DriverWrapper"))).orElse(false))
                        .forEach(ProcessHandle::destroyForcibly);
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
                        + "; its output so far:\n" + Files.readString(outputFile, StandardCharsets.UTF_8) + stuck);
            }
        } catch (InterruptedException e) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + command.get(0), e);
        }
        return new Run(process.exitValue(), Files.readString(outputFile, StandardCharsets.UTF_8));
    }

    /** Deletes {@code dir} and everything in it, if it exists. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
