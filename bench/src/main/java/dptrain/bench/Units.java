package dptrain.bench;

/** The units the benchmarks report in. */
final class Units {
    /** Floating-point operations in a GFLOP. */
    static final double FLOP_PER_GFLOP = 1e9;
    /** Floating-point operations in an MFLOP. */
    static final double FLOP_PER_MFLOP = 1e6;
    /** Milliseconds in a second. */
    static final double MILLIS_PER_SECOND = 1e3;

    private Units() {
    }
}
