package dptrain.driver.pipeline;

import dptrain.data.Example;
import dptrain.data.FeatureNormalizer;
import dptrain.data.FeatureStats;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.data.SeededPermutation;
import dptrain.driver.input.IndexedExamples;
import dptrain.spec.Normalization;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.CollectionAccumulator;
import scala.Tuple2;

/**
 * Turns indexed examples into cached, per-worker minibatches: a seeded shuffle, the split into
 * training and validation parts, normalization fitted on the training part, balanced partitions,
 * and minibatches built once.
 *
 * <p>Example {@code i} gets position {@code permutation(i)}. Validation takes positions
 * {@code [0, v)}; the training position {@code t = p - v} goes to worker {@code t % workers} at
 * place {@code t / workers}. So the order is fixed by the seed alone, partitions differ in size by
 * at most one example, and one worker sees the examples in exactly the permuted order.
 */
public final class DataPipeline {
    private final MinibatchBuilder builder;
    private final int workers;
    private final long seed;
    private final CacheMode cache;

    public DataPipeline(MinibatchBuilder builder, int workers, long seed, CacheMode cache) {
        this.builder = builder;
        this.workers = workers;
        this.seed = seed;
        this.cache = cache;
    }

    /**
     * The training and validation parts of one dataset, and the normalization fitted on the training
     * part alone (null when the spec asks for none).
     */
    public record Split(BatchedData training, BatchedData validation, FeatureNormalizer normalizer) {
    }

    /**
     * Shuffles {@code data} with the seed, holds out {@code validationFraction} of it (0 for none),
     * and fits {@code normalization} on the training part only, with a distributed aggregation.
     */
    public Split split(IndexedExamples data, double validationFraction, Normalization normalization) {
        boolean readSeveralTimes = validationFraction > 0 || normalization != Normalization.NONE;
        return whileKept(data, readSeveralTimes, () -> splitOnce(data, validationFraction, normalization));
    }

    private Split splitOnce(IndexedExamples data, double validationFraction, Normalization normalization) {
        long count = data.count();
        long validationCount = Math.round(count * validationFraction);
        SeededPermutation permutation = new SeededPermutation(count, seed);
        JavaPairRDD<Long, Example> positioned = data.examples()
                .mapToPair(e -> new Tuple2<>(permutation.apply(e._1()), e._2()));
        JavaPairRDD<Long, Example> trainingPart = positioned
                .filter(e -> e._1() >= validationCount)
                .mapToPair(e -> new Tuple2<>(e._1() - validationCount, e._2()));
        return splitInto(trainingPart, count - validationCount,
                validationCount == 0 ? null : positioned.filter(e -> e._1() < validationCount), validationCount,
                normalization);
    }

    /**
     * Like {@link #split}, but stratified by label: each class gives the same fraction of its
     * examples (rounded) to validation, chosen by the same seeded shuffle. The training part is then
     * renumbered densely in shuffled order, so its partitions stay balanced.
     */
    public Split stratifiedSplit(IndexedExamples data, double validationFraction,
            Normalization normalization) {
        return whileKept(data, true, () -> stratifiedSplitOnce(data, validationFraction, normalization));
    }

    private Split stratifiedSplitOnce(IndexedExamples data, double validationFraction,
            Normalization normalization) {
        long count = data.count();
        SeededPermutation permutation = new SeededPermutation(count, seed);
        JavaPairRDD<Long, Example> positioned = data.examples()
                .mapToPair(e -> new Tuple2<>(permutation.apply(e._1()), e._2()));
        // A few numbers per class reach the driver, never rows: class sizes, offsets in class order, quotas.
        Map<Integer, Long> perClass = new TreeMap<>(positioned.map(e -> e._2().label()).countByValue());
        Map<Integer, Long> offsets = new HashMap<>();
        Map<Integer, Long> quotas = new HashMap<>();
        long offset = 0;
        long validationCount = 0;
        for (Map.Entry<Integer, Long> c : perClass.entrySet()) {
            offsets.put(c.getKey(), offset);
            quotas.put(c.getKey(), Math.round(c.getValue() * validationFraction));
            offset += c.getValue();
            validationCount += quotas.get(c.getKey());
        }
        // The validation part keeps its shuffled positions, which lie anywhere below count.
        // Rank within the class in shuffled order: sort by (label, position), then number the rows.
        JavaPairRDD<Tuple2<Long, Example>, Long> ranked = positioned
                .mapToPair(e -> new Tuple2<>(new Tuple2<>(e._2().label(), e._1()), e))
                .sortByKey(new LabelThenPosition())
                .values()
                .zipWithIndex();
        JavaPairRDD<Long, Example> validationPart = ranked
                .filter(r -> r._2() - offsets.get(r._1()._2().label()) < quotas.get(r._1()._2().label()))
                .mapToPair(Tuple2::_1);
        JavaPairRDD<Long, Example> trainingPart = ranked
                .filter(r -> r._2() - offsets.get(r._1()._2().label()) >= quotas.get(r._1()._2().label()))
                .mapToPair(Tuple2::_1)
                .sortByKey()
                .values()
                .zipWithIndex()
                .mapToPair(Tuple2::swap);
        return splitInto(trainingPart, count - validationCount, validationPart, count, normalization);
    }

    /**
     * Runs {@code work}, which reads {@code data} several times (a normalization fit, the training
     * and validation shuffles, class counts), with the examples kept rather than decoded from the
     * files again for each read. Examples the read already keeps ({@link IndexedExamples#kept}) or a caller
     * keeps (cross-validation) are read from there; others are kept here for the split's duration, since its
     * minibatches are materialized by then.
     */
    private static Split whileKept(IndexedExamples data, boolean readSeveralTimes,
            java.util.function.Supplier<Split> work) {
        JavaPairRDD<Long, Example> examples = data.examples();
        boolean keep = readSeveralTimes && !data.kept() && examples.getStorageLevel().equals(StorageLevel.NONE());
        if (keep) {
            examples.persist(StorageLevel.MEMORY_AND_DISK());
        }
        try {
            return work.get();
        } finally {
            if (keep) {
                examples.unpersist(false);
            }
        }
    }

    /** Orders (label, position) keys by label, then position. */
    private static final class LabelThenPosition implements Comparator<Tuple2<Integer, Long>>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public int compare(Tuple2<Integer, Long> a, Tuple2<Integer, Long> b) {
            int byLabel = Integer.compare(a._1(), b._1());
            return byLabel != 0 ? byLabel : Long.compare(a._2(), b._2());
        }
    }

    /**
     * Fits the normalization on the training part alone and batches both parts (validation may be null), each
     * holding distinct positions below its bound.
     */
    private Split splitInto(JavaPairRDD<Long, Example> trainingPart, long trainingBound,
            JavaPairRDD<Long, Example> validationPart, long validationBound, Normalization normalization) {
        FeatureNormalizer normalizer = null;
        MinibatchBuilder batchBuilder = builder;
        if (normalization != Normalization.NONE) {
            float scale = builder.scale();
            // One small summary per partition, merged in partition order: the same bits however tasks finish.
            List<FeatureStats> perPartition = trainingPart.values().mapPartitions(rows -> {
                FeatureStats partial = FeatureStats.empty();
                while (rows.hasNext()) {
                    partial = partial.add(rows.next().features(), scale);
                }
                return List.of(partial).iterator();
            }, true).collect();
            FeatureStats stats = FeatureStats.empty();
            for (FeatureStats partial : perPartition) {
                stats = stats.merge(partial);
            }
            normalizer = FeatureNormalizer.fit(normalization, stats);
            batchBuilder = builder.withNormalizer(normalizer);
        }
        BatchedData training = batch(trainingPart, trainingBound, batchBuilder);
        BatchedData validation = validationPart == null ? null : batch(validationPart, validationBound, batchBuilder);
        return new Split(training, validation, normalizer);
    }

    /**
     * Fold {@code fold} of {@code folds} for cross-validation: the example at permuted position
     * {@code p} is held out in fold {@code p % folds}, so folds are disjoint, cover the data and
     * differ in size by at most one. The other folds train, with {@code normalization} fitted on
     * them alone; the held-out fold is the validation part.
     */
    public Split fold(IndexedExamples data, int fold, int folds, Normalization normalization) {
        long count = data.count();
        long heldOutCount = (count - fold + folds - 1) / folds;
        SeededPermutation permutation = new SeededPermutation(count, seed);
        JavaPairRDD<Long, Example> positioned = data.examples()
                .mapToPair(e -> new Tuple2<>(permutation.apply(e._1()), e._2()));
        // Training positions stay dense: subtract the held-out positions below p.
        JavaPairRDD<Long, Example> trainingPart = positioned
                .filter(e -> e._1() % folds != fold)
                .mapToPair(e -> new Tuple2<>(e._1() - (e._1() + folds - 1 - fold) / folds, e._2()));
        JavaPairRDD<Long, Example> heldOut = positioned
                .filter(e -> e._1() % folds == fold)
                .mapToPair(e -> new Tuple2<>(e._1() / folds, e._2()));
        return splitInto(trainingPart, count - heldOutCount, heldOut, heldOutCount, normalization);
    }

    /**
     * Batches a dataset used only for evaluation (e.g. the test set), in file order, normalized with
     * what was fitted on the training data (null for none).
     */
    public BatchedData evaluationBatches(IndexedExamples data, FeatureNormalizer fitted) {
        return batch(data.examples(), data.count(), fitted == null ? builder : builder.withNormalizer(fitted));
    }

    /**
     * Batches examples at distinct positions below {@code bound}: position {@code t} goes to partition
     * {@code t % workers}, in increasing {@code t}.
     */
    private BatchedData batch(JavaPairRDD<Long, Example> positioned, long bound, MinibatchBuilder batchBuilder) {
        JavaRDD<Example> inWorkerOrder = BalancedShuffle.inWorkerOrder(positioned, bound, workers,
                batchBuilder.featureCount());
        CollectionAccumulator<long[]> tallies = cache == CacheMode.NONE ? null
                : positioned.context().collectionAccumulator("dptrain minibatch sizes");
        JavaRDD<Minibatch> batches = cache == CacheMode.NONE
                ? inWorkerOrder.mapPartitions(batchBuilder::batches, true)
                : inWorkerOrder.mapPartitionsWithIndex((index, examples) -> new Tallied(index,
                        batchBuilder.batches(examples), tallies), true).persist(cache.storageLevel());
        // One job materializes the cache (and the shuffle files) and tells the driver each partition's size.
        List<long[]> sizes;
        try {
            sizes = cache == CacheMode.NONE ? countPerPartition(batches) : storedSizes(batches, tallies);
        } catch (Exception e) {
            // A failed job (bad data met while shuffling, a lost input) leaves no half-made cache behind. Spark's job
            // failures are SparkExceptions, checked but thrown unchecked from Scala.
            if (!batches.context().isStopped()) {
                // A stopped Spark has dropped it already, and cannot be asked.
                batches.unpersist(false);
            }
            throw e;
        }
        long[] examplesPerPartition = new long[workers];
        int[] batchesPerPartition = new int[workers];
        for (long[] size : sizes) {
            examplesPerPartition[(int) size[0]] = size[1];
            batchesPerPartition[(int) size[0]] = (int) size[2];
        }
        return new BatchedData(batches, examplesPerPartition, batchesPerPartition);
    }

    /**
     * Stores every partition of the kept {@code batches} and returns the sizes {@link Tallied} counted on their way
     * into the store. Counting them by reading them would read the whole copy back once more: Spark hands a partition
     * it has just stored back as read from the store, which for {@code --cache disk} means from disk. Here the job's
     * tasks leave that read unopened. A partition not stored (memory too small for it) or not tallied exactly once
     * is counted by reading, as a fallback.
     */
    private List<long[]> storedSizes(JavaRDD<Minibatch> batches, CollectionAccumulator<long[]> tallies) {
        batches.foreachPartition(storedAndHandedBack -> {
        });
        List<long[]> sizes = tallies.value();
        boolean[] seen = new boolean[workers];
        int distinct = 0;
        for (long[] size : sizes) {
            int partition = (int) size[0];
            if (partition >= 0 && partition < workers && !seen[partition]) {
                seen[partition] = true;
                distinct++;
            }
        }
        return distinct == workers && sizes.size() == workers ? sizes : countPerPartition(batches);
    }

    /** A partition's minibatches, passed on unchanged; once they are all passed, their count joins the tallies. */
    private static final class Tallied implements Iterator<Minibatch> {
        private final int partition;
        private final Iterator<Minibatch> batches;
        private final CollectionAccumulator<long[]> tallies;
        private long examples;
        private int count;
        private boolean tallied;

        Tallied(int partition, Iterator<Minibatch> batches, CollectionAccumulator<long[]> tallies) {
            this.partition = partition;
            this.batches = batches;
            this.tallies = tallies;
        }

        @Override
        public boolean hasNext() {
            boolean more = batches.hasNext();
            if (!more && !tallied) {
                tallied = true;
                tallies.add(new long[] {partition, examples, count});
            }
            return more;
        }

        @Override
        public Minibatch next() {
            Minibatch batch = batches.next();
            examples += batch.rows();
            count++;
            return batch;
        }
    }

    /** Each partition's index, examples and minibatches. */
    private static List<long[]> countPerPartition(JavaRDD<Minibatch> batches) {
        return batches.mapPartitionsWithIndex((index, it) -> {
            long examples = 0;
            int count = 0;
            while (it.hasNext()) {
                examples += it.next().rows();
                count++;
            }
            List<long[]> one = new ArrayList<>();
            one.add(new long[] {index, examples, count});
            return one.iterator();
        }, true).collect();
    }
}
