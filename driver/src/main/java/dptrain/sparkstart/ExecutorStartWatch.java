package dptrain.sparkstart;

import dptrain.driver.files.EnvironmentException;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Executors that register and then fail to start, one after another: Spark's executor reports
 * "Unable to create executor due to …" (a worker's disk full, an executor option it cannot apply)
 * and the standalone master launches the next, which fails the same way. Spark goes on doing that
 * for as long as the application lives, so a job waits forever and the console says nothing. After
 * {@value #LIMIT} such failures in a row, with no task finished in between, this cancels the
 * application's jobs and keeps the reason, which the command then reports as an environment
 * failure naming the master and the executors' last words.
 */
public final class ExecutorStartWatch extends SparkListener {
    /** Start failures in a row that end the run: as many as Spark allows a task's attempts (spark.task.maxFailures). */
    static final int LIMIT = 4;
    private static final String CANNOT_START = "Unable to create executor";

    private final String master;
    private final Runnable cancelJobs;
    private final AtomicInteger inARow = new AtomicInteger();
    private final AtomicReference<String> failure = new AtomicReference<>();

    /** A watch of the application on {@code master}; {@code cancelJobs} ends the jobs under way. */
    ExecutorStartWatch(String master, Runnable cancelJobs) {
        this.master = master;
        this.cancelJobs = cancelJobs;
    }

    /** A watch of {@code jsc}'s application, listening from now on; none for local mode, which has no executors to start. */
    public static Optional<ExecutorStartWatch> attach(org.apache.spark.api.java.JavaSparkContext jsc) {
        if (jsc.isLocal()) {
            return Optional.empty();
        }
        ExecutorStartWatch watch = new ExecutorStartWatch(jsc.master(), () -> jsc.sc().cancelAllJobs());
        jsc.sc().addSparkListener(watch);
        return Optional.of(watch);
    }

    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
        String reason = removed.reason() == null ? "" : removed.reason();
        if (!reason.startsWith(CANNOT_START)) {
            return;
        }
        int n = inARow.incrementAndGet();
        if (n >= LIMIT && failure.compareAndSet(null, sentence(n, removed.executorId(), reason))) {
            cancelJobs.run();
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
        if (taskEnd.taskInfo() != null && taskEnd.taskInfo().successful()) {
            inARow.set(0);
        }
    }

    /** The environment failure, once executors have failed to start {@value #LIMIT} times in a row. */
    public Optional<EnvironmentException> failure(Throwable cause) {
        String sentence = failure.get();
        return sentence == null ? Optional.empty() : Optional.of(new EnvironmentException(sentence, cause));
    }

    private String sentence(int n, String executorId, String reason) {
        String lastWords = reason.replaceAll("\\s+", " ").trim();
        boolean diskFull = lastWords.toLowerCase(Locale.ROOT).contains("no space left on device");
        return String.format(Locale.ROOT, "the executors of %s cannot start: %d in a row failed as they started, the "
                + "last (executor %s) with \"%s\"; %s, then run again", master, n, executorId, lastWords, diskFull
                ? "free disk space on the workers (their work and local folders, SPARK_WORKER_DIR and "
                        + "SPARK_LOCAL_DIRS, hold each executor's copy of the application jar)"
                : "check the workers' disks and memory and the executor settings (spark.executor.*)");
    }
}
