package dptrain.sparkstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.files.EnvironmentException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.Success$;
import org.apache.spark.TaskState;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.TaskInfo;
import org.apache.spark.scheduler.TaskLocality;
import org.junit.jupiter.api.Test;

/**
 * Executors that fail as they start, over and over (a worker's full disk), end the run with one
 * sentence instead of a job that waits forever; executors lost for other reasons, or failures
 * with finished tasks between them, do not.
 */
class ExecutorStartWatchTest {
    private static final String MASTER = "spark://127.0.0.1:7077";
    private static final String DISK_FULL = "Unable to create executor due to /w/worker-2/local/spark-1/executor-2/"
            + "spark-3/-1347_cache: No space left on device";

    private static SparkListenerExecutorRemoved removed(int id, String reason) {
        return new SparkListenerExecutorRemoved(0L, String.valueOf(id), reason);
    }

    private static SparkListenerTaskEnd finishedTask() {
        TaskInfo info = new TaskInfo(1L, 0, 0, 0, 0L, "1", "127.0.0.1", TaskLocality.PROCESS_LOCAL(), false);
        info.markFinished(TaskState.FINISHED(), 1L);
        return new SparkListenerTaskEnd(0, 0, "ResultTask", Success$.MODULE$, info, null, null);
    }

    @Test
    void fourExecutorsInARowThatCannotStartCancelTheJobsOnceAndNameTheCause() {
        AtomicInteger cancels = new AtomicInteger();
        ExecutorStartWatch watch = new ExecutorStartWatch(MASTER, cancels::incrementAndGet);
        for (int id = 1; id < ExecutorStartWatch.LIMIT; id++) {
            watch.onExecutorRemoved(removed(id, DISK_FULL));
        }
        RuntimeException cause = new RuntimeException("Job 3 cancelled");
        assertFalse(watch.failure(cause).isPresent(), "three failures are not yet the limit");
        assertEquals(0, cancels.get());
        watch.onExecutorRemoved(removed(4, DISK_FULL));
        watch.onExecutorRemoved(removed(5, DISK_FULL));
        assertEquals(1, cancels.get(), "the jobs are cancelled once");
        EnvironmentException failure = watch.failure(cause).orElseThrow();
        assertSame(cause, failure.getCause());
        assertEquals("the executors of " + MASTER + " cannot start: 4 in a row failed as they started, the last "
                + "(executor 4) with \"" + DISK_FULL + "\"; free disk space on the workers (their work and local "
                + "folders, SPARK_WORKER_DIR and SPARK_LOCAL_DIRS, hold each executor's copy of the application jar), "
                + "then run again", failure.getMessage());
    }

    @Test
    void aFinishedTaskBetweenFailuresStartsTheCountAgain() {
        AtomicInteger cancels = new AtomicInteger();
        ExecutorStartWatch watch = new ExecutorStartWatch(MASTER, cancels::incrementAndGet);
        for (int round = 0; round < 3; round++) {
            for (int i = 1; i < ExecutorStartWatch.LIMIT; i++) {
                watch.onExecutorRemoved(removed(round * 10 + i, DISK_FULL));
            }
            watch.onTaskEnd(finishedTask());
        }
        assertEquals(0, cancels.get());
        assertFalse(watch.failure(null).isPresent());
    }

    @Test
    void executorsLostForOtherReasonsAreNotStartFailures() {
        AtomicInteger cancels = new AtomicInteger();
        ExecutorStartWatch watch = new ExecutorStartWatch(MASTER, cancels::incrementAndGet);
        for (int id = 1; id <= 10; id++) {
            watch.onExecutorRemoved(removed(id, id % 2 == 0 ? "Command exited with code 137"
                    : "Executor heartbeat timed out after 120000 ms"));
        }
        assertEquals(0, cancels.get());
        assertFalse(watch.failure(null).isPresent());
    }

    @Test
    void anotherCauseGetsGeneralAdvice() {
        ExecutorStartWatch watch = new ExecutorStartWatch(MASTER, () -> { });
        for (int id = 1; id <= ExecutorStartWatch.LIMIT; id++) {
            watch.onExecutorRemoved(removed(id, "Unable to create executor due to Cannot allocate memory"));
        }
        String message = watch.failure(null).orElseThrow().getMessage();
        assertTrue(message.endsWith("; check the workers' disks and memory and the executor settings "
                + "(spark.executor.*), then run again"), message);
    }
}
