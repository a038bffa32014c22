package dptrain.driver.pipeline;

import dptrain.data.Minibatch;
import java.util.Arrays;
import org.apache.spark.api.java.JavaRDD;

/**
 * A dataset as cached minibatches, one partition per worker, with each partition's size known
 * on the driver (a few numbers, never the rows).
 *
 * @param batches          the minibatches, built once and reused every epoch
 * @param examplesPerPartition examples in each partition
 * @param batchesPerPartition  minibatches in each partition
 */
public record BatchedData(JavaRDD<Minibatch> batches, long[] examplesPerPartition, int[] batchesPerPartition) {

    public long examples() {
        return Arrays.stream(examplesPerPartition).sum();
    }

    /** The most minibatches any partition holds: the number of optimizer steps per replica per epoch. */
    public int maxBatches() {
        return Arrays.stream(batchesPerPartition).max().orElse(0);
    }

    public void release() {
        batches.unpersist(false);
    }
}
