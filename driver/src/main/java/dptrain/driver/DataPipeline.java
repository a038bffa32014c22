package dptrain.driver;

import dptrain.data.Example;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.data.SeededPermutation;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Turns indexed examples into cached, per-worker minibatches: a seeded shuffle, the split into
 * training and validation parts, balanced partitions, and minibatches built once.
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

    /** The training and validation parts of one dataset. */
    public record Split(BatchedData training, BatchedData validation) {
    }

    /** Shuffles {@code data} with the seed and holds out {@code validationFraction} of it (0 for none). */
    public Split split(ExampleSource.IndexedExamples data, double validationFraction) {
        long count = data.count();
        long validationCount = Math.round(count * validationFraction);
        SeededPermutation permutation = new SeededPermutation(count, seed);
        JavaPairRDD<Long, Example> positioned = data.examples()
                .mapToPair(e -> new Tuple2<>(permutation.apply(e._1()), e._2()));
        BatchedData training = batch(positioned
                .filter(e -> e._1() >= validationCount)
                .mapToPair(e -> new Tuple2<>(e._1() - validationCount, e._2())));
        BatchedData validation = validationCount == 0 ? null : batch(positioned.filter(e -> e._1() < validationCount));
        return new Split(training, validation);
    }

    /** Batches a dataset used only for evaluation (e.g. the test set), in file order. */
    public BatchedData evaluationBatches(ExampleSource.IndexedExamples data) {
        return batch(data.examples());
    }

    private BatchedData batch(JavaPairRDD<Long, Example> positioned) {
        MinibatchBuilder batchBuilder = builder;
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
