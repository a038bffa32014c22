package dptrain.driver.input;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.paths.SparkPath;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Where each Parquet file's rows start in the numbering of all rows in file order, from the row counts the files'
 * footers hold: the same dense numbering a pass over the rows would give, known before any row is read. Files
 * are ordered by the path Spark's reader reports ({@code _metadata.file_path}), as UTF-8 bytes, which is the order
 * a pass over the rows numbers them in.
 */
final class ParquetRowCounts implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Each file's first row, keyed by the path string Spark's reader reports for it. */
    private final HashMap<String, Long> firstRows;
    private final long rows;

    private ParquetRowCounts(HashMap<String, Long> firstRows, long rows) {
        this.firstRows = firstRows;
        this.rows = rows;
    }

    /**
     * The row counts of {@code files}, from their footers alone (a few kilobytes of each file's end).
     *
     * @throws IOException when a footer cannot be read
     */
    static ParquetRowCounts of(List<String> files, Configuration conf) throws IOException {
        List<String> paths = new ArrayList<>();
        Map<String, Long> counts = new HashMap<>();
        for (String file : files) {
            Path path = new Path(file);
            FileSystem fs = path.getFileSystem(conf);
            Path qualified = fs.makeQualified(path);
            String reported = SparkPath.fromPath(qualified).urlEncoded();
            try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(qualified, conf))) {
                counts.put(reported, reader.getRecordCount());
            }
            paths.add(reported);
        }
        paths.sort((a, b) -> UTF8String.fromString(a).compareTo(UTF8String.fromString(b)));
        HashMap<String, Long> firstRows = new HashMap<>();
        long rows = 0;
        for (String path : paths) {
            firstRows.put(path, rows);
            rows += counts.get(path);
        }
        return new ParquetRowCounts(firstRows, rows);
    }

    /** The rows of all the files. */
    long rows() {
        return rows;
    }

    /** The first row of the file Spark's reader reports as {@code path}, or -1 for a file not counted. */
    long firstRow(String path) {
        Long first = firstRows.get(path);
        return first == null ? -1 : first;
    }
}
