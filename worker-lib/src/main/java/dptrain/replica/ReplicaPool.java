package dptrain.replica;

import dptrain.spec.ModelSpec;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

/**
 * Replica networks kept on an executor for the whole job, so a round costs a state load and not
 * a network build. A task borrows a replica and gives it back; concurrent tasks (local[N], or a
 * speculative copy) never share one. Replicas of an earlier job are dropped when a new job starts.
 */
public final class ReplicaPool {
    private static final Map<String, ConcurrentLinkedQueue<ReplicaTrainer>> IDLE = new ConcurrentHashMap<>();

    private ReplicaPool() {
    }

    /** Runs {@code work} with an idle replica of job {@code jobId}, building one when none is idle. */
    public static <T> T withReplica(String jobId, ModelSpec spec, Function<ReplicaTrainer, T> work) {
        ConcurrentLinkedQueue<ReplicaTrainer> idle = IDLE.get(jobId);
        if (idle == null) {
            IDLE.keySet().removeIf(other -> !other.equals(jobId));
            idle = IDLE.computeIfAbsent(jobId, id -> new ConcurrentLinkedQueue<>());
        }
        ReplicaTrainer replica = idle.poll();
        if (replica == null) {
            replica = new ReplicaTrainer(spec);
        }
        try {
            return work.apply(replica);
        } finally {
            idle.offer(replica);
        }
    }

    /** Drops the replicas of {@code jobId}, e.g. when the job ends in this JVM. */
    public static void release(String jobId) {
        IDLE.remove(jobId);
    }
}
