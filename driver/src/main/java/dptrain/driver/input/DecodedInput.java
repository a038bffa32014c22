package dptrain.driver.input;

import org.apache.spark.api.java.JavaRDD;

/**
 * The decoded records of an input, partitions in file order. Text formats count lines within each
 * file split ({@code startsFile} marks the partitions that begin a file); IDX and Parquet positions count
 * from the file's start ({@code startsFile} null).
 */
record DecodedInput(JavaRDD<DecodedRecord> records, boolean[] startsFile) {
    boolean countsFromSplitStart() {
        return startsFile != null;
    }

    boolean startsFile(int partition) {
        return startsFile != null && startsFile[partition];
    }
}
