package dptrain.driver.input;

import java.util.Locale;

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

    /** The format a file name implies, or null when the name does not tell. */
    public static DataFormat fromFileName(String uri) {
        String name = uri.substring(uri.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
        if (name.endsWith(".gz")) {
            name = name.substring(0, name.length() - 3);
        }
        if (name.contains("idx3-ubyte") || name.contains("idx1-ubyte")) {
            return IDX;
        }
        if (name.endsWith(".csv")) {
            return CSV;
        }
        if (name.endsWith(".libsvm") || name.endsWith(".svm")) {
            return LIBSVM;
        }
        if (name.endsWith(".parquet")) {
            return PARQUET;
        }
        return null;
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
