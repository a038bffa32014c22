package dptrain.driver.input;

import dptrain.data.Example;
import org.apache.spark.api.java.JavaPairRDD;

/**
 * Examples keyed by their index in file order, how many there are, and what the validation
 * pass found (bad records skipped under {@code --on-bad-record skip}).
 */
public record IndexedExamples(JavaPairRDD<Long, Example> examples, long count, ValidationReport report) {
}
