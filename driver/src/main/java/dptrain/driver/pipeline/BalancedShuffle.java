package dptrain.driver.pipeline;

import dptrain.data.Example;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.Dependency;
import org.apache.spark.Partition;
import org.apache.spark.Partitioner;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;
import org.apache.spark.shuffle.ShuffleReadMetricsReporter;
import org.apache.spark.shuffle.ShuffleReader;
import org.apache.spark.shuffle.ShuffleWriteProcessor;
import scala.Option;
import scala.Product2;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Moves positioned examples into one partition per worker, each in position order, with one shuffle and no sort.
 * Position {@code t} goes to worker {@code t % workers} at place {@code t / workers}, and a worker's places are
 * dense (or, for a stratified validation part, sparse below a known bound). So instead of sorting each worker's
 * examples (which held a worker's share in memory and spilled the rest, and whose comparisons were the largest cost
 * after serialization), the shuffle sends each example to the block of consecutive places that holds its place, a
 * partition small enough to hold at once, where it lands in its slot; one task per worker then reads its blocks in
 * order, as Spark's shuffled RDD reads one.
 * Examples travel as one block of bytes each ({@link PositionAndBytes}).
 */
final class BalancedShuffle {
    /** About this many bytes of examples per block: what one task holds at a time. */
    private static final long BLOCK_BYTES = 16L << 20;

    private BalancedShuffle() {
    }

    /**
     * {@code workers} partitions, partition {@code w} holding the examples at positions {@code t % workers == w} in
     * increasing {@code t}; {@code positioned} holds distinct positions below {@code bound} (all of them, or, for a
     * stratified validation part, some).
     */
    static JavaRDD<Example> inWorkerOrder(JavaPairRDD<Long, Example> positioned, long bound, int workers,
            int featureCount) {
        long perWorker = Math.max(1, (bound + workers - 1) / workers);
        int blockSize = (int) Math.min(perWorker, Math.max(1, BLOCK_BYTES / (Float.BYTES * (featureCount + 4L))));
        int blocksPerWorker = (int) ((perWorker + blockSize - 1) / blockSize);
        PlaceBlocks blocks = new PlaceBlocks(workers, blocksPerWorker, blockSize);
        ClassTag<Long> longs = ClassTag$.MODULE$.apply(Long.class);
        ClassTag<byte[]> bytes = ClassTag$.MODULE$.apply(byte[].class);
        ShuffleDependency<Long, byte[], byte[]> shuffle = new ShuffleDependency<>(
                positioned.mapValues(ExampleBytes::pack).rdd(), blocks,
                new PositionAndBytes(), Option.empty(), Option.empty(), false,
                new ShuffleWriteProcessor(), longs, bytes, bytes);
        return new WorkerBlocks(shuffle, blocks).toJavaRDD();
    }

    /**
     * One partition per worker, reading the worker's blocks from the shuffle one after another. One RDD rather than
     * Spark's coalesce over a shuffled RDD: a training epoch's barrier stage takes no ancestor with another number
     * of partitions.
     */
    static final class WorkerBlocks extends RDD<Example> {
        private static final long serialVersionUID = 1L;

        private final ShuffleDependency<Long, byte[], byte[]> shuffle;
        private final PlaceBlocks blocks;

        WorkerBlocks(ShuffleDependency<Long, byte[], byte[]> shuffle, PlaceBlocks blocks) {
            super(shuffle.rdd().context(), CollectionConverters.asScala(List.<Dependency<?>>of(shuffle)).toList(),
                    ClassTag$.MODULE$.apply(Example.class));
            this.shuffle = shuffle;
            this.blocks = blocks;
        }

        @Override
        public Partition[] getPartitions() {
            Partition[] workers = new Partition[blocks.workers];
            for (int w = 0; w < workers.length; w++) {
                workers[w] = new Worker(w);
            }
            return workers;
        }

        @Override
        public scala.collection.Iterator<Example> compute(Partition worker, TaskContext context) {
            int first = worker.index() * blocks.blocksPerWorker;
            Iterator<Example> examples = new Iterator<>() {
                private int block = first;
                private Iterator<Example> current = Collections.emptyIterator();

                @Override
                public boolean hasNext() {
                    while (!current.hasNext() && block < first + blocks.blocksPerWorker) {
                        current = blocks.inPlaceOrder(block, read(block, context));
                        block++;
                    }
                    return current.hasNext();
                }

                @Override
                public Example next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    return current.next();
                }
            };
            return CollectionConverters.asScala(examples);
        }

        /** One block's records, as Spark's own shuffled RDD reads a partition. */
        private Iterator<Tuple2<Long, byte[]>> read(int block, TaskContext context) {
            ShuffleReadMetricsReporter metrics = context.taskMetrics().createTempShuffleReadMetrics();
            ShuffleReader<Long, byte[]> reader = SparkEnv.get().shuffleManager()
                    .getReader(shuffle.shuffleHandle(), block, block + 1, context, metrics);
            Iterator<Product2<Long, byte[]>> records = CollectionConverters.asJava(reader.read());
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return records.hasNext();
                }

                @Override
                public Tuple2<Long, byte[]> next() {
                    Product2<Long, byte[]> record = records.next();
                    return new Tuple2<>(record._1(), record._2());
                }
            };
        }
    }

    /** A worker's partition. */
    private record Worker(int index) implements Partition {
    }

    /**
     * Sends position {@code t} to the block of {@code blockSize} places of worker {@code t % workers} that holds
     * place {@code t / workers}.
     */
    static final class PlaceBlocks extends Partitioner {
        private static final long serialVersionUID = 1L;

        private final int workers;
        private final int blocksPerWorker;
        private final int blockSize;

        PlaceBlocks(int workers, int blocksPerWorker, int blockSize) {
            this.workers = workers;
            this.blocksPerWorker = blocksPerWorker;
            this.blockSize = blockSize;
        }

        @Override
        public int numPartitions() {
            return workers * blocksPerWorker;
        }

        @Override
        public int getPartition(Object key) {
            long t = (Long) key;
            return (int) (t % workers) * blocksPerWorker + (int) (t / workers / blockSize);
        }

        /** A block's examples, received in any order, in the order of their places. */
        Iterator<Example> inPlaceOrder(int partition, Iterator<Tuple2<Long, byte[]>> records) {
            long first = (long) (partition % blocksPerWorker) * blockSize;
            byte[][] slots = new byte[blockSize][];
            while (records.hasNext()) {
                Tuple2<Long, byte[]> record = records.next();
                slots[(int) (record._1() / workers - first)] = record._2();
            }
            return new Iterator<>() {
                private int next = skipEmpty(0);

                private int skipEmpty(int from) {
                    int slot = from;
                    while (slot < slots.length && slots[slot] == null) {
                        slot++;
                    }
                    return slot;
                }

                @Override
                public boolean hasNext() {
                    return next < slots.length;
                }

                @Override
                public Example next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    Example example = ExampleBytes.unpack(slots[next]);
                    slots[next] = null;
                    next = skipEmpty(next + 1);
                    return example;
                }
            };
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof PlaceBlocks o && o.workers == workers && o.blocksPerWorker == blocksPerWorker
                    && o.blockSize == blockSize;
        }

        @Override
        public int hashCode() {
            return (31 * workers + blocksPerWorker) * 31 + blockSize;
        }
    }

    /** An example as one block of bytes: label, features, targets (length -1 for none), little-endian. */
    static final class ExampleBytes {
        private ExampleBytes() {
        }

        static byte[] pack(Example example) {
            float[] x = example.features();
            float[] y = example.targets();
            int floats = x.length + (y == null ? 0 : y.length);
            ByteBuffer out = ByteBuffer.allocate(Integer.BYTES * 3 + Float.BYTES * floats)
                    .order(ByteOrder.LITTLE_ENDIAN);
            out.putInt(example.label()).putInt(x.length);
            out.asFloatBuffer().put(x);
            out.position(out.position() + Float.BYTES * x.length);
            out.putInt(y == null ? -1 : y.length);
            if (y != null) {
                out.asFloatBuffer().put(y);
            }
            return out.array();
        }

        static Example unpack(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            int label = in.getInt();
            float[] x = new float[in.getInt()];
            in.asFloatBuffer().get(x);
            in.position(in.position() + Float.BYTES * x.length);
            int targets = in.getInt();
            if (targets < 0) {
                return new Example(x, label);
            }
            float[] y = new float[targets];
            in.asFloatBuffer().get(y);
            return Example.regression(x, y);
        }
    }
}
