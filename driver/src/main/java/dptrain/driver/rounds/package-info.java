/**
 * Averaging rounds: how each round's state snapshot reaches the replicas and their results come back
 * (a Spark job per round; an epoch's rounds in one job over the round exchange; or an epoch's rounds
 * in one job whose replicas average among themselves), block momentum's settings and state, where
 * the learned state is held, and the per-round and per-epoch records.
 */
package dptrain.driver.rounds;
