package dptrain.cli;

import dptrain.driver.CacheMode;
import dptrain.driver.DataFormat;
import dptrain.driver.DataInput;
import dptrain.driver.ExecutorMemoryCheck;
import dptrain.driver.InputException;
import dptrain.driver.InputFiles;
import dptrain.driver.RunOutputs;
import dptrain.driver.TrainingConfig;
import dptrain.spec.Engine;
import dptrain.spec.ModelSpec;
import dptrain.spec.Normalization;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import scala.Tuple2;

/**
 * The flags every training command shares (train, cv), each declared once with its default and
 * description, and the one place that checks them and turns them into a {@link TrainingConfig}.
 */
final class TrainingOptions {

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec command;

    @Option(names = "--model", required = true, paramLabel = "SPEC",
            description = "Model spec: YAML/JSON in Keras terms, or a DL4J MultiLayerConfiguration JSON.")
    String model;

    @Option(names = "--train", required = true, paramLabel = "URI",
            description = "Training data: a file, folder or glob on any Hadoop filesystem. For IDX, the images file "
                    + "(its labels file is found beside it) or a folder holding one images/labels pair.")
    String train;

    @Option(names = "--format", paramLabel = "FORMAT",
            description = "idx, csv, libsvm or parquet. Default: from the file name (…idx3-ubyte[.gz], .csv, "
                    + ".libsvm/.svm, .parquet).")
    DataFormat format;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "5", description = "Passes over the training data (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "128",
            description = "Examples per minibatch per worker (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--workers", paramLabel = "N",
            description = "Model replicas, one Spark partition each (default: Spark's default parallelism).")
    Integer workers;

    @Option(names = "--averaging-frequency", paramLabel = "K|epoch", defaultValue = "epoch",
            converter = AveragingFrequencyConverter.class,
            description = "Average the replicas every K minibatches, or once per epoch (default: ${DEFAULT-VALUE}).")
    int averagingFrequency;

    @Option(names = "--seed", paramLabel = "S",
            description = "Seeds the shuffle, the split and dropout (default: the spec's seed).")
    Long seed;

    @Option(names = "--scale", paramLabel = "DIVISOR",
            description = "Divide every feature value by this (default: 255 for IDX images, 1 otherwise).")
    Float scaleDivisor;

    @Option(names = "--normalize", paramLabel = "KIND",
            description = "none, standardize or minmax: per-feature normalization fitted on the training split only, "
                    + "applied to all data and saved in model.zip (default: the spec's normalization, else none).")
    Normalization normalize;

    @Option(names = "--engine", paramLabel = "ENGINE",
            description = "auto, dl4j or dense: what trains each replica. dense is dptrain's dense-stack engine "
                    + "(2-3x DL4J's speed, equal to DL4J up to float rounding); dl4j is DL4J's own fit, bit for bit "
                    + "single-process DL4J; auto takes dense when it supports the network (default: the spec's "
                    + "engine, else auto).")
    Engine engine;

    @Option(names = "--label-column", paramLabel = "I", defaultValue = "0",
            description = "CSV: 0-based index of the label column (default: ${DEFAULT-VALUE}).")
    int labelColumn;

    @Option(names = "--header", description = "CSV: the first line of each file is a header.")
    boolean header;

    @Option(names = "--delimiter", paramLabel = "C", defaultValue = ",", description = "CSV: field delimiter (default: '${DEFAULT-VALUE}').")
    char delimiter;

    @Option(names = "--features-col", paramLabel = "NAME", defaultValue = "features",
            description = "Parquet: the features column, a Spark ML vector or an array of numbers (default: ${DEFAULT-VALUE}).")
    String featuresCol;

    @Option(names = "--label-col", paramLabel = "NAME", defaultValue = "label",
            description = "Parquet: the whole-number label column (default: ${DEFAULT-VALUE}).")
    String labelCol;

    /** What to do with a record that cannot become an example. */
    enum BadRecordPolicy { FAIL, SKIP }

    @Option(names = "--on-bad-record", paramLabel = "fail|skip", defaultValue = "fail",
            description = "fail: stop before training, naming the bad records; skip: leave them out and report "
                    + "their count per file and reason (default: ${DEFAULT-VALUE}).")
    BadRecordPolicy onBadRecord;

    @Option(names = "--cache", paramLabel = "memory|disk|none", defaultValue = "memory",
            description = "Where the minibatches, built once, are kept between rounds: executor memory (fastest), "
                    + "executor disk (data larger than memory), or none (rebuilt from shuffle files each round) "
                    + "(default: ${DEFAULT-VALUE}).")
    CacheMode cache;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "dptrain-output",
            description = "Folder for model.zip, history.json and provenance.json, on any Hadoop filesystem (default: ${DEFAULT-VALUE}).")
    String output;

    @Option(names = "--overwrite", description = "Replace the model an earlier run left in --output.")
    boolean overwrite;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master, e.g. local[2] or spark://host:7077 (default: spark-submit's, else local[*]).")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "Extra Spark configuration, repeatable.")
    Map<String, String> sparkConf = new LinkedHashMap<>();

    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;

    /** Spark's configuration: the flags, spark-submit's settings, and one BLAS thread per task. */
    SparkConf sparkConf(String appName) {
        SparkConf conf = new SparkConf().setAppName(appName);
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        // One BLAS/OpenMP thread per task: parallelism comes from Spark tasks (see FIELD-NOTES).
        conf.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", "1");
        sparkConf.forEach(conf::set);
        return conf;
    }

    /** The Hadoop configuration the driver reads inputs with: spark.hadoop.* settings apply. */
    static Configuration hadoopConfiguration(SparkConf conf) {
        Configuration hadoop = new Configuration();
        for (Tuple2<String, String> kv : conf.getAllWithPrefix("spark.hadoop.")) {
            hadoop.set(kv._1(), kv._2());
        }
        return hadoop;
    }

    /** The spec --model names, with --normalize and --engine applied. */
    ModelSpec spec(Configuration hadoop) {
        ModelSpec spec = ModelSpec.parse(InputFiles.readText(model, hadoop), model);
        if (normalize != null) {
            spec = spec.withNormalization(normalize);
        }
        if (engine != null) {
            if (engine == Engine.DENSE && !spec.denseStackSupport().supported()) {
                throw usage("--engine: dense is not allowed for " + model + ": the dense-stack engine does not "
                        + "support it (" + spec.denseStackSupport().reason() + "); expected auto or dl4j");
            }
            spec = spec.withEngine(engine);
        }
        return spec;
    }

    /** The training data --train names. */
    DataInput trainInput(Configuration hadoop) {
        return dataInput(train, "--train", hadoop);
    }

    /** A dataset read like the training data; a missing path fails now, before Spark starts. */
    DataInput dataInput(String uri, String flag, Configuration hadoop) {
        DataFormat f = format != null ? format : InputFiles.formatOf(uri, hadoop);
        if (f == null) {
            throw usage(flag + ": cannot tell the format of '" + uri + "' from its file names; add --format idx, csv, "
                    + "libsvm or parquet");
        }
        if (scaleDivisor != null && !(scaleDivisor > 0 && Float.isFinite(scaleDivisor))) {
            throw usage("--scale: " + scaleDivisor + " is not allowed; expected a positive number");
        }
        if (labelColumn < 0) {
            throw usage("--label-column: " + labelColumn + " is not allowed; expected a 0-based column index of 0 or more");
        }
        if (delimiter == '"' || delimiter == '\n' || delimiter == '\r') {
            throw usage("--delimiter: '" + delimiter + "' cannot separate fields; expected a character such as ',' ';' "
                    + "or a tab");
        }
        float scale = scaleDivisor != null ? 1f / scaleDivisor : f == DataFormat.IDX ? DataInput.IDX_DEFAULT_SCALE : 1f;
        if (f == DataFormat.IDX) {
            InputFiles.idxPair(uri, hadoop);
        } else {
            InputFiles.dataFiles(uri, hadoop);
        }
        // Executors resolve a relative path against their own working folders: send an absolute one.
        return new DataInput(InputFiles.qualified(uri, hadoop), f, scale, labelColumn, header, delimiter, featuresCol,
                labelCol, onBadRecord == BadRecordPolicy.SKIP);
    }

    /** The run's configuration; --workers defaults to Spark's parallelism once Spark runs ({@link #withWorkers}). */
    TrainingConfig config(ModelSpec spec, DataInput trainInput, DataInput testInput, double validationFraction,
            boolean stratify) {
        try {
            return new TrainingConfig(spec, trainInput, testInput, epochs, batchSize, workers == null ? 1 : workers,
                    averagingFrequency, validationFraction, seed == null ? spec.seed() : seed, output, cache, stratify);
        } catch (InputException e) {
            throw usage(e.getMessage());
        }
    }

    /** The output folder, checked: writable, and not holding {@code finishedFile} unless --overwrite. */
    RunOutputs outputs(Configuration hadoop, String finishedFile) {
        RunOutputs outputs = new RunOutputs(output, hadoop);
        outputs.checkWritable(overwrite, finishedFile);
        return outputs;
    }

    /** Starts Spark quietly and warns when executors look too small for ND4J's off-heap memory. */
    JavaSparkContext startSpark(SparkConf conf, ModelSpec spec, PrintWriter err) {
        JavaSparkContext jsc;
        try {
            jsc = new JavaSparkContext(conf);
        } catch (Exception e) {
            // Spark reports a bad master URL as a SparkException: checked, but thrown unchecked from Scala.
            if (String.valueOf(e.getMessage()).contains("Master URL")) {
                throw usage("--master: '" + conf.get("spark.master") + "' is not a Spark master; expected local[N], "
                        + "spark://HOST:PORT, yarn or k8s://HOST:PORT");
            }
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
        }
        jsc.setLogLevel("WARN");
        ExecutorMemoryCheck.warnings(jsc.getConf(), spec.parameterCount())
                .forEach(warning -> err.println("dptrain: warning: " + warning.replaceAll("\\s*\n\\s*", " ")));
        err.flush();
        return jsc;
    }

    /** {@code config} with Spark's default parallelism as --workers when the flag was not given. */
    TrainingConfig withWorkers(TrainingConfig c, JavaSparkContext jsc) {
        if (workers != null) {
            return c;
        }
        return new TrainingConfig(c.spec(), c.train(), c.test(), c.epochs(), c.batchSize(), jsc.defaultParallelism(),
                c.averagingFrequency(), c.validationFraction(), c.seed(), c.output(), c.cache(),
                c.stratify());
    }

    String output() {
        return output;
    }

    CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(command.commandLine(), message);
    }

    /** Parses {@code --averaging-frequency}: a positive number of minibatches, or {@code epoch}. */
    static final class AveragingFrequencyConverter implements CommandLine.ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            if (value.equalsIgnoreCase("epoch")) {
                return TrainingConfig.EVERY_EPOCH;
            }
            try {
                int k = Integer.parseInt(value.trim());
                if (k >= 1) {
                    return k;
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new CommandLine.TypeConversionException("'" + value
                    + "' is not allowed; expected a whole number of minibatches >= 1, or 'epoch'");
        }
    }
}
