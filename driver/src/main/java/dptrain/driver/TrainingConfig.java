package dptrain.driver;

import dptrain.driver.checkpoint.Checkpointing;
import dptrain.driver.files.InputException;
import dptrain.driver.input.DataFormat;
import dptrain.driver.input.DataInput;
import dptrain.driver.pipeline.CacheMode;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.spec.InitialWeights;
import dptrain.spec.ModelSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one training run needs, validated once on construction. The CLI builds it from
 * flags; a library user builds it directly.
 *
 * @param spec               the network to train
 * @param train              the training data
 * @param test               data evaluated once after training, or null
 * @param epochs             passes over the training data
 * @param batchSize          examples per minibatch per replica
 * @param workers            replicas, one Spark partition each
 * @param averagingFrequency minibatches per replica between averagings, or {@link #EVERY_EPOCH}
 * @param validationFraction fraction of the training data held out for validation (0 for none)
 * @param seed               seeds the shuffle, the split and dropout
 * @param output             where model, history and provenance go (any Hadoop filesystem URI)
 * @param cache              where the prebuilt minibatches are kept between rounds
 * @param stratify           the validation split takes the same fraction of every class
 * @param checkpointing      when checkpoints are written and whether the run resumes from one
 * @param earlyStopping      when training stops early on val_loss, and whether the best state is kept
 * @param blockMomentum      block momentum on the averaged update, or {@link BlockMomentum#NONE} for plain averaging
 * @param initialWeights     the parameters training starts from (e.g. a Keras .h5 file's), or null for the spec's
 *                           initializers
 * @param validationData     separate validation data evaluated after every epoch (Keras's validation_data), or null;
 *                           excludes {@code validationFraction}
 */
public record TrainingConfig(ModelSpec spec, DataInput train, DataInput test, int epochs, int batchSize, int workers,
        int averagingFrequency, double validationFraction, long seed, String output, CacheMode cache,
        boolean stratify, Checkpointing checkpointing, EarlyStopping earlyStopping, BlockMomentum blockMomentum,
        InitialWeights initialWeights, DataInput validationData) {

    /** Without checkpoints or early stopping. */
    public TrainingConfig(ModelSpec spec, DataInput train, DataInput test, int epochs, int batchSize, int workers,
            int averagingFrequency, double validationFraction, long seed, String output, CacheMode cache,
            boolean stratify) {
        this(spec, train, test, epochs, batchSize, workers, averagingFrequency, validationFraction, seed, output, cache,
                stratify, Checkpointing.NONE, EarlyStopping.NONE, BlockMomentum.NONE, null, null);
    }

    /** With minibatches kept in executor memory, the default. */
    public TrainingConfig(ModelSpec spec, DataInput train, DataInput test, int epochs, int batchSize, int workers,
            int averagingFrequency, double validationFraction, long seed, String output) {
        this(spec, train, test, epochs, batchSize, workers, averagingFrequency, validationFraction, seed, output,
                CacheMode.MEMORY, false);
    }

    /**
     * Keras's EarlyStopping on val_loss: stop after {@code patience} epochs without a lower val_loss
     * (0: never), and with {@code restoreBest} end with the best epoch's state rather than the last.
     */
    public record EarlyStopping(int patience, boolean restoreBest) {
        public static final EarlyStopping NONE = new EarlyStopping(0, false);

        public EarlyStopping {
            if (patience < 0) {
                throw new InputException("--early-stopping-patience: " + patience
                        + " is not allowed; expected a whole number of epochs >= 1");
            }
            if (restoreBest && patience == 0) {
                throw new InputException("--restore-best needs --early-stopping-patience: without early stopping "
                        + "there is no best epoch to restore");
            }
        }

        public boolean enabled() {
            return patience > 0;
        }
    }

    /** This configuration with {@code n} workers. */
    public TrainingConfig withWorkers(int n) {
        return new TrainingConfig(spec, train, test, epochs, batchSize, n, averagingFrequency, validationFraction, seed,
                output, cache, stratify, checkpointing, earlyStopping, blockMomentum, initialWeights, validationData);
    }

    /** This configuration averaging every {@code k} minibatches, or once per epoch ({@link #EVERY_EPOCH}). */
    public TrainingConfig withAveragingFrequency(int k) {
        return new TrainingConfig(spec, train, test, epochs, batchSize, workers, k, validationFraction, seed, output,
                cache, stratify, checkpointing, earlyStopping, blockMomentum, initialWeights, validationData);
    }

    /** This configuration with other checkpoint settings. */
    public TrainingConfig withCheckpointing(Checkpointing c) {
        return new TrainingConfig(spec, train, test, epochs, batchSize, workers, averagingFrequency, validationFraction,
                seed, output, cache, stratify, c, earlyStopping, blockMomentum, initialWeights, validationData);
    }

    /** This configuration with other early stopping settings. */
    public TrainingConfig withEarlyStopping(EarlyStopping e) {
        return new TrainingConfig(spec, train, test, epochs, batchSize, workers, averagingFrequency, validationFraction,
                seed, output, cache, stratify, checkpointing, e, blockMomentum, initialWeights, validationData);
    }

    /** This configuration with block momentum {@code b} on the averaged updates. */
    public TrainingConfig withBlockMomentum(BlockMomentum b) {
        return new TrainingConfig(spec, train, test, epochs, batchSize, workers, averagingFrequency, validationFraction,
                seed, output, cache, stratify, checkpointing, earlyStopping, b, initialWeights, validationData);
    }

    /** This configuration starting from {@code weights} (null: the spec's initializers). */
    public TrainingConfig withInitialWeights(InitialWeights weights) {
        return new TrainingConfig(spec, train, test, epochs, batchSize, workers, averagingFrequency, validationFraction,
                seed, output, cache, stratify, checkpointing, earlyStopping, blockMomentum, weights, validationData);
    }

    /** This configuration validating on {@code data} after every epoch instead of a held-out fraction. */
    public TrainingConfig withValidationData(DataInput data) {
        return new TrainingConfig(spec, train, test, epochs, batchSize, workers, averagingFrequency, validationFraction,
                seed, output, cache, stratify, checkpointing, earlyStopping, blockMomentum, initialWeights, data);
    }

    /** {@code averagingFrequency} value meaning "average once per epoch". */
    public static final int EVERY_EPOCH = 0;

    /** Minibatches per replica per round that {@link #recommendedAveragingFrequency} picks for 2+ workers. */
    public static final int RECOMMENDED_BATCHES_PER_ROUND = 16;

    /**
     * dptrain's default averaging frequency (--averaging-frequency auto), chosen from the parity
     * table (PARITY.md): every {@value #RECOMMENDED_BATCHES_PER_ROUND} minibatches for 2 or more
     * workers, with {@link BlockMomentum#recommended}'s block momentum the only setting that kept 2, 4
     * and 8 workers within half a point of one machine; once per epoch for one worker, whose
     * result does not depend on it (one replica's average is itself).
     */
    public static int recommendedAveragingFrequency(int workers) {
        return workers > 1 ? RECOMMENDED_BATCHES_PER_ROUND : EVERY_EPOCH;
    }

    /** Default passes over the training data (the CLI's --epochs, the Spark ML estimator's epochs). */
    public static final int DEFAULT_EPOCHS = 5;

    /** Default examples per minibatch per replica (--batch-size, batchSize). */
    public static final int DEFAULT_BATCH_SIZE = 128;

    public TrainingConfig {
        require(epochs >= 1, "--epochs", epochs, "a whole number >= 1");
        require(batchSize >= 1, "--batch-size", batchSize, "a whole number >= 1");
        require(workers >= 1, "--workers", workers, "a whole number >= 1");
        require(averagingFrequency >= 0, "--averaging-frequency", averagingFrequency,
                "a whole number of minibatches >= 1, or 'epoch'");
        require(cache != null, "--cache", cache, "memory, disk or none");
        require(validationFraction >= 0 && validationFraction < 1, "--validation-split", validationFraction,
                "a fraction in [0, 1)");
        require(checkpointing != null, "checkpointing", checkpointing, "checkpoint settings");
        require(earlyStopping != null, "earlyStopping", earlyStopping, "early stopping settings");
        require(blockMomentum != null, "blockMomentum", blockMomentum, "block momentum settings");
        if (initialWeights != null && initialWeights.count() != spec.parameterCount()) {
            throw new IllegalArgumentException(initialWeights + " do not fit " + spec);
        }
        if (validationData != null && validationFraction > 0) {
            throw new InputException("--validation-data and --validation-split exclude each other: validate either on "
                    + "separate data or on a held-out fraction of --train");
        }
        if (earlyStopping.enabled() && validationFraction == 0 && validationData == null) {
            throw new InputException("--early-stopping-patience needs --validation-split or --validation-data: early "
                    + "stopping watches val_loss, which needs validation data");
        }
    }

    private static void require(boolean ok, String name, Object value, String expected) {
        if (!ok) {
            throw new InputException(name + ": " + value + " is not allowed; expected " + expected);
        }
    }

    /** Minibatches per replica per averaging round, given the most minibatches any replica has per epoch. */
    public int batchesPerRound(int maxBatchesPerEpoch) {
        return averagingFrequency == EVERY_EPOCH ? Math.max(1, maxBatchesPerEpoch) : averagingFrequency;
    }

    /** The settings a resumed run must share with the checkpoint's run, in user-facing names. */
    public Map<String, Object> resumeSettings() {
        Map<String, Object> all = describe();
        Map<String, Object> m = new LinkedHashMap<>();
        for (String key : List.of("batch_size", "workers", "validation_split", "stratify", "seed", "train",
                "block_momentum", "block_lr", "block_nesterov")) {
            m.put(key, all.get(key));
        }
        Map<String, Object> model = new LinkedHashMap<>(spec().describe());
        // The optimizer's settings may change on resume (e.g. a lower learning rate after divergence).
        model.remove("optimizer");
        model.remove("source");
        m.put("model", model);
        m.put("normalization", spec().normalization().name().toLowerCase(java.util.Locale.ROOT));
        return m;
    }

    /** The parameters as provenance records them, with their user-facing names. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epochs", epochs);
        m.put("batch_size", batchSize);
        m.put("workers", workers);
        m.put("averaging_frequency", averagingFrequency == EVERY_EPOCH ? "epoch" : averagingFrequency);
        m.put("validation_split", validationFraction);
        m.put("stratify", stratify);
        m.put("seed", seed);
        m.put("cache", cache.name().toLowerCase(java.util.Locale.ROOT));
        m.put("train", describe(train));
        m.put("test", test == null ? null : describe(test));
        m.put("validation_data", validationData == null ? null : describe(validationData));
        m.put("output", output);
        m.put("checkpoint_every_rounds", checkpointing.everyRounds());
        m.put("keep_checkpoints", checkpointing.keep());
        m.put("early_stopping_patience", earlyStopping.patience());
        m.put("restore_best", earlyStopping.restoreBest());
        m.put("block_momentum", blockMomentum.momentum());
        m.put("block_lr", blockMomentum.blockLearningRate());
        m.put("block_nesterov", blockMomentum.nesterov());
        m.put("initial_weights", initialWeights == null ? "initializers" : initialWeights.source());
        return m;
    }

    private static Map<String, Object> describe(DataInput input) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("uri", input.uri());
        m.put("format", input.format().cliName());
        m.put("scale", input.scale());
        if (input.format() == DataFormat.CSV) {
            m.put("label_column", input.labelColumn());
            m.put("header", input.header());
            m.put("delimiter", String.valueOf(input.delimiter()));
        }
        if (input.format() == DataFormat.PARQUET) {
            m.put("features_col", input.featuresColumn());
            m.put("label_col", input.labelName());
        }
        return m;
    }
}
