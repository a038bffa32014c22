package dptrain.driver.rounds;

import dptrain.driver.files.ParameterException;
import dptrain.replica.MomentumFilter;

/**
 * Block momentum (BMUF: Chen and Huo, "Scalable training of deep learning machines by incremental
 * block training with intra-block parallel optimization and blockwise model-update filtering",
 * ICASSP 2016) on top of parameter averaging. Each round's averaged parameters {@code W̄} give a
 * block update {@code G = W̄ - W_g}, filtered by a momentum:
 * <pre>
 *   Δ   = momentum · Δ + blockLearningRate · G
 *   W_g = W_g + Δ
 *   next round starts from W_g                   (classical block momentum)
 *                    or W_g + momentum · Δ       (Nesterov)
 * </pre>
 * The optimizer state is averaged as without block momentum. {@link #NONE} (momentum 0, block
 * learning rate 1) is plain averaging, computed without this filter so its bits stay those of
 * plain averaging. Chen and Huo suggest {@code momentum = 1 - 1/workers} and block learning rate 1.
 *
 * @param momentum          in [0, 1)
 * @param blockLearningRate > 0
 * @param nesterov          start each round from the look-ahead point
 */
public record BlockMomentum(double momentum, double blockLearningRate, boolean nesterov) {
    public static final BlockMomentum NONE = new BlockMomentum(0, 1, false);

    public BlockMomentum {
        if (!(momentum >= 0 && momentum < 1)) {
            throw ParameterException.notAllowed("block_momentum", momentum, "a number in [0, 1), e.g. 1 - 1/workers");
        }
        if (!(blockLearningRate > 0) || Double.isInfinite(blockLearningRate)) {
            throw ParameterException.notAllowed("block_lr", blockLearningRate, "a number > 0");
        }
    }

    /**
     * Fewer minibatches per round than this and {@link #recommended} averages plainly: in
     * PARITY.md, block momentum on top of RMSprop diverged or lost accuracy when rounds were
     * shorter (every 1 or 4 minibatches).
     */
    public static final int RECOMMENDED_MIN_BATCHES_PER_ROUND = 16;

    /** The block momentum of {@link #recommended}. */
    public static final double RECOMMENDED_MOMENTUM = 0.4;

    /**
     * dptrain's default, chosen from the parity table (PARITY.md): Nesterov block momentum
     * {@value #RECOMMENDED_MOMENTUM} with block learning rate 1 when rounds are at least
     * {@value #RECOMMENDED_MIN_BATCHES_PER_ROUND} minibatches (or once per epoch), plain averaging
     * otherwise and for one worker. With the default averaging frequency (every 16 minibatches,
     * {@link AveragingSchedule#resolve}) it kept 2, 4 and 8 workers within half
     * a point of one machine after 5 epochs on the book's network; Chen and Huo's
     * {@code 1 - 1/workers} lost accuracy for 4 and 8 workers (RMSprop already adapts each step)
     * and diverged with short rounds.
     *
     * @param schedule a resolved averaging schedule
     */
    public static BlockMomentum recommended(int workers, AveragingSchedule schedule) {
        if (schedule.isAuto()) {
            throw new IllegalArgumentException("averaging 'auto' is resolved for a number of workers first");
        }
        return workers > 1 && schedule.atLeast(RECOMMENDED_MIN_BATCHES_PER_ROUND)
                ? new BlockMomentum(RECOMMENDED_MOMENTUM, 1, true) : NONE;
    }

    /** False for plain averaging. */
    public boolean enabled() {
        return momentum != 0 || blockLearningRate != 1 || nesterov;
    }

    /**
     * The filter's state between rounds: the global model {@code W_g} and the last block update
     * {@code Δ}, both parameter-sized. Immutable: {@link #step} returns a new one.
     */
    public record Filter(float[] global, float[] delta) {
        /** The filter before the first round: {@code W_g} = the initial parameters, {@code Δ} = 0. */
        public static Filter start(float[] initial) {
            return new Filter(initial.clone(), new float[initial.length]);
        }
    }

    /** One round of the filter: its state after the round, and the parameters the next round starts from. */
    public record Step(Filter filter, float[] start) {
    }

    /** The per-value arithmetic, as the driver and the replicas (averaging among themselves) run it. */
    public MomentumFilter arithmetic() {
        return new MomentumFilter(momentum, blockLearningRate, nesterov);
    }

    /**
     * The filter after a round whose averaged parameters are {@code averaged}, and where the next
     * round starts ({@link MomentumFilter#advance}). Takes {@code averaged} over: it becomes the
     * returned starting point.
     */
    public Step advance(Filter filter, float[] averaged) {
        MomentumFilter.Advanced advanced = arithmetic().advance(filter.global(), filter.delta(), averaged);
        return new Step(new Filter(advanced.global(), advanced.delta()), averaged);
    }
}
