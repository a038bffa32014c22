/** Durations measured with {@link java.lang.System#nanoTime}, in seconds: the unit of every time a run records. */
package dptrain.timing;
