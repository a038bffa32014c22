package dptrain.driver;

import dptrain.data.Example;
import dptrain.data.FeatureNormalizer;
import dptrain.data.FeatureStats;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.data.SeededPermutation;
import dptrain.spec.Normalization;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;
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

    public DataPipeline(MinibatchBuilder builder, int workers, long seed) {
        this.builder = builder;
        this.workers = workers;
        this.seed = seed;
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
    public Split split(ExampleSource.IndexedExamples data, double validationFraction, Normalization normalization) {
        long count = data.count();
        long validationCount = Math.round(count * validationFraction);
        SeededPermutation permutation = new SeededPermutation(count, seed);
        JavaPairRDD<Long, Example> positioned = data.examples()
                .mapToPair(e -> new Tuple2<>(permutation.apply(e._1()), e._2()));
        JavaPairRDD<Long, Example> trainingPart = positioned
                .filter(e -> e._1() >= validationCount)
                .mapToPair(e -> new Tuple2<>(e._1() - validationCount, e._2()));
        FeatureNormalizer normalizer = null;
        MinibatchBuilder batchBuilder = builder;
        if (normalization != Normalization.NONE) {
            float scale = builder.scale();
            FeatureStats stats = trainingPart.values().treeAggregate(FeatureStats.empty(),
                    (s, e) -> s.add(e.features(), scale), FeatureStats::merge);
            normalizer = FeatureNormalizer.fit(normalization, stats);
            batchBuilder = builder.withNormalizer(normalizer);
        }
        BatchedData training = batch(trainingPart, batchBuilder);
        BatchedData validation = validationCount == 0 ? null
                : batch(positioned.filter(e -> e._1() < validationCount), batchBuilder);
        return new Split(training, validation, normalizer);
    }

    /**
     * Batches a dataset used only for evaluation (e.g. the test set), in file order, normalized with
     * what was fitted on the training data (null for none).
     */
    public BatchedData evaluationBatches(ExampleSource.IndexedExamples data, FeatureNormalizer fitted) {
        return batch(data.examples(), fitted == null ? builder : builder.withNormalizer(fitted));
    }

    private BatchedData batch(JavaPairRDD<Long, Example> positioned, MinibatchBuilder batchBuilder) {
        JavaRDD<Minibatch> batches = positioned
                .repartitionAndSortWithinPartitions(new ModuloPartitioner(workers))
                .mapPartitions(rows -> batchBuilder.batches(values(rows)), true)
                .persist(StorageLevel.MEMORY_ONLY());
        // One small job materializes the cache and tells the driver each partition's size.
        List<long[]> sizes = batches.mapPartitionsWithIndex((index, it) -> {
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
        long[] examplesPerPartition = new long[workers];
        int[] batchesPerPartition = new int[workers];
        for (long[] size : sizes) {
            examplesPerPartition[(int) size[0]] = size[1];
            batchesPerPartition[(int) size[0]] = (int) size[2];
        }
        return new BatchedData(batches, examplesPerPartition, batchesPerPartition);
    }

    private static Iterator<Example> values(Iterator<Tuple2<Long, Example>> rows) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public Example next() {
                return rows.next()._2();
            }
        };
    }
}
