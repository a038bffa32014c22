/**
 * Averaging rounds: how each round's state snapshot reaches the replicas and their results come back
 * (a Spark job per round, or an epoch's rounds in one job over the round exchange), block momentum
 * on the averaged update, and the per-round and per-epoch records.
 */
package dptrain.driver.rounds;
