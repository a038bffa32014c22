package dptrain.bench;

import dptrain.sparkstart.SparkDefaults;
import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingProgress;
import dptrain.driver.input.DataFormat;
import dptrain.driver.input.DataInput;
import dptrain.driver.pipeline.BatchScope;
import dptrain.driver.pipeline.CacheMode;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.EpochRecord;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import dptrain.timing.Seconds;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * One measurement of {@code deploy/bin/dptrain-bench-scale}, in a JVM of its own so that its heap
 * peak is its own:
 * <ul>
 *   <li>{@code spark-scan}: Spark's own reader over the files, every value parsed and summed, rows
 *       counted (CSV with a schema; Parquet through the vectorized reader; LibSVM through Spark ML's libsvm source),
 *       the anchor;</li>
 *   <li>{@code dptrain}: dptrain's ingestion exactly as {@code train} runs it (read, check, number,
 *       shuffle into balanced partitions, batch, kept on disk), then one training epoch;</li>
 *   <li>{@code to-parquet}, {@code to-libsvm}: write the CSV data as Parquet (features array, label) or as LibSVM
 *       text, untimed setup.</li>
 * </ul>
 * Each measurement runs twice in its JVM (the first pays for class loading and the JIT) and prints
 * one line per run: {@code RESULT mode format run rows seconds epochSeconds peakHeapMB peakOldAfterGcMB}.
 *
 * <p>Usage: {@code IngestionSpeed MODE FORMAT DATA_DIR FEATURES [SPEC [OUT]]}.
 */
public final class IngestionSpeed {
    private static final int RUNS = 2;

    private IngestionSpeed() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        DataFormat format = DataFormat.valueOf(args[1].toUpperCase(Locale.ROOT));
        String data = Path.of(args[2]).toAbsolutePath().toString();
        int features = Integer.parseInt(args[3]);
        SparkConf conf = SparkDefaults.apply(new SparkConf().setMaster("local[2]").setAppName("dptrain-bench-scale")
                .set("spark.ui.enabled", "false"));
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            jsc.setLogLevel("WARN");
            jsc.sc().addSparkListener(new JobTimes());
            SparkSession spark = SparkSession.builder().sparkContext(jsc.sc()).getOrCreate();
            switch (mode) {
                case "to-parquet" -> toParquet(spark, data, features, args[5]);
                case "to-libsvm" -> toLibSvm(spark, data, args[5]);
                case "spark-scan" -> {
                    for (int run = 1; run <= RUNS; run++) {
                        HeapPeak heap = HeapPeak.start();
                        long start = System.nanoTime();
                        long rows = sparkScan(spark, format, data, features);
                        double seconds = Seconds.since(start);
                        result(mode, format, run, rows, seconds, Double.NaN, heap.stop());
                    }
                }
                case "dptrain" -> {
                    ModelSpec spec = ModelFile.readSpec(Path.of(args[4]));
                    for (int run = 1; run <= RUNS; run++) {
                        dptrain(jsc, spec, format, data, run);
                    }
                }
                default -> throw new IllegalArgumentException("mode " + mode + ": expected spark-scan, dptrain, "
                        + "to-parquet or to-libsvm");
            }
        }
    }

    /**
     * Spark's own read of every value, rows counted: CSV parsed with a schema and summed; Parquet's arrays and
     * LibSVM's vectors (Spark ML's libsvm source) summed in a task over Spark's binary rows.
     */
    private static long sparkScan(SparkSession spark, DataFormat format, String data, int features) {
        List<Column> sums = new ArrayList<>();
        Dataset<Row> table;
        if (format == DataFormat.LIBSVM) {
            double[] totals = spark.read().format("libsvm").option("numFeatures", features).load(data)
                    .select("label", "features").queryExecution().toRdd().toJavaRDD().mapPartitions(rows -> {
                        double sum = 0;
                        long count = 0;
                        while (rows.hasNext()) {
                            InternalRow row = rows.next();
                            sum += row.getDouble(0);
                            // A Spark ML vector's binary form: type, size, indices, values.
                            ArrayData values = row.getStruct(1, 4).getArray(3);
                            for (int i = 0; i < values.numElements(); i++) {
                                sum += values.getDouble(i);
                            }
                            count++;
                        }
                        return List.of(new double[] {sum, count}).iterator();
                    }).reduce((a, b) -> new double[] {a[0] + b[0], a[1] + b[1]});
            return (long) totals[1];
        }
        if (format == DataFormat.CSV) {
            StructType schema = new StructType().add("label", DataTypes.DoubleType);
            for (int f = 0; f < features; f++) {
                schema = schema.add("f" + f, DataTypes.DoubleType);
            }
            table = spark.read().schema(schema).csv(data);
            for (String name : schema.fieldNames()) {
                sums.add(functions.sum(name));
            }
        } else {
            // The vectorized reader's rows, each feature array summed in a task: Spark SQL's own array aggregation
            // (aggregate with a lambda) runs interpreted, so it would measure the lambda rather than the reader.
            double[] totals = spark.read().parquet(data).select("label", "features").queryExecution().toRdd()
                    .toJavaRDD().mapPartitions(rows -> {
                        double sum = 0;
                        long count = 0;
                        while (rows.hasNext()) {
                            InternalRow row = rows.next();
                            sum += row.getInt(0);
                            ArrayData values = row.getArray(1);
                            for (int i = 0; i < values.numElements(); i++) {
                                sum += values.getFloat(i);
                            }
                            count++;
                        }
                        return List.of(new double[] {sum, count}).iterator();
                    }).reduce((a, b) -> new double[] {a[0] + b[0], a[1] + b[1]});
            return (long) totals[1];
        }
        sums.add(functions.count(functions.lit(1)));
        Row totals = table.agg(sums.get(0), sums.subList(1, sums.size()).toArray(Column[]::new)).first();
        return totals.getLong(totals.size() - 1);
    }

    /** dptrain's train path: ingestion until training starts, then one epoch. */
    private static void dptrain(JavaSparkContext jsc, ModelSpec spec, DataFormat format, String data, int run) {
        DataInput input = DataInput.of(data, format);
        TrainingConfig config = TrainingConfig.builder(spec, input).epochs(1).workers(2)
                .averaging(AveragingSchedule.everyMinibatches(16)).cache(CacheMode.DISK)
                .batchScope(BatchScope.WORKER).build();
        HeapPeak heap = HeapPeak.start();
        long start = System.nanoTime();
        AtomicLong trainingStarted = new AtomicLong();
        AtomicLong rows = new AtomicLong();
        double[] epochSeconds = {Double.NaN};
        new DistributedTrainer(jsc).train(config, new TrainingProgress() {
            @Override
            public void started(long trainingExamples, long validationExamples, int stepsPerEpoch, int roundsPerEpoch,
                    int workerMinibatch) {
                trainingStarted.set(System.nanoTime());
                rows.set(trainingExamples + validationExamples);
            }

            @Override
            public void epochEnded(EpochRecord record) {
                epochSeconds[0] = record.seconds();
            }
        });
        double ingestion = Seconds.between(start, trainingStarted.get());
        result("dptrain", format, run, rows.get(), ingestion, epochSeconds[0], heap.stop());
    }

    private static void toParquet(SparkSession spark, String csv, int features, String out) {
        StructType schema = new StructType().add("label", DataTypes.IntegerType);
        Column[] values = new Column[features];
        for (int f = 0; f < features; f++) {
            schema = schema.add("f" + f, DataTypes.FloatType);
            values[f] = functions.col("f" + f);
        }
        // As many files as the CSV has, so both formats split the same way.
        int files;
        try (var list = Files.list(Path.of(csv))) {
            files = (int) list.filter(p -> p.getFileName().toString().endsWith(".csv")).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        spark.read().schema(schema).csv(csv)
                .select(functions.col("label"), functions.array(values).as("features"))
                .repartition(files).write().mode("overwrite").parquet(out);
    }

    /** Writes the CSV lines as LibSVM lines (label, then 1-based index:value for each feature), same text values. */
    private static void toLibSvm(SparkSession spark, String csv, String out) {
        spark.read().textFile(csv).map((org.apache.spark.api.java.function.MapFunction<String, String>) line -> {
            String[] fields = line.split(",");
            StringBuilder libsvm = new StringBuilder(line.length() * 3 / 2).append(fields[0]);
            for (int f = 1; f < fields.length; f++) {
                libsvm.append(' ').append(f).append(':').append(fields[f]);
            }
            return libsvm.toString();
        }, org.apache.spark.sql.Encoders.STRING()).write().mode("overwrite").text(out);
    }

    /** Prints each Spark job's description and wall time as it ends: where ingestion's time goes. */
    private static final class JobTimes extends org.apache.spark.scheduler.SparkListener {
        private final java.util.Map<Integer, Long> started = new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.Map<Integer, String> names = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart job) {
            started.put(job.jobId(), System.nanoTime());
            String description = job.properties() == null ? null
                    : job.properties().getProperty("spark.job.description");
            names.put(job.jobId(), description == null ? "job " + job.jobId() : description);
        }

        @Override
        public void onJobEnd(org.apache.spark.scheduler.SparkListenerJobEnd job) {
            Long from = started.remove(job.jobId());
            if (from != null) {
                System.out.printf(Locale.ROOT, "JOB %.3f s  %s%n", Seconds.since(from), names.remove(job.jobId()));
            }
        }
    }

    private static void result(String mode, DataFormat format, int run, long rows, double seconds, double epochSeconds,
            long[] heapMb) {
        System.out.printf(Locale.ROOT, "RESULT %s %s %d %d %.3f %.3f %d %d%n", mode,
                format.name().toLowerCase(Locale.ROOT), run, rows, seconds, epochSeconds, heapMb[0], heapMb[1]);
    }

    /**
     * Samples the heap every 20 ms: the peak of used heap (garbage included, what {@code jstat} shows) and
     * the peak of the old generation's occupancy right after a collection (what stays live).
     */
    private static final class HeapPeak {
        private final Thread sampler;
        private volatile boolean running = true;
        private long peakUsed;
        private long peakOldAfterGc;

        private HeapPeak() {
            System.gc();
            sampler = new Thread(this::sample, "heap-peak");
            sampler.setDaemon(true);
        }

        static HeapPeak start() {
            HeapPeak peak = new HeapPeak();
            peak.sampler.start();
            return peak;
        }

        private void sample() {
            List<MemoryPoolMXBean> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(p -> p.getType() == MemoryType.HEAP).toList();
            while (running) {
                long used = 0;
                for (MemoryPoolMXBean pool : heapPools) {
                    used += pool.getUsage().getUsed();
                    if (pool.getName().contains("Old") && pool.getCollectionUsage() != null) {
                        peakOldAfterGc = Math.max(peakOldAfterGc, pool.getCollectionUsage().getUsed());
                    }
                }
                peakUsed = Math.max(peakUsed, used);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        /** Stops sampling: {peak used MB, peak old generation after a collection MB}. */
        long[] stop() {
            running = false;
            try {
                sampler.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new long[] {peakUsed >> 20, peakOldAfterGc >> 20};
        }
    }
}
