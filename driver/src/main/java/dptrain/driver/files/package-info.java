/**
 * Paths on any Hadoop filesystem: resolving, listing and reading what the user named, replacing
 * files atomically so a failed write never replaces a good one, and the failures the rooms above
 * report: {@link dptrain.driver.files.InputException} and
 * {@link dptrain.driver.files.ParameterException}, which a user caused, and
 * {@link dptrain.driver.files.EnvironmentException}, which Spark, the cluster or an unreachable
 * filesystem did ({@link dptrain.driver.files.StoreFailures} tells those apart for I/O errors).
 */
package dptrain.driver.files;
