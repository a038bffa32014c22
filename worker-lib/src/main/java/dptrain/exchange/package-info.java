/**
 * Executor side of the round exchange: a long-lived training task's connection to the driver, over
 * which it receives each round's starting state and sends back the state its replica reached, so
 * that an epoch's rounds run inside one Spark job instead of one job each.
 */
package dptrain.exchange;
