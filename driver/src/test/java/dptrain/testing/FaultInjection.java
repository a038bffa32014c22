package dptrain.testing;

import dptrain.driver.rounds.RoundTaskHook;
import java.io.IOException;
import java.io.Serializable;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;

/**
 * A round-task hook that makes chosen training tasks fail or stall on their first attempt, to show
 * that retries and speculative copies change nothing. A test turns it on with {@link #enable} (or
 * {@code spark.dptrain.test.roundTaskHook=dptrain.testing.FaultInjection}, with this class on the
 * executors' classpath) and chooses the tasks with:
 * <ul>
 *   <li>{@code spark.dptrain.test.failFirstAttempt=E:R:P,...}: the task of epoch E, round R (both
 *       1-based), partition P throws after training, on its first attempt only;</li>
 *   <li>{@code spark.dptrain.test.slowFirstAttempt=E:R:P:MILLIS,...}: that task sleeps MILLIS before
 *       training, on its first attempt only (a straggler for {@code spark.speculation}).</li>
 * </ul>
 */
public final class FaultInjection implements RoundTaskHook, Serializable {
    private static final long serialVersionUID = 1L;
    static final String FAIL_KEY = "spark.dptrain.test.failFirstAttempt";
    static final String SLOW_KEY = "spark.dptrain.test.slowFirstAttempt";

    /** Failures injected in this JVM (tasks in local mode run in the test's JVM). */
    private static final AtomicInteger INJECTED = new AtomicInteger();

    private final Map<String, Boolean> failures;
    private final Map<String, Long> delays;

    /** How many failures this JVM's tasks have had injected so far. */
    public static int injectedFailures() {
        return INJECTED.get();
    }

    /**
     * A jar holding this class, for {@code spark-submit --jars}: on a cluster the hook must be loaded
     * with the application's classes, which a class-path entry of the executors' JVM cannot see.
     */
    public static Path jar(Path folder) throws IOException {
        Path classes;
        try {
            classes = Path.of(FaultInjection.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        String prefix = FaultInjection.class.getName().replace('.', '/');
        Path jar = folder.resolve("fault-injection.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
                Stream<Path> files = Files.walk(classes.resolve("dptrain/testing"))) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = classes.relativize(file).toString().replace('\\', '/');
                if (name.startsWith(prefix) && name.endsWith(".class")) {
                    out.putNextEntry(new JarEntry(name));
                    out.write(Files.readAllBytes(file));
                    out.closeEntry();
                }
            }
        }
        return jar;
    }

    /** The Spark settings that turn this hook on: its class as the round-task hook. */
    public static String enable() {
        return RoundTaskHook.CLASS_KEY + "=" + FaultInjection.class.getName();
    }

    /** Reads the tasks to fail or stall from {@code conf}; {@link RoundTaskHook#current} calls it in each task. */
    public FaultInjection(SparkConf conf) {
        Map<String, Boolean> failures = new HashMap<>();
        for (String task : conf.get(FAIL_KEY, "").split(",")) {
            if (!task.isBlank()) {
                failures.put(task.trim(), true);
            }
        }
        Map<String, Long> delays = new HashMap<>();
        for (String task : conf.get(SLOW_KEY, "").split(",")) {
            if (!task.isBlank()) {
                int last = task.trim().lastIndexOf(':');
                delays.put(task.trim().substring(0, last), Long.parseLong(task.trim().substring(last + 1)));
            }
        }
        this.failures = failures;
        this.delays = delays;
    }

    /** Before the replica trains: stalls a chosen task's first attempt. */
    @Override
    public void beforeTraining(int epoch, int round, int partition) {
        Long millis = delays.get(epoch + ":" + round + ":" + partition);
        if (millis != null && firstAttempt()) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                // A speculative copy won and Spark killed this attempt.
                Thread.currentThread().interrupt();
            }
        }
    }

    /** After the replica trained: fails a chosen task's first attempt. */
    @Override
    public void afterTraining(int epoch, int round, int partition) {
        if (failures.containsKey(epoch + ":" + round + ":" + partition) && firstAttempt()) {
            INJECTED.incrementAndGet();
            throw new IllegalStateException("injected failure of epoch " + epoch + " round " + round + " partition "
                    + partition + " (test hook " + FAIL_KEY + ")");
        }
    }

    private static boolean firstAttempt() {
        TaskContext context = TaskContext.get();
        // A barrier stage (an epoch's rounds in one job) is retried as a new stage attempt whose
        // tasks count their attempts from 0 again.
        return context != null && context.attemptNumber() == 0 && context.stageAttemptNumber() == 0;
    }
}
