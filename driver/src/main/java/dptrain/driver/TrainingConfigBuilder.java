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
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Collects a {@link TrainingConfig}'s settings: each parameter is declared here once, with its
 * default and what it means; one not set keeps dptrain's default. {@link #build} validates them.
 */
public final class TrainingConfigBuilder {
    final ModelSpec spec;
    final DataInput train;
    DataInput test;
    DataInput validationData;
    double validationFraction;
    boolean stratify;
    CacheMode cache = CacheMode.MEMORY;
    int epochs = TrainingConfig.DEFAULT_EPOCHS;
    int batchSize = TrainingConfig.DEFAULT_BATCH_SIZE;
    BatchScope batchScope = TrainingConfig.DEFAULT_BATCH_SCOPE;
    Long seed;
    InitialWeights initialWeights;
    OptionalInt workers = OptionalInt.empty();
    AveragingSchedule averaging = AveragingSchedule.AUTO;
    Optional<BlockMomentum> blockMomentum = Optional.empty();
    DeltaPrecision deltaPrecision = TrainingConfig.DEFAULT_DELTA_PRECISION;
    OptimizerStateScope optimizerState = TrainingConfig.DEFAULT_OPTIMIZER_STATE;
    Checkpointing checkpointing = Checkpointing.NONE;
    EarlyStopping earlyStopping = EarlyStopping.NONE;
    String output;

    TrainingConfigBuilder(ModelSpec spec, DataInput train) {
        if (spec == null || train == null) {
            throw new IllegalArgumentException("a configuration needs a model spec and training data");
        }
        this.spec = spec;
        this.train = train;
    }

    /** Data evaluated once after training (default: none). */
    public TrainingConfigBuilder test(DataInput data) {
        this.test = data;
        return this;
    }

    /** Separate validation data evaluated after every epoch, instead of a held-out fraction (default: none). */
    public TrainingConfigBuilder validationData(DataInput data) {
        this.validationData = data;
        return this;
    }

    /** Fraction in [0, 1) of the training data held out for validation after a seeded shuffle (default: 0). */
    public TrainingConfigBuilder validationSplit(double fraction) {
        this.validationFraction = fraction;
        return this;
    }

    /** Whether the validation split takes the same fraction of every class (default: no). */
    public TrainingConfigBuilder stratify(boolean stratify) {
        this.stratify = stratify;
        return this;
    }

    /** Where the minibatches are kept between rounds (default: executor memory). */
    public TrainingConfigBuilder cache(CacheMode cache) {
        if (cache == null) {
            throw ParameterException.notAllowed("cache", null, "memory, disk or none");
        }
        this.cache = cache;
        return this;
    }

    /** Passes over the training data (default: {@value TrainingConfig#DEFAULT_EPOCHS}). */
    public TrainingConfigBuilder epochs(int epochs) {
        this.epochs = epochs;
        return this;
    }

    /**
     * Examples per minibatch (default: {@value TrainingConfig#DEFAULT_BATCH_SIZE}), of all workers together or
     * per worker as {@link #batchScope} says.
     */
    public TrainingConfigBuilder batchSize(int batchSize) {
        this.batchSize = batchSize;
        return this;
    }

    /**
     * What {@link #batchSize} counts (default: {@link TrainingConfig#DEFAULT_BATCH_SCOPE}): each
     * worker's minibatch ({@link BatchScope#WORKER}), the global minibatch split between the workers
     * ({@link BatchScope#GLOBAL}: the same optimizer steps per epoch as one worker), or {@link
     * BatchScope#AUTO}: split only as far as every replica needs to keep {@value
     * BatchScope#AUTO_MIN_MINIBATCHES_PER_EPOCH} minibatches per epoch (chosen in PARITY.md).
     */
    public TrainingConfigBuilder batchScope(BatchScope scope) {
        if (scope == null) {
            throw ParameterException.notAllowed(BatchScope.KEY, null, "worker, global or auto");
        }
        this.batchScope = scope;
        return this;
    }

    /**
     * The precision each averaging round's parameter deltas travel in (default: {@link
     * TrainingConfig#DEFAULT_DELTA_PRECISION}): {@link DeltaPrecision#FLOAT32}, the exact states; or
     * {@link DeltaPrecision#FLOAT16} or {@link DeltaPrecision#BFLOAT16}: each replica sends the delta
     * it trained (plus the residual its earlier rounds left) rounded to 16 bits, and the averaged
     * delta comes back rounded the same way, so the replicas' exchange moves about a quarter of the
     * float32 parameters' bytes. An epoch's last round, and a round a checkpoint follows, stay float32
     * and flush the residuals, so checkpoints and {@code --resume} hold no residual. The optimizer
     * state still travels in float32. Accuracy: PARITY.md.
     */
    public TrainingConfigBuilder deltaPrecision(DeltaPrecision precision) {
        if (precision == null) {
            throw ParameterException.notAllowed(TrainingConfig.DELTA_PRECISION_KEY, null, DELTA_PRECISIONS);
        }
        this.deltaPrecision = precision;
        return this;
    }

    private static final String DELTA_PRECISIONS = "float32, float16 or bfloat16";

    /**
     * Where the optimizer state (RMSprop's, Adam's) lives between averaging rounds (default: {@link
     * TrainingConfig#DEFAULT_OPTIMIZER_STATE}): {@link OptimizerStateScope#AVERAGED} with the
     * parameters every round, or {@link OptimizerStateScope#LOCAL}: each replica keeps its own and
     * only the parameters are averaged (DiLoCo's inner optimizer), except in an epoch's last round
     * and a round a checkpoint follows, which average it too, so that checkpoints and {@code
     * --resume} hold one state for all. Not with {@code spark.dptrain.roundExchange=socket}.
     * Accuracy: PARITY.md.
     */
    public TrainingConfigBuilder optimizerState(OptimizerStateScope scope) {
        if (scope == null) {
            throw ParameterException.notAllowed(TrainingConfig.OPTIMIZER_STATE_KEY, null, "averaged or local");
        }
        this.optimizerState = scope;
        return this;
    }

    /** {@code averaged} or {@code local}, for {@link #optimizerState}. */
    public static OptimizerStateScope parseOptimizerState(String text) {
        try {
            return OptimizerStateScope.parse(text == null ? "" : text);
        } catch (IllegalArgumentException e) {
            throw ParameterException.notAllowed(TrainingConfig.OPTIMIZER_STATE_KEY, "'" + text + "'",
                    "averaged or local");
        }
    }

    /** {@code float32}, {@code float16} or {@code bfloat16}, for {@link #deltaPrecision}. */
    public static DeltaPrecision parseDeltaPrecision(String text) {
        try {
            return DeltaPrecision.parse(text == null ? "" : text);
        } catch (IllegalArgumentException e) {
            throw ParameterException.notAllowed(TrainingConfig.DELTA_PRECISION_KEY, "'" + text + "'",
                    DELTA_PRECISIONS);
        }
    }

    /** Seeds the shuffle, the split and dropout (default: the spec's seed). */
    public TrainingConfigBuilder seed(long seed) {
        this.seed = seed;
        return this;
    }

    /** The parameters training starts from, or null for the spec's initializers (the default). */
    public TrainingConfigBuilder initialWeights(InitialWeights weights) {
        this.initialWeights = weights;
        return this;
    }

    /** Replicas, one Spark partition each (default: Spark's default parallelism, set by resolve). */
    public TrainingConfigBuilder workers(int workers) {
        this.workers = OptionalInt.of(workers);
        return this;
    }

    /** How often the replicas are averaged (default: {@link AveragingSchedule#AUTO}). */
    public TrainingConfigBuilder averaging(AveragingSchedule schedule) {
        if (schedule == null) {
            throw new IllegalArgumentException("averaging schedule must be given; AUTO is the default");
        }
        this.averaging = schedule;
        return this;
    }

    /** Block momentum on each round's averaged update; {@link BlockMomentum#NONE} averages plainly. */
    public TrainingConfigBuilder blockMomentum(BlockMomentum momentum) {
        if (momentum == null) {
            throw new IllegalArgumentException("blockMomentum must be given: BlockMomentum.NONE for plain averaging, "
                    + "or autoBlockMomentum()");
        }
        this.blockMomentum = Optional.of(momentum);
        return this;
    }

    /** Block momentum chosen by {@link BlockMomentum#recommended} for the resolved workers (the default). */
    public TrainingConfigBuilder autoBlockMomentum() {
        this.blockMomentum = Optional.empty();
        return this;
    }

    /** When checkpoints are written and whether the run resumes (default: none). */
    public TrainingConfigBuilder checkpointing(Checkpointing checkpointing) {
        if (checkpointing == null) {
            throw new IllegalArgumentException("checkpointing must be given: Checkpointing.NONE for none");
        }
        this.checkpointing = checkpointing;
        return this;
    }

    /** Early stopping on val_loss (default: none). */
    public TrainingConfigBuilder earlyStopping(EarlyStopping earlyStopping) {
        if (earlyStopping == null) {
            throw new IllegalArgumentException("earlyStopping must be given: EarlyStopping.NONE for none");
        }
        this.earlyStopping = earlyStopping;
        return this;
    }

    /** Where the run's files go, any Hadoop filesystem URI (default: none, for library use). */
    public TrainingConfigBuilder output(String output) {
        this.output = output;
        return this;
    }

    /** The configuration, validated. */
    public TrainingConfig build() {
        return new TrainingConfig(this);
    }
}
