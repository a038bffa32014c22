package dptrain.driver;

import dptrain.spec.ModelSpec;
import java.util.LinkedHashMap;
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
 */
public record TrainingConfig(ModelSpec spec, DataInput train, DataInput test, int epochs, int batchSize, int workers,
        int averagingFrequency, double validationFraction, long seed, String output, CacheMode cache,
        boolean stratify) {

    /** With minibatches kept in executor memory, the default. */
    public TrainingConfig(ModelSpec spec, DataInput train, DataInput test, int epochs, int batchSize, int workers,
            int averagingFrequency, double validationFraction, long seed, String output) {
        this(spec, train, test, epochs, batchSize, workers, averagingFrequency, validationFraction, seed, output,
                CacheMode.MEMORY, false);
    }

    /** {@code averagingFrequency} value meaning "average once per epoch". */
    public static final int EVERY_EPOCH = 0;

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
        m.put("output", output);
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
