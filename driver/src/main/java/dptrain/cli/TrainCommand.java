package dptrain.cli;

import dptrain.driver.DataFormat;
import dptrain.driver.DataInput;
import dptrain.driver.DistributedTrainer;
import dptrain.driver.EpochRecord;
import dptrain.driver.InputException;
import dptrain.driver.InputFiles;
import dptrain.driver.RunOutputs;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingProgress;
import dptrain.driver.TrainingResult;
import dptrain.driver.ValidationReport;
import dptrain.spec.ModelSpec;
import dptrain.spec.Normalization;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import scala.Tuple2;

/** {@code dptrain train}: trains a network data-parallel and writes model, history and provenance. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Trains the network described by --model on --train, data-parallel on Spark.")
final class TrainCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec command;

    @Option(names = "--model", required = true, paramLabel = "SPEC",
            description = "Model spec: YAML/JSON in Keras terms, or a DL4J MultiLayerConfiguration JSON.")
    String model;

    @Option(names = "--train", required = true, paramLabel = "URI",
            description = "Training data: a file, folder or glob on any Hadoop filesystem. For IDX, the images file "
                    + "(its labels file is found beside it) or a folder holding one images/labels pair.")
    String train;

    @Option(names = "--test", paramLabel = "URI", description = "Test data, evaluated once after training.")
    String test;

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

    @Option(names = "--validation-split", paramLabel = "F",
            description = "Fraction in (0, 1) of the training data held out, after a seeded shuffle, for validation (default: none).")
    Double validationSplit;

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

    @Override
    public Integer call() {
        SparkConf conf = sparkConf();
        Configuration hadoop = hadoopConfiguration(conf);
        ModelSpec spec = ModelSpec.parse(InputFiles.readText(model, hadoop), model);
        if (normalize != null) {
            spec = spec.withNormalization(normalize);
        }
        DataInput trainInput = dataInput(train, "--train", hadoop);
        DataInput testInput = test == null ? null : dataInput(test, "--test", hadoop);
        if (validationSplit != null && !(validationSplit > 0 && validationSplit < 1)) {
            throw new CommandLine.ParameterException(command.commandLine(), "--validation-split: " + validationSplit
                    + " is not allowed; expected a fraction in (0, 1), e.g. 0.2");
        }
        TrainingConfig config;
        try {
            config = new TrainingConfig(spec, trainInput, testInput, epochs, batchSize, workers == null ? 1 : workers,
                    averagingFrequency, validationSplit == null ? 0 : validationSplit,
                    seed == null ? spec.seed() : seed, output);
        } catch (InputException e) {
            throw new CommandLine.ParameterException(command.commandLine(), e.getMessage(), e);
        }
        RunOutputs outputs = new RunOutputs(output, hadoop);
        outputs.checkWritable(overwrite);
        PrintWriter out = command.commandLine().getOut();
        Instant start = Instant.now();
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            jsc.setLogLevel("WARN");
            if (workers == null) {
                config = withWorkers(config, jsc.defaultParallelism());
            }
            TrainingResult result = new DistributedTrainer(jsc).train(config, new ConsoleProgress(out, config));
            if (result.test() != null) {
                out.printf(Locale.ROOT, "Test - loss: %.4f - accuracy: %.4f (%d examples)%n", result.test().meanLoss(),
                        result.test().accuracy(), result.test().examples());
            }
            outputs.writeModel(config, result);
            outputs.writeHistory(result);
            outputs.writeProvenance(config, jsc.version(), jsc.master(), start, Instant.now());
            out.printf("Wrote %s, %s and %s to %s%n", RunOutputs.MODEL, RunOutputs.HISTORY, RunOutputs.PROVENANCE, output);
            out.flush();
        }
        return ExitCodes.OK;
    }

    private SparkConf sparkConf() {
        SparkConf conf = new SparkConf().setAppName("dptrain train");
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

    private static Configuration hadoopConfiguration(SparkConf conf) {
        Configuration hadoop = new Configuration();
        for (Tuple2<String, String> kv : conf.getAllWithPrefix("spark.hadoop.")) {
            hadoop.set(kv._1(), kv._2());
        }
        return hadoop;
    }

    private DataInput dataInput(String uri, String flag, Configuration hadoop) {
        DataFormat f = format != null ? format : DataFormat.fromFileName(uri);
        if (f == null) {
            throw new CommandLine.ParameterException(command.commandLine(), flag + ": cannot tell the format of '" + uri
                    + "' from its name; add --format idx, csv, libsvm or parquet");
        }
        if (scaleDivisor != null && !(scaleDivisor > 0 && Float.isFinite(scaleDivisor))) {
            throw new CommandLine.ParameterException(command.commandLine(), "--scale: " + scaleDivisor
                    + " is not allowed; expected a positive number");
        }
        if (labelColumn < 0) {
            throw new CommandLine.ParameterException(command.commandLine(), "--label-column: " + labelColumn
                    + " is not allowed; expected a 0-based column index of 0 or more");
        }
        if (delimiter == '"' || delimiter == '\n' || delimiter == '\r') {
            throw new CommandLine.ParameterException(command.commandLine(), "--delimiter: '" + delimiter
                    + "' cannot separate fields; expected a character such as ',' ';' or a tab");
        }
        float scale = scaleDivisor != null ? 1f / scaleDivisor : f == DataFormat.IDX ? DataInput.IDX_DEFAULT_SCALE : 1f;
        // Fail on a missing path now, before Spark starts.
        if (f == DataFormat.IDX) {
            InputFiles.idxPair(uri, hadoop);
        } else {
            InputFiles.dataFiles(uri, hadoop);
        }
        return new DataInput(uri, f, scale, labelColumn, header, delimiter, featuresCol, labelCol,
                onBadRecord == BadRecordPolicy.SKIP);
    }

    private static TrainingConfig withWorkers(TrainingConfig c, int workers) {
        return new TrainingConfig(c.spec(), c.train(), c.test(), c.epochs(), c.batchSize(), workers,
                c.averagingFrequency(), c.validationFraction(), c.seed(), c.output());
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

    /** Keras-style console output: a summary line, then one line per epoch. */
    private static final class ConsoleProgress implements TrainingProgress {
        private final PrintWriter out;
        private final TrainingConfig config;

        ConsoleProgress(PrintWriter out, TrainingConfig config) {
            this.out = out;
            this.config = config;
        }

        @Override
        public void started(long trainingExamples, long validationExamples, int stepsPerEpoch, int roundsPerEpoch) {
            out.printf(Locale.ROOT, "Train on %d examples%s; %d workers, %d steps per worker per epoch, %s%n",
                    trainingExamples, validationExamples > 0 ? ", validate on " + validationExamples + " examples" : "",
                    config.workers(), stepsPerEpoch,
                    roundsPerEpoch == 1 ? "averaging once per epoch"
                            : "averaging every " + config.batchesPerRound(stepsPerEpoch) + " steps (" + roundsPerEpoch
                                    + " rounds per epoch)");
            out.flush();
        }

        @Override
        public void skipped(String flag, ValidationReport report) {
            if (report.badRecords() > 0) {
                out.println(report.describeSkipped(flag));
                out.flush();
            }
        }

        @Override
        public void epochEnded(EpochRecord record) {
            out.println(record.progressLine(config.epochs()));
            out.flush();
        }
    }
}
