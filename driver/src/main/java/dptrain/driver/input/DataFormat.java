package dptrain.driver.input;

import dptrain.driver.files.InputFiles;
import java.util.Locale;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;

/** The file formats dptrain reads. */
public enum DataFormat {
    /** MNIST's IDX: an images file and a labels file, raw or gzip. */
    IDX,
    /** One example per line: an integer label column plus numeric features. */
    CSV,
    /** {@code label index:value ...} with 1-based ascending indices. */
    LIBSVM,
    /** A table with a features column (Spark ML vector or numeric array) and an integral label column. */
    PARQUET;

    /** The format a file name implies, or empty when the name does not tell. */
    public static Optional<DataFormat> fromFileName(String uri) {
        String name = uri.substring(uri.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
        if (name.endsWith(".gz")) {
            name = name.substring(0, name.length() - 3);
        }
        if (name.contains("idx3-ubyte") || name.contains("idx1-ubyte")) {
            return Optional.of(IDX);
        }
        if (name.endsWith(".csv")) {
            return Optional.of(CSV);
        }
        if (name.endsWith(".libsvm") || name.endsWith(".svm")) {
            return Optional.of(LIBSVM);
        }
        if (name.endsWith(".parquet")) {
            return Optional.of(PARQUET);
        }
        return Optional.empty();
    }

    /**
     * The format the files {@code uri} stands for imply by their names (a folder or glob: its first
     * data file's name), or empty when the names do not tell.
     */
    public static Optional<DataFormat> ofFiles(String uri, Configuration conf) {
        Optional<DataFormat> byName = fromFileName(uri);
        return byName.isPresent() ? byName : fromFileName(InputFiles.dataFiles(uri, conf).get(0));
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
