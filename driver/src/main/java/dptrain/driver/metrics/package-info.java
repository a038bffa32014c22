/**
 * A training run's live figures in Spark's metrics system: {@code TrainingMetrics}, a metrics
 * source named {@code dptrain} on the driver, fed by the run's progress and shown by Spark's sinks.
 */
package dptrain.driver.metrics;
