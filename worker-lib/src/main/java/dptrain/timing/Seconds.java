package dptrain.timing;

/** Converts {@link System#nanoTime} readings to seconds and back. */
public final class Seconds {
    /** Nanoseconds in a second. */
    public static final double NANOS_PER_SECOND = 1e9;

    private Seconds() {
    }

    /** Seconds from the reading {@code fromNanos} until now. */
    public static double since(long fromNanos) {
        return between(fromNanos, System.nanoTime());
    }

    /** Seconds from the reading {@code fromNanos} to the reading {@code toNanos}. */
    public static double between(long fromNanos, long toNanos) {
        return (toNanos - fromNanos) / NANOS_PER_SECOND;
    }

    /** {@code seconds} as nanoseconds, to set a reading back by a duration. */
    public static long toNanos(double seconds) {
        return (long) (seconds * NANOS_PER_SECOND);
    }
}
