package dptrain.driver.output;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** Versions recorded at build time (Maven filters {@code dptrain-version.properties}). */
public final class Versions {
    public static final String DPTRAIN;
    public static final String DL4J;
    public static final String SPARK_BUILT_WITH;

    static {
        Properties p = new Properties();
        try (InputStream in = Versions.class.getResourceAsStream("/dptrain-version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        DPTRAIN = p.getProperty("dptrain.version", "unknown");
        DL4J = p.getProperty("dl4j.version", "unknown");
        SPARK_BUILT_WITH = p.getProperty("spark.version", "unknown");
    }

    private Versions() {
    }
}
