/**
 * Reading datasets (IDX, CSV, LibSVM, Parquet files, or a DataFrame) on the executors into checked
 * examples indexed in file order, with one validation pass that reports bad records.
 */
package dptrain.driver.input;
