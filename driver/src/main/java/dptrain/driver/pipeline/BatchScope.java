package dptrain.driver.pipeline;

import dptrain.driver.files.ParameterException;
import java.util.Locale;

/**
 * What the batch size counts: each worker's minibatch ({@link #WORKER}), or the minibatch of all
 * workers together, split between them ({@link #GLOBAL}), or {@link #AUTO}, which splits it only as
 * far as it takes for every replica to keep {@value #AUTO_MIN_MINIBATCHES_PER_EPOCH} minibatches
 * per epoch. Parsed from and printed as {@code worker}, {@code global} or {@code auto} (the CLI's
 * {@code --batch-scope}, the estimator's {@code batchScope}, provenance).
 *
 * <p>Why: a replica takes one optimizer step per minibatch, so with the batch counted per worker
 * N workers take N times fewer sequential steps per epoch than one; averaging N replicas' steps is
 * not worth N steps (PARITY.md). On 8,004 rows, 16 workers of 128 each take 4 steps per epoch.
 * Splitting the batch keeps one worker's steps per epoch, at the price of smaller (slower per
 * example) minibatches and, with rounds counted in minibatches, more rounds per epoch.
 */
public enum BatchScope {
    /** The batch size is each worker's minibatch (the behaviour before this option). */
    WORKER,
    /** The batch size is the global minibatch: each of N workers takes ceil(batch / N) examples per step. */
    GLOBAL,
    /**
     * Each worker's minibatch as large as the batch size allows while every replica keeps {@value
     * #AUTO_MIN_MINIBATCHES_PER_EPOCH} minibatches per epoch, but never smaller than {@link #GLOBAL}'s.
     */
    AUTO;

    /** The parameter key, as messages and provenance name it. */
    public static final String KEY = "batch_scope";

    /**
     * Minibatches per replica per epoch below which {@link #AUTO} splits the batch. From session 6's
     * validation table (PARITY.md), before this option existed: 53 per epoch (Fashion-MNIST, 8
     * workers) held parity, 26 (16 workers) lost 1.5 points.
     */
    public static final int AUTO_MIN_MINIBATCHES_PER_EPOCH = 50;

    /** {@code worker}, {@code global} or {@code auto}, as {@link #toString} writes them. */
    public static BatchScope parse(String text) {
        String value = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        for (BatchScope scope : values()) {
            if (scope.toString().equals(value)) {
                return scope;
            }
        }
        throw ParameterException.notAllowed(KEY, "'" + text + "'", "worker, global or auto");
    }

    /**
     * Examples per minibatch per replica.
     *
     * @param batchSize    the configured batch size, >= 1
     * @param workers      replicas, >= 1
     * @param trainingRows rows left for training (after any validation split); only {@link #AUTO} reads it
     */
    public int workerBatch(int batchSize, int workers, long trainingRows) {
        if (batchSize < 1 || workers < 1) {
            throw new IllegalArgumentException("batch size " + batchSize + " and workers " + workers + " must be >= 1");
        }
        int split = (batchSize + workers - 1) / workers;
        switch (this) {
            case WORKER:
                return batchSize;
            case GLOBAL:
                return split;
            default:
                long perReplica = trainingRows / workers;
                long keepsSteps = perReplica / AUTO_MIN_MINIBATCHES_PER_EPOCH;
                return (int) Math.max(split, Math.min(batchSize, keepsSteps));
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
