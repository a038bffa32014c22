/**
 * Averaging among the replicas: each long-lived training task owns a chunk of the state, and a round
 * is a reduce-scatter of the replicas' results and an all-gather of the averaged chunks, over Spark's
 * own network layer with Spark's authentication and encryption. The driver sends orders, receives
 * one report per round, and moves a state only when it needs one.
 */
package dptrain.peers;
