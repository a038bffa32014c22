/**
 * Reading datasets (IDX, CSV, LibSVM, Parquet files, or a DataFrame) on the executors into checked
 * examples indexed in file order, in one pass that also reports bad records and keeps the examples for
 * the reads that follow.
 */
package dptrain.driver.input;
