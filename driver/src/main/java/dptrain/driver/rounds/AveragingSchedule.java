package dptrain.driver.rounds;

import dptrain.driver.files.ParameterException;
import java.io.Serializable;
import java.util.Locale;

/**
 * How often the replicas are averaged: every K minibatches per replica, once per epoch, or
 * {@link #AUTO}, which {@link #resolve} turns into dptrain's default for a number of workers.
 * Parsed from and printed as {@code K}, {@code epoch} or {@code auto} (the CLI's
 * {@code --averaging-frequency}, the estimator's {@code averagingFrequency}, provenance).
 */
public final class AveragingSchedule implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The parameter key of the averaging frequency, as messages and provenance name it. */
    public static final String KEY = "averaging_frequency";

    /** Minibatches per replica per round that {@link #resolve} picks for 2+ workers. */
    public static final int RECOMMENDED_MINIBATCHES_PER_ROUND = 16;

    /** dptrain's default: resolved by {@link #resolve} once the number of workers is known. */
    public static final AveragingSchedule AUTO = new AveragingSchedule(Kind.AUTO, 0);

    /** Average once per epoch, after every replica has trained on its whole partition. */
    public static final AveragingSchedule EVERY_EPOCH = new AveragingSchedule(Kind.EVERY_EPOCH, 0);

    private enum Kind { AUTO, EVERY_EPOCH, EVERY_K }

    private final Kind kind;
    private final int minibatches;

    private AveragingSchedule(Kind kind, int minibatches) {
        this.kind = kind;
        this.minibatches = minibatches;
    }

    /** Average every {@code k} minibatches per replica, {@code k >= 1}. */
    public static AveragingSchedule everyMinibatches(int k) {
        if (k < 1) {
            throw ParameterException.notAllowed(KEY, k, "a whole number of minibatches >= 1, 'epoch' or 'auto'");
        }
        return new AveragingSchedule(Kind.EVERY_K, k);
    }

    /** {@code K}, {@code epoch} or {@code auto}, as {@link #toString} writes them. */
    public static AveragingSchedule parse(String text) {
        String value = text.trim().toLowerCase(Locale.ROOT);
        if (value.equals("auto")) {
            return AUTO;
        }
        if (value.equals("epoch")) {
            return EVERY_EPOCH;
        }
        try {
            int k = Integer.parseInt(value);
            if (k >= 1) {
                return everyMinibatches(k);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ParameterException.notAllowed(KEY, "'" + text + "'", "a whole number of minibatches >= 1, 'epoch' or "
                + "'auto'");
    }

    /**
     * This schedule for {@code workers} replicas: {@link #AUTO} becomes dptrain's default, chosen
     * from the parity table (PARITY.md): every {@value #RECOMMENDED_MINIBATCHES_PER_ROUND}
     * minibatches for 2 or more workers, with {@link BlockMomentum#recommended}'s block momentum;
     * once per epoch for one worker, whose result does not depend on it (one replica's average is
     * itself). Other schedules stay as they are.
     */
    public AveragingSchedule resolve(int workers) {
        if (kind != Kind.AUTO) {
            return this;
        }
        return workers > 1 ? everyMinibatches(RECOMMENDED_MINIBATCHES_PER_ROUND) : EVERY_EPOCH;
    }

    public boolean isAuto() {
        return kind == Kind.AUTO;
    }

    public boolean isEveryEpoch() {
        return kind == Kind.EVERY_EPOCH;
    }

    /**
     * Minibatches per replica per round, given the most minibatches any replica has per epoch.
     *
     * @throws IllegalStateException for {@link #AUTO}, which must be {@linkplain #resolve resolved} first
     */
    public int minibatchesPerRound(int maxMinibatchesPerEpoch) {
        return switch (kind) {
            case EVERY_EPOCH -> Math.max(1, maxMinibatchesPerEpoch);
            case EVERY_K -> minibatches;
            case AUTO -> throw new IllegalStateException("averaging 'auto' is resolved for a number of workers first");
        };
    }

    /** Whether rounds are at least {@code min} minibatches long (once per epoch counts as long). */
    boolean atLeast(int min) {
        return kind == Kind.EVERY_EPOCH || kind == Kind.EVERY_K && minibatches >= min;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AveragingSchedule other && other.kind == kind && other.minibatches == minibatches;
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + minibatches;
    }

    /** As provenance.json records it: {@code "auto"}, {@code "epoch"}, or the number of minibatches as a number. */
    public Object describe() {
        return kind == Kind.EVERY_K ? (Object) minibatches : toString();
    }

    /** {@code auto}, {@code epoch} or the number of minibatches. */
    @Override
    public String toString() {
        return switch (kind) {
            case AUTO -> "auto";
            case EVERY_EPOCH -> "epoch";
            case EVERY_K -> Integer.toString(minibatches);
        };
    }
}
