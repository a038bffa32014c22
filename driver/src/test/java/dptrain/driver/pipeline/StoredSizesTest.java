package dptrain.driver.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.data.ExampleCheck;
import dptrain.data.MinibatchBuilder;
import dptrain.driver.input.DataFormat;
import dptrain.driver.input.DataInput;
import dptrain.driver.input.ExampleSource;
import dptrain.driver.input.IndexedExamples;
import dptrain.spec.ModelSpec;
import dptrain.spec.Normalization;
import dptrain.testing.LocalSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kept cache's partition sizes are counted on the way into the store, not by reading the copy back: the same
 * sizes as counting the minibatches, and no more jobs than the uncached pipeline runs, for a plain split (dense
 * positions) and a stratified one (the validation part's positions are sparse).
 */
class StoredSizesTest {
    private static final int WORKERS = 3;

    @TempDir
    Path dir;

    @Test
    void keptCachesAreSizedOnTheWayInWithNoReadBack() throws IOException, InterruptedException {
        StringBuilder csv = new StringBuilder();
        for (int i = 0; i < 1003; i++) {
            csv.append(i % 7 == 0 ? 3 : i % 3).append(',').append(i).append(",0.5,0.25\n");
        }
        Files.writeString(dir.resolve("data.csv"), csv);
        ModelSpec spec = ModelSpec.parse("input_shape: [3]\nlayers:\n  - dense: {units: 4, activation: softmax}\n"
                + "loss: categorical_crossentropy\n", "four.yaml");
        DataInput input = DataInput.of(dir.resolve("data.csv").toString(), DataFormat.CSV);
        try (JavaSparkContext jsc = LocalSpark.start(2)) {
            JobsPerGroup jobs = new JobsPerGroup();
            jsc.sc().addSparkListener(jobs);
            IndexedExamples data = ExampleSource.read(jsc, input, "--train", new ExampleCheck(spec), 3, 2);
            for (boolean stratified : new boolean[] {false, true}) {
                List<Sizes> byMode = new ArrayList<>();
                List<Integer> jobsByMode = new ArrayList<>();
                for (CacheMode cache : new CacheMode[] {CacheMode.NONE, CacheMode.DISK, CacheMode.MEMORY}) {
                    DataPipeline pipeline = new DataPipeline(new MinibatchBuilder(16, 3, 4, spec.targetEncoding(),
                            1f), WORKERS, 11, cache);
                    String group = cache + (stratified ? "-stratified" : "-plain");
                    jsc.setJobGroup(group, "the jobs that batch the data", false);
                    DataPipeline.Split split = stratified
                            ? pipeline.stratifiedSplit(data, 0.1, Normalization.NONE)
                            : pipeline.split(data, 0.1, Normalization.NONE);
                    jsc.clearJobGroup();
                    jobsByMode.add(jobs.count(jsc, group));
                    Sizes sizes = Sizes.of(split);
                    assertEquals(Sizes.counted(split), sizes, cache + (stratified ? ", stratified" : "")
                            + ": the sizes the pipeline reports are the minibatches' own");
                    byMode.add(sizes);
                    split.training().release();
                    split.validation().release();
                }
                assertEquals(byMode.get(0), byMode.get(1), "disk against no cache");
                assertEquals(byMode.get(0), byMode.get(2), "memory against no cache");
                assertTrue(jobsByMode.get(0) > 0, "jobs counted: " + jobsByMode);
                assertEquals(jobsByMode.get(0), jobsByMode.get(1), "a disk cache is not read back to be counted");
                assertEquals(jobsByMode.get(0), jobsByMode.get(2), "a memory cache is not read back to be counted");
            }
        }
    }

    /** Counts the jobs each job group started, as Spark's listener bus reports them. */
    private static final class JobsPerGroup extends SparkListener {
        private final Map<String, Integer> started = new ConcurrentHashMap<>();

        @Override
        public void onJobStart(SparkListenerJobStart job) {
            String group = job.properties() == null ? null : job.properties().getProperty("spark.jobGroup.id");
            if (group != null) {
                started.merge(group, 1, Integer::sum);
            }
        }

        /**
         * The jobs {@code group} started, once the bus has delivered their events: a marker job runs after them, and
         * the bus delivers events in order.
         */
        int count(JavaSparkContext jsc, String group) throws InterruptedException {
            String marker = group + "-marker";
            jsc.setJobGroup(marker, "marks the end of " + group, false);
            jsc.parallelize(List.of(1), 1).count();
            jsc.clearJobGroup();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!started.containsKey(marker) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(started.containsKey(marker), "the listener bus delivered the marker job's start in 30 s");
            return started.getOrDefault(group, 0);
        }
    }

    /** Examples and minibatches per partition, of the training part and of the validation part. */
    private record Sizes(List<Long> trainingExamples, List<Integer> trainingBatches, List<Long> validationExamples,
            List<Integer> validationBatches) {
        static Sizes of(DataPipeline.Split split) {
            return new Sizes(longs(split.training().examplesPerPartition()),
                    ints(split.training().batchesPerPartition()), longs(split.validation().examplesPerPartition()),
                    ints(split.validation().batchesPerPartition()));
        }

        /** Counted by reading the minibatches themselves. */
        static Sizes counted(DataPipeline.Split split) {
            long[][] training = count(split.training());
            long[][] validation = count(split.validation());
            return new Sizes(longs(training[0]), ints(toInts(training[1])), longs(validation[0]),
                    ints(toInts(validation[1])));
        }

        private static long[][] count(BatchedData data) {
            List<long[]> perPartition = data.batches().mapPartitionsWithIndex((index, it) -> {
                long examples = 0;
                long batches = 0;
                while (it.hasNext()) {
                    examples += it.next().rows();
                    batches++;
                }
                return List.of(new long[] {index, examples, batches}).iterator();
            }, true).collect();
            long[][] sizes = new long[2][WORKERS];
            for (long[] size : perPartition) {
                sizes[0][(int) size[0]] = size[1];
                sizes[1][(int) size[0]] = size[2];
            }
            assertArrayEquals(sizes[0], data.examplesPerPartition());
            return sizes;
        }

        private static int[] toInts(long[] values) {
            int[] ints = new int[values.length];
            for (int i = 0; i < values.length; i++) {
                ints[i] = (int) values[i];
            }
            return ints;
        }

        private static List<Long> longs(long[] values) {
            List<Long> list = new ArrayList<>();
            for (long value : values) {
                list.add(value);
            }
            return list;
        }

        private static List<Integer> ints(int[] values) {
            List<Integer> list = new ArrayList<>();
            for (int value : values) {
                list.add(value);
            }
            return list;
        }
    }
}
