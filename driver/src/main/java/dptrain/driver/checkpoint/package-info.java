/**
 * Checkpoints: what one holds (the run's position, state and history), its file format, and the
 * store that writes them manifest-last, finds the newest valid one and prunes the rest.
 */
package dptrain.driver.checkpoint;
