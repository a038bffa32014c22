/**
 * Executor-side training: state snapshots, the replica that trains on a partition's minibatches
 * (with DL4J's fit, its convolutions through oneDNN, or the dense-stack engine), and the
 * example-weighted average that combines replicas. No SparkContext needed.
 */
package dptrain.replica;
