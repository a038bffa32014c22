package dptrain.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Where a submission that timed out was stuck: thread dumps ({@code jstack}) of its JVMs and of the
 * cluster's JVMs that belong to it, so that a hang on a CI machine can be read afterwards instead of
 * guessed at. The whole dumps go to a file; the failure's message gets the threads that matter (the
 * main thread, task threads and any thread in dptrain's code), a few frames each.
 */
final class StuckProcesses {
    private static final int FRAMES = 14;
    private static final int MAX_SUMMARY = 12_000;
    private static final int LOG_LINES = 40;

    private StuckProcesses() {
    }

    /** The summary for a failure message; the whole dumps are written to {@code dumps}. */
    static String describe(ProcessHandle root, List<String> related, Path dumps, Path log) {
        Map<Long, String> jvms = new LinkedHashMap<>();
        Stream.concat(Stream.of(root), root.descendants()).forEach(p -> javaCommand(p).ifPresent(c -> jvms.put(p.pid(), c)));
        ProcessHandle.allProcesses().forEach(p -> javaCommand(p)
                .filter(c -> related.stream().anyMatch(c::contains)).ifPresent(c -> jvms.putIfAbsent(p.pid(), c)));
        StringBuilder whole = new StringBuilder();
        StringBuilder summary = new StringBuilder("\n--- where it was stuck (whole thread dumps in " + dumps + ") ---\n");
        for (Map.Entry<Long, String> jvm : jvms.entrySet()) {
            String dump = jstack(jvm.getKey());
            whole.append("=== PID ").append(jvm.getKey()).append(": ").append(jvm.getValue()).append('\n').append(dump)
                    .append('\n');
            summary.append("PID ").append(jvm.getKey()).append(' ').append(mainClass(jvm.getValue())).append('\n');
            for (String thread : threads(dump)) {
                if (matters(thread)) {
                    thread.lines().limit(FRAMES).forEach(line -> summary.append("  ").append(line.strip()).append('\n'));
                }
            }
        }
        try {
            Files.writeString(dumps, whole.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            summary.append("(could not write the dumps: ").append(e).append(")\n");
        }
        if (log != null && Files.isRegularFile(log)) {
            try {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                summary.append("--- the last ").append(Math.min(LOG_LINES, lines.size())).append(" lines of ").append(log)
                        .append(" ---\n");
                lines.subList(Math.max(0, lines.size() - LOG_LINES), lines.size())
                        .forEach(line -> summary.append(line).append('\n'));
            } catch (IOException e) {
                summary.append("(could not read ").append(log).append(": ").append(e).append(")\n");
            }
        }
        return summary.length() <= MAX_SUMMARY ? summary.toString()
                : summary.substring(0, MAX_SUMMARY) + "\n... (cut; see " + dumps + ")\n";
    }

    private static java.util.Optional<String> javaCommand(ProcessHandle p) {
        return p.info().commandLine().filter(c -> c.contains("java") && (c.contains("-cp") || c.contains("-classpath")));
    }

    private static String mainClass(String commandLine) {
        for (String known : List.of("CoarseGrainedExecutorBackend", "DriverWrapper", "SparkSubmit", "deploy.worker.Worker",
                "deploy.master.Master")) {
            if (commandLine.contains(known)) {
                return known;
            }
        }
        return commandLine.length() > 120 ? commandLine.substring(0, 120) + "..." : commandLine;
    }

    private static boolean matters(String thread) {
        String name = thread.lines().findFirst().orElse("");
        return name.startsWith("\"main\"") || name.contains("Executor task launch") || thread.contains("dptrain.");
    }

    /** A dump's threads, each its header line and frames. */
    private static List<String> threads(String dump) {
        List<String> threads = new ArrayList<>();
        for (String block : dump.split("\n\\s*\n")) {
            if (block.startsWith("\"")) {
                threads.add(block);
            }
        }
        return threads;
    }

    private static String jstack(long pid) {
        Path jstack = Path.of(System.getProperty("java.home"), "bin", "jstack");
        try {
            Process p = new ProcessBuilder(jstack.toString(), String.valueOf(pid)).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(jstack failed: " + e + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted)";
        }
    }
}
