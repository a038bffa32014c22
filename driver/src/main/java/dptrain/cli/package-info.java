/**
 * The command line ({@code dptrain train|cv|evaluate|predict|report}): picocli options that map
 * flags onto the library's parameters, console progress, exit codes, and starting Spark
 * (defaults, executor memory check).
 */
package dptrain.cli;
