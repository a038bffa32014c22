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
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(outputFile.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        builder.environment().putAll(env);
        Process process = builder.start();
        try {
            if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
                        + "; its output so far:\n" + Files.readString(outputFile, StandardCharsets.UTF_8));
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
