package dptrain.replica;

/**
 * The arithmetic of 16-bit deltas with error feedback (1-bit SGD, Seide et al. 2014; EF-SGD,
 * Karimireddy et al. 2019), per value, so that the driver can run it on whole states and each
 * replica on its own values with the same bits. For a value that starts the round at {@code s},
 * ends it at {@code x} and carries the residual {@code r} left by earlier rounds:
 * <pre>
 *   e  = (x - s) + r          the delta to send, with what earlier rounds could not
 *   q  = to16(e)              rounded to nearest (ties to even) in float16 or bfloat16
 *   r' = e - from16(q)        what is left for the next round
 *   x' = s + from16(q)        the value everyone averages (or applies) instead of x
 * </pre>
 * so the sum of the values sent tracks the sum of the true deltas, off by the last residual only
 * ({@code DeltaRoundingTest}). An exact round sends {@code e} itself and leaves {@code r' = 0}.
 *
 * <p><b>Out of range.</b> float16 has no finite value beyond 65504: a finite delta beyond it is
 * sent as ±65504 and the excess stays in the residual, to go out in later rounds. A NaN or
 * infinite delta is sent as it is (bfloat16 and float16 both have NaN and ±infinity), so the
 * round's next state is not finite and the run stops as diverged, as it would in float32.
 */
public final class DeltaRounding {
    private static final int FLOAT16_MAX = 0x7bff;
    private static final int BFLOAT16_MAX = 0x7f7f;

    private DeltaRounding() {
    }

    /** {@code e}'s 16 bits in {@code precision}, rounded to nearest, ties to even; finite values saturate. */
    public static short encode(DeltaPrecision precision, float e) {
        return switch (precision) {
            case FLOAT16 -> toFloat16(e);
            case BFLOAT16 -> toBfloat16(e);
            case FLOAT32 -> throw new IllegalArgumentException("float32 deltas are not encoded in 16 bits");
        };
    }

    /** The float that 16 bits of {@code precision} stand for (exactly). */
    public static float decode(DeltaPrecision precision, short code) {
        return switch (precision) {
            case FLOAT16 -> fromFloat16(code);
            case BFLOAT16 -> Float.intBitsToFloat((code & 0xffff) << 16);
            case FLOAT32 -> throw new IllegalArgumentException("float32 deltas are not encoded in 16 bits");
        };
    }

    /**
     * The codes of {@code trained - start} plus {@code residual}, value by value; {@code residual}
     * is overwritten with what the codes leave out. All three arrays cover the same values.
     */
    public static short[] encodeDeltas(DeltaPrecision precision, float[] start, float[] trained, float[] residual) {
        checkLengths(start, trained.length, residual.length);
        short[] codes = new short[start.length];
        for (int i = 0; i < codes.length; i++) {
            float e = (trained[i] - start[i]) + residual[i];
            short q = encode(precision, e);
            codes[i] = q;
            residual[i] = e - decode(precision, q);
        }
        return codes;
    }

    /** {@code start} plus the deltas {@code codes} stand for: the values every replica averages or applies. */
    public static float[] applyDeltas(DeltaPrecision precision, float[] start, short[] codes) {
        checkLengths(start, codes.length, codes.length);
        float[] out = new float[start.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = start[i] + decode(precision, codes[i]);
        }
        return out;
    }

    /**
     * An exact round: {@code start + ((trained - start) + residual)} in float32, and the residual
     * zeroed, so nothing is left over at an epoch's end (or before a checkpoint).
     */
    public static float[] flush(float[] start, float[] trained, float[] residual) {
        checkLengths(start, trained.length, residual.length);
        float[] out = new float[start.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = start[i] + ((trained[i] - start[i]) + residual[i]);
            residual[i] = 0f;
        }
        return out;
    }

    private static void checkLengths(float[] start, int other, int residual) {
        if (other != start.length || residual != start.length) {
            throw new IllegalArgumentException("expected " + start.length + " values, got " + other + " and "
                    + residual);
        }
    }

    private static short toBfloat16(float e) {
        int bits = Float.floatToRawIntBits(e);
        if (Float.isNaN(e)) {
            return (short) ((bits >>> 16) | 0x0040); // quiet NaN, whatever its payload
        }
        int sign = bits & 0x80000000;
        int abs = bits & 0x7fffffff;
        if (abs == 0x7f800000) {
            return (short) (bits >>> 16);
        }
        int rounded = abs + 0x7fff + ((abs >>> 16) & 1);
        if (rounded >= 0x7f800000) {
            return (short) ((sign >>> 16) | BFLOAT16_MAX); // a finite value rounds to infinity: saturate
        }
        return (short) ((sign | rounded) >>> 16);
    }

    private static short toFloat16(float e) {
        int bits = Float.floatToRawIntBits(e);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs > 0x7f800000) {
            return (short) (sign | 0x7e00); // NaN
        }
        if (abs == 0x7f800000) {
            return (short) (sign | 0x7c00); // infinity
        }
        if (abs >= 0x477ff000) { // 65520 and beyond round to infinity in float16: saturate
            return (short) (sign | FLOAT16_MAX);
        }
        if (abs < 0x38800000) { // below 2^-14: a subnormal float16 (or zero), m * 2^-24
            int m = (int) Math.rint(Math.abs((double) e) * 0x1p24); // exact product; ties to even
            return (short) (sign | m); // m == 1024 is the smallest normal, 0x0400
        }
        // Rebias the exponent (127 - 15 = 112) and drop 13 mantissa bits, rounding to nearest even.
        int rebased = abs - (112 << 23);
        int rounded = (rebased + 0x0fff + ((rebased >>> 13) & 1)) >>> 13;
        return (short) (sign | rounded);
    }

    private static float fromFloat16(short code) {
        int h = code & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        if (exponent == 31) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
