package dptrain.bench;

import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingProgress;
import dptrain.driver.input.DataFormat;
import dptrain.driver.input.DataInput;
import dptrain.driver.pipeline.BatchScope;
import dptrain.driver.pipeline.CacheMode;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.EpochRecord;
import dptrain.sparkstart.SparkDefaults;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import dptrain.timing.Seconds;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
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
 *       counted (CSV with a schema; Parquet through the vectorized reader; LibSVM through Spark ML's
 *       libsvm source), the anchor;</li>
 *   <li>{@code spark-shuffle}: the same scan with Spark SQL's own shuffle of every row into 2 partitions
 *       (hash partitioning on a seeded random column, Spark's default shuffle settings) between the read
 *       and the summing: the floor for a design of one read plus one shuffle, which is dptrain's;</li>
 *   <li>{@code dptrain}: dptrain's ingestion exactly as {@code train} runs it (read, check, number,
 *       shuffle into balanced partitions, batch, kept on disk), then one training epoch;</li>
 *   <li>{@code to-parquet}, {@code to-libsvm}: write the CSV data as Parquet (features array, label) or
 *       as LibSVM text, untimed setup.</li>
 * </ul>
 * Each measurement runs twice in its JVM (the first pays for class loading and the JIT) and prints
 * one line per run: {@code RESULT mode format run rows seconds epochSeconds peakHeapMB peakOldAfterGcMB};
 * the two Spark modes also print their first run's physical plan, after its timing.
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
                case "spark-scan", "spark-shuffle" -> {
                    boolean shuffle = mode.equals("spark-shuffle");
                    for (int run = 1; run <= RUNS; run++) {
                        HeapPeak heap = HeapPeak.start();
                        long start = System.nanoTime();
                        Scan scan = sparkScan(spark, format, data, features, shuffle);
                        double seconds = Seconds.since(start);
                        result(mode, format, run, scan.rows(), seconds, Double.NaN, heap.stop());
                        if (run == 1) {
                            System.out.println("PLAN " + mode + " " + format.name().toLowerCase(Locale.ROOT));
                            System.out.println(scan.plan());
                        }
                    }
                }
                case "dptrain" -> {
                    ModelSpec spec = ModelFile.readSpec(Path.of(args[4]));
                    for (int run = 1; run <= RUNS; run++) {
                        dptrain(jsc, spec, format, data, run);
                    }
                }
                default -> throw new IllegalArgumentException("mode " + mode + ": expected spark-scan, spark-shuffle, "
                        + "dptrain, to-parquet or to-libsvm");
            }
        }
    }

    /** Rows counted by a Spark mode, and the table it summed, whose plan is printed after the timing. */
    private record Scan(long rows, Dataset<Row> summed) {
        /**
         * The physical plan: for Parquet and LibSVM as run (adaptive execution's final plan); for CSV as planned,
         * since {@code first()} runs a plan of its own.
         */
        String plan() {
            return summed.queryExecution().simpleString();
        }
    }

    /**
     * Spark's own read of every value, rows counted: CSV parsed with a schema and summed; Parquet's arrays and
     * LibSVM's vectors (Spark ML's libsvm source) summed in a task over Spark's binary rows. With {@code shuffle},
     * every row goes through Spark SQL's shuffle into 2 partitions between the read and the summing.
     */
    private static Scan sparkScan(SparkSession spark, DataFormat format, String data, int features,
            boolean shuffle) {
        if (format == DataFormat.CSV) {
            StructType schema = new StructType().add("label", DataTypes.DoubleType);
            for (int f = 0; f < features; f++) {
                schema = schema.add("f" + f, DataTypes.DoubleType);
            }
            List<Column> sums = new ArrayList<>();
            for (String name : schema.fieldNames()) {
                sums.add(functions.sum(name));
            }
            sums.add(functions.count(functions.lit(1)));
            Dataset<Row> table = shuffled(spark.read().schema(schema).csv(data), shuffle)
                    .agg(sums.get(0), sums.subList(1, sums.size()).toArray(Column[]::new));
            Row totals = table.first();
            return new Scan(totals.getLong(totals.size() - 1), table);
        }
        Dataset<Row> table;
        FlatMapFunction<Iterator<InternalRow>, double[]> sum;
        if (format == DataFormat.LIBSVM) {
            table = spark.read().format("libsvm").option("numFeatures", features).load(data);
            sum = rows -> {
                double total = 0;
                long count = 0;
                while (rows.hasNext()) {
                    InternalRow row = rows.next();
                    total += row.getDouble(0);
                    // A Spark ML vector's binary form: type, size, indices, values.
                    ArrayData values = row.getStruct(1, 4).getArray(3);
                    for (int i = 0; i < values.numElements(); i++) {
                        total += values.getDouble(i);
                    }
                    count++;
                }
                return List.of(new double[] {total, count}).iterator();
            };
        } else {
            // The vectorized reader's rows, each feature array summed in a task: Spark SQL's own array aggregation
            // (aggregate with a lambda) runs interpreted, so it would measure the lambda rather than the reader.
            table = spark.read().parquet(data);
            sum = rows -> {
                double total = 0;
                long count = 0;
                while (rows.hasNext()) {
                    InternalRow row = rows.next();
                    total += row.getInt(0);
                    ArrayData values = row.getArray(1);
                    for (int i = 0; i < values.numElements(); i++) {
                        total += values.getFloat(i);
                    }
                    count++;
                }
                return List.of(new double[] {total, count}).iterator();
            };
        }
        table = shuffled(table.select("label", "features"), shuffle);
        double[] totals = table.queryExecution().toRdd().toJavaRDD().mapPartitions(sum)
                .reduce((a, b) -> new double[] {a[0] + b[0], a[1] + b[1]});
        return new Scan((long) totals[1], table);
    }

    /**
     * The table itself, or with {@code shuffle} the table's rows moved into 2 partitions by Spark SQL's shuffle,
     * hash-partitioned on a seeded random column. Not {@code repartition(2)}: round-robin partitioning sorts
     * each input partition first while {@code spark.sql.execution.sortBeforeRepartition} is on (the default),
     * which would measure a sort. Spark projects the random column out again right after the exchange, so the
     * summing sees the scan's columns.
     */
    private static Dataset<Row> shuffled(Dataset<Row> table, boolean shuffle) {
        return shuffle ? table.repartition(2, functions.rand(7)) : table;
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
