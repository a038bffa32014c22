package dptrain.replica;

import java.util.Locale;

/**
 * How many bits each parameter delta of an averaging round travels in ({@link DeltaRounding}):
 * float32 (the exact values, the default), or float16 or bfloat16 with error feedback.
 */
public enum DeltaPrecision {
    /** The replicas' states as they are: no rounding, no residual. */
    FLOAT32,
    /** IEEE 754 half precision: 11 significant bits, finite values up to 65504. */
    FLOAT16,
    /** bfloat16: float32's range with 8 significant bits. */
    BFLOAT16;

    /** True when deltas are rounded to 16 bits. */
    public boolean rounds() {
        return this != FLOAT32;
    }

    /** The precision named {@code text} (case-insensitive), e.g. "float16". */
    public static DeltaPrecision parse(String text) {
        for (DeltaPrecision p : values()) {
            if (p.toString().equalsIgnoreCase(text.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException("expected float32, float16 or bfloat16, got '" + text + "'");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
