/**
 * Training on Spark, as a library: {@link dptrain.driver.TrainingConfig} says what to train and how,
 * {@link dptrain.driver.DistributedTrainer} prepares the data and runs the epochs of synchronous
 * parameter averaging ({@code TrainingLoop}), and {@link dptrain.driver.TrainingResult} holds what came out.
 * The sub-packages are its rooms: {@code files}, {@code input}, {@code pipeline}, {@code rounds},
 * {@code checkpoint}, {@code inference} and {@code output}.
 */
package dptrain.driver;
