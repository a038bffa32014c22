/**
 * Executor-side inference with a trained model: the parameters broadcast once, evaluation counts
 * accumulated per partition, a binary classifier's per-row scores, and per-row class
 * probabilities. No SparkContext needed.
 */
package dptrain.inference;
