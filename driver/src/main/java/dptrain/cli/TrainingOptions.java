package dptrain.cli;

import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingConfigBuilder;
import dptrain.driver.files.InputFiles;
import dptrain.driver.files.ParameterException;
import dptrain.driver.input.DataInput;
import dptrain.driver.output.RunOutputs;
import dptrain.driver.pipeline.BatchScope;
import dptrain.driver.pipeline.CacheMode;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.OptimizerStateScope;
import dptrain.spec.Engine;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import dptrain.spec.Normalization;
import java.io.PrintWriter;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The flags every training command shares (train, cv), with the data and Spark flags of
 * {@link DataOptions} and {@link SparkOptions}, each declared once with its default and
 * description, and the one place that checks them and turns them into a {@link TrainingConfig}.
 */
final class TrainingOptions {

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec command;

    @Option(names = "--model", required = true, paramLabel = "SPEC",
            description = "Model spec: YAML/JSON in Keras terms, a DL4J MultiLayerConfiguration JSON, or a Keras "
                    + "Sequential model: .h5 (training starts from its weights) or model JSON.")
    String model;

    @Option(names = "--train", required = true, paramLabel = "URI",
            description = "Training data: a file, folder or glob on any Hadoop filesystem. For IDX, the images file "
                    + "(its labels file is found beside it) or a folder holding one images/labels pair.")
    String train;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "" + TrainingConfig.DEFAULT_EPOCHS, description = "Passes over the training data (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "" + TrainingConfig.DEFAULT_BATCH_SIZE,
            description = "Examples per minibatch of all workers together, or per worker with --batch-scope worker "
                    + "(default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--batch-scope", paramLabel = "global|worker|auto", converter = BatchScopeConverter.class,
            description = "What --batch-size counts: global (all workers' minibatch together: N workers take "
                    + "ceil(B/N) each, the optimizer steps per epoch of one worker), worker (each worker's), or "
                    + "auto (split only as far as every replica keeps "
                    + BatchScope.AUTO_MIN_MINIBATCHES_PER_EPOCH + " minibatches per epoch) (default: global; "
                    + "chosen in PARITY.md).")
    BatchScope batchScope;

    @Option(names = "--delta-precision", paramLabel = "float32|float16|bfloat16",
            converter = DeltaPrecisionConverter.class,
            description = "The precision each averaging round's parameter deltas travel in: float32 (exact), or "
                    + "float16 or bfloat16 (rounded with error feedback; the epoch's last round, and a round a "
                    + "checkpoint follows, stay float32) (default: float32; PARITY.md).")
    DeltaPrecision deltaPrecision;

    @Option(names = "--optimizer-state", paramLabel = "averaged|local", converter = OptimizerStateConverter.class,
            description = "Where the optimizer state lives between averaging rounds: averaged (with the "
                    + "parameters every round) or local (each replica keeps its own, only the parameters are "
                    + "averaged; the epoch's last round, and a round a checkpoint follows, average it too) "
                    + "(default: averaged; PARITY.md).")
    OptimizerStateScope optimizerState;

    @Option(names = "--workers", paramLabel = "N",
            description = "Model replicas, one Spark partition each (default: Spark's default parallelism).")
    Integer workers;

    @Option(names = "--averaging-frequency", paramLabel = "K|epoch|auto", defaultValue = "auto",
            converter = AveragingScheduleConverter.class,
            description = "Average the replicas every K minibatches, once per epoch, or auto: every "
                    + AveragingSchedule.RECOMMENDED_MINIBATCHES_PER_ROUND + " with 2+ workers, once per epoch with "
                    + "one (default: ${DEFAULT-VALUE}; chosen in PARITY.md).")
    AveragingSchedule averaging;

    @Option(names = "--block-momentum", paramLabel = "M|auto", defaultValue = "auto",
            description = "Block momentum (BMUF) on each round's averaged update: a number in [0, 1) (0 is plain "
                    + "averaging), or auto: Nesterov block momentum " + BlockMomentum.RECOMMENDED_MOMENTUM
                    + " with 2+ workers averaging every " + BlockMomentum.RECOMMENDED_MIN_BATCHES_PER_ROUND
                    + "+ minibatches or once per epoch, else plain (default: ${DEFAULT-VALUE}; chosen in "
                    + "PARITY.md).")
    String blockMomentum;

    @Option(names = "--block-lr", paramLabel = "Z", defaultValue = "1",
            description = "Block learning rate of block momentum, > 0 (default: ${DEFAULT-VALUE}).")
    double blockLearningRate;

    @Option(names = "--block-nesterov", description = "With --block-momentum: Nesterov block momentum (each round "
            + "starts from the look-ahead point).")
    boolean blockNesterov;

    @Option(names = "--seed", paramLabel = "S",
            description = "Seeds the shuffle, the split and dropout (default: the spec's seed).")
    Long seed;

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

    @Option(names = "--cache", paramLabel = "memory|disk|none", defaultValue = "memory",
            description = "Where the minibatches, built once, are kept between rounds: executor memory (fastest), "
                    + "executor disk (data larger than memory), or none (rebuilt from shuffle files each round); "
                    + "the examples read to build them are kept in memory (spilling to disk) with memory, on disk "
                    + "otherwise (default: ${DEFAULT-VALUE}).")
    CacheMode cache;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "dptrain-output",
            description = "Folder for model.zip, history.json and provenance.json, on any Hadoop filesystem (default: ${DEFAULT-VALUE}).")
    String output;

    @Option(names = "--overwrite", description = "Replace what an earlier run left in --output (model, checkpoints): start afresh.")
    boolean overwrite;

    @Mixin
    DataOptions data;

    @Mixin
    SparkOptions spark;

    /** Spark's configuration: the flags, spark-submit's settings, and one BLAS thread per task. */
    SparkConf sparkConf(String appName) {
        return spark.sparkConf(appName);
    }

    /** The Hadoop configuration the driver reads inputs with: spark.hadoop.* settings apply. */
    static Configuration hadoopConfiguration(SparkConf conf) {
        return SparkOptions.hadoopConfiguration(conf);
    }

    /**
     * The model --model names (a spec, with the weights of a Keras .h5 file), with --normalize and
     * --engine applied.
     */
    ModelFile modelFile(Configuration hadoop) {
        ModelFile file = ModelFile.read(InputFiles.readBytes(model, hadoop), model);
        ModelSpec spec = file.spec();
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
        return new ModelFile(spec, file.initialWeights());
    }

    /** Refuses --no-label for {@code commandName}, which needs labels for {@code why}. */
    void requireLabels(String commandName, String why) {
        data.requireLabels(commandName, why, command.commandLine());
    }

    /** The training data --train names. */
    DataInput trainInput(Configuration hadoop) {
        return dataInput(train, "--train", hadoop);
    }

    /** A dataset read like the training data; a missing path fails now, before Spark starts. */
    DataInput dataInput(String uri, String flag, Configuration hadoop) {
        return data.dataInput(uri, flag, hadoop, null, command.commandLine());
    }

    /**
     * A builder holding the flags this class declares; the command adds its own and builds. --workers
     * defaults to Spark's parallelism once Spark runs ({@link TrainingConfig#resolve}).
     */
    TrainingConfigBuilder config(ModelFile model, DataInput trainInput) {
        ModelSpec spec = model.spec();
        TrainingConfigBuilder b = TrainingConfig.builder(spec, trainInput).epochs(epochs).batchSize(batchSize)
                .averaging(averaging).cache(cache).output(output).initialWeights(model.initialWeights());
        if (workers != null) {
            b.workers(workers);
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (batchScope != null) {
            b.batchScope(batchScope);
        }
        if (deltaPrecision != null) {
            b.deltaPrecision(deltaPrecision);
        }
        if (optimizerState != null) {
            b.optimizerState(optimizerState);
        }
        blockMomentum().ifPresent(b::blockMomentum);
        return b;
    }

    /** Builds {@code config}, turning a parameter that is not allowed into a usage error naming its flag. */
    TrainingConfig build(TrainingConfigBuilder config) {
        try {
            return config.build();
        } catch (ParameterException e) {
            throw usage(e.message(ParameterException::flag));
        }
    }

    /** The output folder, checked: writable, and not holding {@code finishedFile} unless --overwrite. */
    RunOutputs outputs(Configuration hadoop, String finishedFile) {
        return outputs(hadoop, finishedFile, false);
    }

    /** Like {@link #outputs(Configuration, String)}; {@code replaceFinished} allows replacing a finished run as --overwrite does. */
    RunOutputs outputs(Configuration hadoop, String finishedFile, boolean replaceFinished) {
        RunOutputs outputs = new RunOutputs(output, hadoop);
        outputs.checkWritable(overwrite || replaceFinished, finishedFile);
        return outputs;
    }

    boolean overwrite() {
        return overwrite;
    }

    /**
     * Starts Spark, warns when executors look too small for ND4J's off-heap memory, runs {@code work}
     * and stops Spark ({@link SparkOptions#run}).
     */
    int withSpark(SparkConf conf, ModelSpec spec, PrintWriter err, SparkOptions.SparkWork work) {
        return spark.run(conf, spec.parameterCount(), err, command.commandLine(), work);
    }

    /**
     * --block-momentum, --block-lr and --block-nesterov as given; empty for {@code auto}, which
     * {@link TrainingConfig#resolve} sets once the number of workers is known.
     */
    private Optional<BlockMomentum> blockMomentum() {
        if ("auto".equalsIgnoreCase(blockMomentum.trim())) {
            if (blockNesterov || blockLearningRate != 1) {
                throw usage("--block-lr and --block-nesterov need a number for --block-momentum; auto sets them "
                        + "itself (Nesterov, block learning rate 1)");
            }
            return Optional.empty();
        }
        double momentum;
        try {
            momentum = Double.parseDouble(blockMomentum.trim());
        } catch (NumberFormatException e) {
            throw usage("--block-momentum: '" + blockMomentum + "' is not allowed; expected a number in [0, 1), "
                    + "e.g. 1 - 1/workers, or auto");
        }
        try {
            return Optional.of(new BlockMomentum(momentum, blockLearningRate, blockNesterov));
        } catch (ParameterException e) {
            throw usage(e.message(ParameterException::flag));
        }
    }

    String output() {
        return output;
    }

    CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(command.commandLine(), message);
    }

    /** Parses {@code --averaging-frequency}: a positive number of minibatches, {@code epoch} or {@code auto}. */
    static final class AveragingScheduleConverter implements CommandLine.ITypeConverter<AveragingSchedule> {
        @Override
        public AveragingSchedule convert(String value) {
            // picocli names the flag itself: "Invalid value for option '--averaging-frequency': ..."
            return parsedOrRefused(AveragingSchedule::parse, value);
        }
    }

    /**
     * {@code parse}'s value of {@code value}, or picocli's conversion failure with the parameter's
     * reason (picocli names the flag itself).
     */
    private static <T> T parsedOrRefused(java.util.function.Function<String, T> parse, String value) {
        try {
            return parse.apply(value);
        } catch (ParameterException e) {
            throw new CommandLine.TypeConversionException(e.message(k -> "").replaceFirst("^: ", ""));
        }
    }

    /** Parses {@code --optimizer-state}: averaged or local. */
    static final class OptimizerStateConverter implements CommandLine.ITypeConverter<OptimizerStateScope> {
        @Override
        public OptimizerStateScope convert(String value) {
            return parsedOrRefused(TrainingConfigBuilder::parseOptimizerState, value);
        }
    }

    /** Parses {@code --delta-precision}: float32, float16 or bfloat16. */
    static final class DeltaPrecisionConverter implements CommandLine.ITypeConverter<DeltaPrecision> {
        @Override
        public DeltaPrecision convert(String value) {
            return parsedOrRefused(TrainingConfigBuilder::parseDeltaPrecision, value);
        }
    }

    /** Parses {@code --batch-scope}: worker, global or auto. */
    static final class BatchScopeConverter implements CommandLine.ITypeConverter<BatchScope> {
        @Override
        public BatchScope convert(String value) {
            return parsedOrRefused(BatchScope::parse, value);
        }
    }
}
