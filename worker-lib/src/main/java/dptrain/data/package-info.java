/**
 * Decoding of training data on executors: IDX (MNIST), CSV and LibSVM files become {@link dptrain.data.Example}s,
 * checked against the model ({@link dptrain.data.ExampleCheck}, which also fits sequences to the model's timesteps as
 * {@link dptrain.data.SequenceLength} says). Pure Java over streams and text lines; a bad input fails with a {@link dptrain.data.DataFormatException} that names
 * the file, the line or record, the column, the offending value and what was expected.
 */
package dptrain.data;
