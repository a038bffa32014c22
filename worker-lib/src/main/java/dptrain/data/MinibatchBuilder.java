package dptrain.data;

import dptrain.spec.TargetEncoding;
import java.io.Serializable;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Groups a stream of examples into minibatches of a fixed size (the last one may be smaller, as in
 * Keras): scales the features, normalizes them when a fitted normalizer is given, and encodes integer labels as the
 * model's loss expects (one-hot is the book's {@code to_categorical}); regression targets are copied as they are.
 */
public final class MinibatchBuilder implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int batchSize;
    private final int featureCount;
    private final int outputSize;
    private final TargetEncoding encoding;
    private final float scale;
    private final FeatureNormalizer normalizer;

    /**
     * @param scale every feature value is multiplied by this (1/255 turns bytes into [0, 1])
     */
    public MinibatchBuilder(int batchSize, int featureCount, int outputSize, TargetEncoding encoding, float scale) {
        this(batchSize, featureCount, outputSize, encoding, scale, null);
    }

    private MinibatchBuilder(int batchSize, int featureCount, int outputSize, TargetEncoding encoding, float scale,
            FeatureNormalizer normalizer) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.batchSize = batchSize;
        this.featureCount = featureCount;
        this.outputSize = outputSize;
        this.encoding = encoding;
        this.scale = scale;
        this.normalizer = normalizer;
    }

    /** The same builder that also normalizes the scaled features with {@code fitted}. */
    public MinibatchBuilder withNormalizer(FeatureNormalizer fitted) {
        return new MinibatchBuilder(batchSize, featureCount, outputSize, encoding, scale, fitted);
    }

    /** The factor every feature is multiplied by before any normalization. */
    public float scale() {
        return scale;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Features per example. */
    public int featureCount() {
        return featureCount;
    }

    private int targetCount() {
        return encoding == TargetEncoding.ONE_HOT || encoding == TargetEncoding.REAL ? outputSize : 1;
    }

    /** Lazily groups {@code examples}; each example must already have been checked against the model. */
    public Iterator<Minibatch> batches(Iterator<Example> examples) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return examples.hasNext();
            }

            @Override
            public Minibatch next() {
                if (!examples.hasNext()) {
                    throw new NoSuchElementException();
                }
                return build(examples);
            }
        };
    }

    private Minibatch build(Iterator<Example> examples) {
        Example[] rows = new Example[batchSize];
        int count = 0;
        while (count < batchSize && examples.hasNext()) {
            rows[count++] = examples.next();
        }
        int targetCount = targetCount();
        float[] features = new float[count * featureCount];
        float[] targets = new float[count * targetCount];
        int[] labels = new int[count];
        for (int r = 0; r < count; r++) {
            float[] x = rows[r].features();
            if (x.length != featureCount) {
                throw new IllegalStateException("example with " + x.length + " features reached a model with "
                        + featureCount + " inputs; examples must be checked before batching");
            }
            int offset = r * featureCount;
            for (int f = 0; f < featureCount; f++) {
                features[offset + f] = x[f] * scale;
            }
            int label = rows[r].label();
            labels[r] = label;
            switch (encoding) {
                case ONE_HOT -> targets[r * targetCount + label] = 1f;
                case CLASS_INDEX, SCALAR -> targets[r] = label;
                case REAL -> {
                    // Unlabeled examples (prediction) have no targets; their row stays 0 and nothing reads it.
                    float[] values = rows[r].targets();
                    if (values != null) {
                        System.arraycopy(values, 0, targets, r * targetCount, targetCount);
                    }
                }
            }
        }
        if (normalizer != null) {
            normalizer.apply(features, count, featureCount);
        }
        return new Minibatch(features, targets, labels, featureCount, targetCount);
    }
}
