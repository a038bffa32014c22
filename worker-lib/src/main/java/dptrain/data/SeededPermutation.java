package dptrain.data;

import java.io.Serializable;

/**
 * A seeded pseudo-random bijection on {@code [0, size)}, computed per element in O(1) memory.
 *
 * <p>The driver shuffles by giving example {@code i} the position {@code apply(i)}: no permutation
 * array is ever materialized, so shuffling a billion examples costs the driver nothing. It is a
 * balanced Feistel network over the smallest even-bit domain that holds {@code size}, with cycle
 * walking to stay inside {@code [0, size)} (at most about four steps on average).
 */
public final class SeededPermutation implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final int ROUNDS = 6;

    private final long size;
    private final long seed;
    private final int halfBits;
    private final long halfMask;

    public SeededPermutation(long size, long seed) {
        if (size < 1) {
            throw new IllegalArgumentException("a permutation needs at least one element, got size " + size);
        }
        this.size = size;
        this.seed = seed;
        int bits = Math.max(2, 64 - Long.numberOfLeadingZeros(size - 1));
        if (bits % 2 == 1) {
            bits++;
        }
        this.halfBits = bits / 2;
        this.halfMask = (1L << halfBits) - 1;
    }

    public long size() {
        return size;
    }

    /** The position of element {@code index}; distinct indices get distinct positions. */
    public long apply(long index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("index " + index + " is outside [0, " + size + ")");
        }
        long value = index;
        do {
            value = encrypt(value);
        } while (value >= size);
        return value;
    }

    private long encrypt(long value) {
        long left = value >>> halfBits;
        long right = value & halfMask;
        for (int round = 0; round < ROUNDS; round++) {
            long next = left ^ (mix(right, round) & halfMask);
            left = right;
            right = next;
        }
        return (left << halfBits) | right;
    }

    private long mix(long half, int round) {
        // SplitMix64 finalizer over (seed, round, half): a cheap, well-distributed round function.
        long z = half + seed * 0x9E3779B97F4A7C15L + (round + 1) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
