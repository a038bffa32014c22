/**
 * Executor-side inference with a trained model: the parameters broadcast once, evaluation counts
 * accumulated per partition, and per-row class probabilities. No SparkContext needed.
 */
package dptrain.inference;
