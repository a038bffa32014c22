package dptrain.driver.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.status.api.v1.ExecutorSummary;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockManagerId;
import org.apache.spark.storage.BlockManagerMaster;
import org.apache.spark.storage.RDDBlockId;
import org.apache.spark.storage.StorageLevel;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Keeps each partition's cached minibatches on an executor with a task slot for it.
 *
 * <p>Every round (or an epoch's job) runs one task per partition at once, each where its block is
 * cached. When an executor is lost, Spark rebuilds its partitions wherever a slot is free at that
 * moment, which can be an executor that already holds another partition's block. From then on, every
 * epoch, one of the two tasks waits out {@code spark.locality.wait} (3 s by default) for a slot that
 * its neighbour holds, then runs elsewhere and reads its block over the network: measured on the
 * local cluster, 8-11 s per epoch instead of 6 (BENCHMARKS.md). Spark never moves a cached block to
 * where it is read. So at the start of an epoch, a block crowded onto a full executor is dropped, and
 * the epoch's task rebuilds it once where it runs: the same minibatches, in the same order, since a
 * partition is a pure function of the files and the seed.
 */
public final class CachePlacement {
    private static final Duration REMOVAL_WAIT = Duration.ofSeconds(10);

    private CachePlacement() {
    }

    /** A cached block on an executor: which partition, where. */
    record Holder(int partition, String executor, String host) {
    }

    /**
     * Spreads {@code data}'s cached blocks over the executors: drops each block whose executors have
     * no task slot left for it, when the cluster has a slot for every partition. Returns what it did,
     * e.g. for the console, or empty when nothing needed moving.
     *
     * @param what the data's name in the notice, e.g. "training"
     */
    public static Optional<String> spread(JavaSparkContext jsc, BatchedData data, String what) {
        StorageLevel level = data.batches().getStorageLevel();
        if (jsc.isLocal() || level.equals(StorageLevel.NONE())) {
            return Optional.empty(); // one JVM: every block is local to every task
        }
        Map<String, Integer> slots = taskSlots(jsc);
        int partitions = data.batches().getNumPartitions();
        int rdd = data.batches().id();
        BlockManagerMaster master = SparkEnv.get().blockManager().master();
        List<List<Holder>> holders = new ArrayList<>();
        BlockId[] ids = new BlockId[partitions];
        for (int p = 0; p < partitions; p++) {
            ids[p] = new RDDBlockId(rdd, p);
        }
        List<scala.collection.immutable.Seq<BlockManagerId>> locations = CollectionConverters.asJava(
                master.getLocations(ids));
        for (int p = 0; p < partitions; p++) {
            List<Holder> of = new ArrayList<>();
            for (BlockManagerId id : CollectionConverters.asJava(locations.get(p))) {
                of.add(new Holder(p, id.executorId(), id.host()));
            }
            holders.add(of);
        }
        List<Holder> crowded = crowded(holders, slots);
        if (crowded.isEmpty()) {
            return Optional.empty();
        }
        for (Holder h : crowded) {
            master.removeBlock(ids[h.partition()]);
        }
        awaitRemoval(master, ids, crowded);
        List<String> parts = new ArrayList<>();
        for (Holder h : crowded) {
            parts.add(String.format(Locale.ROOT, "partition %d's cached %s minibatches were on executor %s (%s) "
                    + "beside %s, with no task slot left for them", h.partition(), what, h.executor(), h.host(),
                    neighbours(holders, h)));
        }
        return Optional.of(String.join("; ", parts) + ": dropped, to be rebuilt once where their task runs instead "
                + "of read over the network after a locality wait every epoch");
    }

    /**
     * The blocks to drop: partitions are seated in order on an executor that holds their block and
     * has a task slot left; a partition whose holders are all full is crowded. Nothing is crowded
     * when the executors have fewer slots than there are partitions (then tasks wait for slots
     * anyway, and a remote read beats a rebuild). Only the first holder of a crowded partition is
     * named; all its copies go.
     */
    static List<Holder> crowded(List<List<Holder>> holders, Map<String, Integer> slots) {
        int total = slots.values().stream().mapToInt(Integer::intValue).sum();
        if (total < holders.size()) {
            return List.of();
        }
        Map<String, Integer> free = new HashMap<>(slots);
        List<Holder> crowded = new ArrayList<>();
        for (List<Holder> of : holders) {
            Holder seat = null;
            for (Holder h : of) {
                if (free.getOrDefault(h.executor(), 0) > 0 && (seat == null
                        || free.get(h.executor()) > free.get(seat.executor()))) {
                    seat = h;
                }
            }
            if (seat != null) {
                free.merge(seat.executor(), -1, Integer::sum);
            } else if (!of.isEmpty()) {
                crowded.add(of.get(0));
            }
        }
        return crowded;
    }

    private static String neighbours(List<List<Holder>> holders, Holder crowded) {
        Set<Integer> beside = new LinkedHashSet<>();
        for (List<Holder> of : holders) {
            for (Holder h : of) {
                if (h.executor().equals(crowded.executor()) && h.partition() != crowded.partition()) {
                    beside.add(h.partition());
                }
            }
        }
        return beside.size() == 1 ? "partition " + beside.iterator().next() + "'s"
                : "those of partitions " + beside.toString().replaceAll("[\\[\\]]", "");
    }

    /** Task slots of each live executor: its cores divided by {@code spark.task.cpus}. */
    private static Map<String, Integer> taskSlots(JavaSparkContext jsc) {
        int taskCpus = Math.max(1, jsc.getConf().getInt("spark.task.cpus", 1));
        Map<String, Integer> slots = new HashMap<>();
        for (ExecutorSummary e : CollectionConverters.asJava(jsc.sc().statusStore().executorList(true))) {
            if (!"driver".equals(e.id())) {
                slots.put(e.id(), e.totalCores() / taskCpus);
            }
        }
        return slots;
    }

    /**
     * Waits (briefly) until the master no longer lists the dropped blocks where they were, so that the
     * next job does not prefer an executor that is about to lose them. Correctness does not depend on
     * it: a task that finds its block gone rebuilds it.
     */
    private static void awaitRemoval(BlockManagerMaster master, BlockId[] ids, List<Holder> dropped) {
        long deadline = System.nanoTime() + REMOVAL_WAIT.toNanos();
        for (Holder h : dropped) {
            while (!master.getLocations(ids[h.partition()]).isEmpty() && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
