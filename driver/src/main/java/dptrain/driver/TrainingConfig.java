package dptrain.driver;

import dptrain.driver.checkpoint.Checkpointing;
import dptrain.driver.files.ParameterException;
import dptrain.driver.input.DataInput;
import dptrain.driver.pipeline.BatchScope;
import dptrain.driver.pipeline.CacheMode;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.OptimizerStateScope;
import dptrain.spec.InitialWeights;
import dptrain.spec.ModelSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Everything one training run needs, with dptrain's defaults, validated once when {@link
 * TrainingConfigBuilder#build} makes it. The CLI, the Spark ML estimator and library users all build it through
 * {@link #builder}, so the three share every default and every check. A failure is a {@link
 * ParameterException} naming the parameter by its key ({@code batch_size}), which each front end
 * shows in its own terms.
 *
 * <p>Each parameter is documented once, with its default, on its {@link TrainingConfigBuilder} setter; the
 * accessor of the same name returns it.
 *
 * <p>Two settings depend on the number of workers, which may only be known once Spark runs:
 * {@link AveragingSchedule#AUTO} and automatic block momentum. {@link #resolve} fixes both (and
 * the number of workers, if unset) in one place; {@link DistributedTrainer} resolves every
 * configuration it is given.
 */
public final class TrainingConfig {
    /** Default passes over the training data (the CLI's --epochs, the Spark ML estimator's epochs). */
    public static final int DEFAULT_EPOCHS = 5;

    /** Default examples per minibatch, of all workers together by default (--batch-size, batchSize). */
    public static final int DEFAULT_BATCH_SIZE = 128;

    /**
     * Default meaning of the batch size (--batch-scope, batchScope): {@link BatchScope#GLOBAL}, all workers'
     * minibatch together, chosen by PARITY.md's rule (fixed in session 8) on validation data (session 9).
     */
    public static final BatchScope DEFAULT_BATCH_SCOPE = BatchScope.GLOBAL;

    /** The key of the deltas' precision (--delta-precision, deltaPrecision), as messages and provenance name it. */
    public static final String DELTA_PRECISION_KEY = "delta_precision";

    /**
     * Default precision of the rounds' parameter deltas: {@link DeltaPrecision#FLOAT32}, exact. The
     * 16-bit ones were not chosen by PARITY.md's rule (session 10).
     */
    public static final DeltaPrecision DEFAULT_DELTA_PRECISION = DeltaPrecision.FLOAT32;

    /** The key of where the optimizer state lives (--optimizer-state, optimizerState). */
    public static final String OPTIMIZER_STATE_KEY = "optimizer_state";

    /**
     * Default place of the optimizer state between rounds: {@link OptimizerStateScope#AVERAGED}, with
     * the parameters. Keeping it local was not chosen by PARITY.md's rule (session 10).
     */
    public static final OptimizerStateScope DEFAULT_OPTIMIZER_STATE = OptimizerStateScope.AVERAGED;

    private final ModelSpec spec;
    private final DataInput train;
    private final DataInput test;
    private final DataInput validationData;
    private final double validationFraction;
    private final boolean stratify;
    private final CacheMode cache;
    private final int epochs;
    private final int batchSize;
    private final BatchScope batchScope;
    private final long seed;
    private final InitialWeights initialWeights;
    private final OptionalInt workers;
    private final AveragingSchedule averaging;
    private final Optional<BlockMomentum> blockMomentum;
    private final DeltaPrecision deltaPrecision;
    private final OptimizerStateScope optimizerState;
    private final Checkpointing checkpointing;
    private final EarlyStopping earlyStopping;
    private final String output;

    TrainingConfig(TrainingConfigBuilder b) {
        this.spec = b.spec;
        this.train = b.train;
        this.test = b.test;
        this.validationData = b.validationData;
        this.validationFraction = b.validationFraction;
        this.stratify = b.stratify;
        this.cache = b.cache;
        this.epochs = b.epochs;
        this.batchSize = b.batchSize;
        this.batchScope = b.batchScope;
        this.seed = b.seed != null ? b.seed : b.spec.seed();
        this.initialWeights = b.initialWeights;
        this.workers = b.workers;
        this.averaging = b.averaging;
        this.blockMomentum = b.blockMomentum;
        this.deltaPrecision = b.deltaPrecision;
        this.optimizerState = b.optimizerState;
        this.checkpointing = b.checkpointing;
        this.earlyStopping = b.earlyStopping;
        this.output = b.output;
        validate();
    }

    /** A configuration training {@code spec} on {@code train}, with every other setting at its default. */
    public static TrainingConfigBuilder builder(ModelSpec spec, DataInput train) {
        return new TrainingConfigBuilder(spec, train);
    }

    /** A builder holding this configuration's settings, to change some of them. */
    public TrainingConfigBuilder toBuilder() {
        TrainingConfigBuilder b = new TrainingConfigBuilder(spec, train);
        b.test = test;
        b.validationData = validationData;
        b.validationFraction = validationFraction;
        b.stratify = stratify;
        b.cache = cache;
        b.epochs = epochs;
        b.batchSize = batchSize;
        b.batchScope = batchScope;
        b.seed = seed;
        b.initialWeights = initialWeights;
        b.workers = workers;
        b.averaging = averaging;
        b.blockMomentum = blockMomentum;
        b.deltaPrecision = deltaPrecision;
        b.optimizerState = optimizerState;
        b.checkpointing = checkpointing;
        b.earlyStopping = earlyStopping;
        b.output = output;
        return b;
    }

    private void validate() {
        require(epochs >= 1, "epochs", epochs, "a whole number >= 1");
        require(batchSize >= 1, "batch_size", batchSize, "a whole number >= 1");
        require(workers.isEmpty() || workers.getAsInt() >= 1, "workers", workers.orElse(0), "a whole number >= 1");
        require(validationFraction >= 0 && validationFraction < 1, "validation_split", validationFraction,
                "a fraction in [0, 1)");
        for (DataInput data : new DataInput[] {train, test, validationData}) {
            // The CLI refuses --no-label for train and cv first; this guards the library's other callers.
            if (data != null && !data.hasLabels()) {
                throw new IllegalArgumentException(data.uri() + " has no labels (" + data.labels()
                        + "); training and validation need labelled data");
            }
        }
        if (initialWeights != null && initialWeights.count() != spec.parameterCount()) {
            throw new IllegalArgumentException(initialWeights + " do not fit " + spec);
        }
        if (validationData != null && validationFraction > 0) {
            throw new ParameterException("validation_data", "{validation_data} and {validation_split} exclude each "
                    + "other: validate either on separate data or on a held-out fraction of {train}");
        }
        if (stratify && spec.isRegression()) {
            throw new ParameterException("stratify", "{stratify}: the model is a regression (loss "
                    + spec.lossName() + "), whose real-valued targets have no classes to stratify by; expected no "
                    + "{stratify}");
        }
        if (stratify && validationFraction == 0) {
            throw new ParameterException("stratify", "{stratify} needs {validation_split}: there is nothing to "
                    + "stratify without it");
        }
        if (earlyStopping.enabled() && validationFraction == 0 && validationData == null) {
            throw new ParameterException("early_stopping_patience", "{early_stopping_patience} needs "
                    + "{validation_split} or {validation_data}: early stopping watches val_loss, which needs "
                    + "validation data");
        }
    }

    private static void require(boolean ok, String key, Object value, String expected) {
        if (!ok) {
            throw ParameterException.notAllowed(key, value, expected);
        }
    }

    /**
     * This configuration with its worker-dependent settings fixed: the number of workers ({@code
     * defaultWorkers} if none was set, e.g. Spark's default parallelism), the {@code auto}
     * averaging schedule, and automatic block momentum ({@link BlockMomentum#recommended}).
     * Resolving a resolved configuration returns it unchanged.
     */
    public TrainingConfig resolve(int defaultWorkers) {
        if (isResolved()) {
            return this;
        }
        int n = workers.orElse(defaultWorkers);
        AveragingSchedule schedule = averaging.resolve(n);
        return toBuilder().workers(n).averaging(schedule)
                .blockMomentum(blockMomentum.orElseGet(() -> BlockMomentum.recommended(n, schedule))).build();
    }

    /** Whether the number of workers, the averaging schedule and the block momentum are all fixed. */
    public boolean isResolved() {
        return workers.isPresent() && !averaging.isAuto() && blockMomentum.isPresent();
    }

    public ModelSpec spec() {
        return spec;
    }

    public DataInput train() {
        return train;
    }

    public Optional<DataInput> test() {
        return Optional.ofNullable(test);
    }

    public Optional<DataInput> validationData() {
        return Optional.ofNullable(validationData);
    }

    public double validationFraction() {
        return validationFraction;
    }

    public boolean stratify() {
        return stratify;
    }

    public CacheMode cache() {
        return cache;
    }

    public int epochs() {
        return epochs;
    }

    /** The batch size as configured; what it counts is {@link #batchScope}. */
    public int batchSize() {
        return batchSize;
    }

    public BatchScope batchScope() {
        return batchScope;
    }

    /** Where the optimizer state lives between rounds ({@link TrainingConfigBuilder#optimizerState}). */
    public OptimizerStateScope optimizerState() {
        return optimizerState;
    }

    /** The precision the rounds' parameter deltas travel in ({@link TrainingConfigBuilder#deltaPrecision}). */
    public DeltaPrecision deltaPrecision() {
        return deltaPrecision;
    }

    /**
     * Examples per minibatch per replica: the batch size, split between the workers as {@link
     * #batchScope} says ({@link BatchScope#workerBatch}).
     *
     * @param trainingRows rows left for training after any validation split or held-out fold
     * @throws IllegalStateException when the number of workers is not {@linkplain #resolve resolved}
     */
    public int workerBatchSize(long trainingRows) {
        return batchScope.workerBatch(batchSize, workers(), trainingRows);
    }

    public long seed() {
        return seed;
    }

    public Optional<InitialWeights> initialWeights() {
        return Optional.ofNullable(initialWeights);
    }

    /**
     * Replicas, one Spark partition each.
     *
     * @throws IllegalStateException when none was set and the configuration is not {@linkplain #resolve resolved}
     */
    public int workers() {
        return workers.orElseThrow(() -> new IllegalStateException("workers are set by resolve() when not given"));
    }

    public AveragingSchedule averaging() {
        return averaging;
    }

    /**
     * Block momentum on each round's averaged update ({@link BlockMomentum#NONE} for plain averaging).
     *
     * @throws IllegalStateException when automatic and the configuration is not {@linkplain #resolve resolved}
     */
    public BlockMomentum blockMomentum() {
        return blockMomentum.orElseThrow(() -> new IllegalStateException("automatic block momentum is set by "
                + "resolve()"));
    }

    public Checkpointing checkpointing() {
        return checkpointing;
    }

    public EarlyStopping earlyStopping() {
        return earlyStopping;
    }

    public Optional<String> output() {
        return Optional.ofNullable(output);
    }

    /** Minibatches per replica per averaging round, given the most minibatches any replica has per epoch. */
    public int minibatchesPerRound(int maxMinibatchesPerEpoch) {
        return averaging.minibatchesPerRound(maxMinibatchesPerEpoch);
    }

    /** The settings a resumed run must share with the checkpoint's run, in user-facing names. */
    public Map<String, Object> resumeSettings() {
        Map<String, Object> all = describe();
        Map<String, Object> m = new LinkedHashMap<>();
        for (String key : List.of("batch_size", "workers", "validation_split", "stratify", "seed", "train",
                "block_momentum", "block_lr", "block_nesterov")) {
            m.put(key, all.get(key));
        }
        if (batchScope != BatchScope.WORKER) {
            // Only when not per worker, so checkpoints written before the option existed still resume.
            m.put(BatchScope.KEY, all.get(BatchScope.KEY));
        }
        if (deltaPrecision.rounds()) {
            // Likewise only when rounded: a resumed run rounds as the checkpoint's did, for the same bits.
            m.put(DELTA_PRECISION_KEY, all.get(DELTA_PRECISION_KEY));
        }
        if (optimizerState == OptimizerStateScope.LOCAL) {
            m.put(OPTIMIZER_STATE_KEY, all.get(OPTIMIZER_STATE_KEY));
        }
        Map<String, Object> model = new LinkedHashMap<>(spec.describe());
        // The optimizer's settings may change on resume (e.g. a lower learning rate after divergence).
        model.remove("optimizer");
        model.remove("source");
        m.put("model", model);
        m.put("normalization", spec.normalization().name().toLowerCase(Locale.ROOT));
        return m;
    }

    /** The parameters as provenance records them, with their keys; settings not yet resolved show as "auto". */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epochs", epochs);
        m.put("batch_size", batchSize);
        m.put(BatchScope.KEY, batchScope.toString());
        m.put("workers", workers.isPresent() ? (Object) workers.getAsInt() : "auto");
        m.put(AveragingSchedule.KEY, averaging.describe());
        m.put("validation_split", validationFraction);
        m.put("stratify", stratify);
        m.put("seed", seed);
        m.put("cache", cache.name().toLowerCase(Locale.ROOT));
        m.put("train", train.describe());
        m.put("test", test == null ? null : test.describe());
        m.put("validation_data", validationData == null ? null : validationData.describe());
        m.put("output", output);
        m.put("checkpoint_every_rounds", checkpointing.everyRounds());
        m.put("keep_checkpoints", checkpointing.keep());
        m.put("early_stopping_patience", earlyStopping.patience());
        m.put("restore_best", earlyStopping.restoreBest());
        m.put("block_momentum", blockMomentum.isPresent() ? (Object) blockMomentum.get().momentum() : "auto");
        m.put("block_lr", blockMomentum.isPresent() ? (Object) blockMomentum.get().blockLearningRate() : "auto");
        m.put("block_nesterov", blockMomentum.isPresent() ? (Object) blockMomentum.get().nesterov() : "auto");
        m.put(DELTA_PRECISION_KEY, deltaPrecision.toString());
        m.put(OPTIMIZER_STATE_KEY, optimizerState.toString());
        m.put("initial_weights", initialWeights == null ? "initializers" : initialWeights.source());
        return m;
    }
}
