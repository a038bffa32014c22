/**
 * Starting Spark for a command: dptrain's defaults, the check of executors' memory for ND4J, and
 * waiting (bounded) for the master and a first executor, with one sentence for a master that
 * refuses or does not answer.
 */
package dptrain.sparkstart;
