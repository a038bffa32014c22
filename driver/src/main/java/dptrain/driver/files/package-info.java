/**
 * Paths on any Hadoop filesystem: resolving, listing and reading what the user named, replacing
 * files atomically so a failed write never replaces a good one, and {@link
 * dptrain.driver.files.InputException}, the failure a user caused.
 */
package dptrain.driver.files;
