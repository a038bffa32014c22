/**
 * The command line ({@code dptrain train|cv|evaluate|predict|report|export|describe}): picocli options that map
 * flags onto the library's parameters, console progress and exit codes. Spark itself is started
 * by {@code dptrain.sparkstart}.
 */
package dptrain.cli;
