package dptrain.testing;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.DelegateToFileSystem;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * A local disk that fills up: the Hadoop filesystem {@code fulldisk:///PATH} stores files at PATH
 * and fails writes with "No space left on device" once this JVM's writes through it pass {@link
 * #setBudget}'s bytes. The {@code --conf} settings of {@link #settings} register it for a run.
 */
public final class FullDisk {
    public static final String SCHEME = "fulldisk";
    private static final AtomicLong LEFT = new AtomicLong(Long.MAX_VALUE);

    private FullDisk() {
    }

    /** Bytes that may still be written; {@link Long#MAX_VALUE}: space is back. */
    public static void setBudget(long bytes) {
        LEFT.set(bytes);
    }

    /** The Spark settings that make {@code fulldisk://} this filesystem in a run's Hadoop configuration. */
    public static List<String> settings() {
        return List.of("--conf", "spark.hadoop.fs." + SCHEME + ".impl=" + FileSystem.class.getName(),
                "--conf", "spark.hadoop.fs.AbstractFileSystem." + SCHEME + ".impl=" + Context.class.getName(),
                "--conf", "spark.hadoop.fs." + SCHEME + ".impl.disable.cache=true");
    }

    /** {@code path} on this filesystem. */
    public static String uri(java.nio.file.Path path) {
        return SCHEME + "://" + path.toAbsolutePath();
    }

    /** The FileSystem API of the disk. */
    public static final class FileSystem extends RawLocalFileSystem {
        @Override
        public URI getUri() {
            return URI.create(SCHEME + ":///");
        }

        @Override
        public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize,
                short replication, long blockSize, Progressable progress) throws IOException {
            return filling(super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress));
        }

        @Override
        public FSDataOutputStream create(Path f, boolean overwrite, int bufferSize, short replication, long blockSize,
                Progressable progress) throws IOException {
            return filling(super.create(f, overwrite, bufferSize, replication, blockSize, progress));
        }

        private FSDataOutputStream filling(FSDataOutputStream out) throws IOException {
            return new FSDataOutputStream(new FilterOutputStream(out) {
                @Override
                public void write(int b) throws IOException {
                    take(1);
                    out.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    take(len);
                    out.write(b, off, len);
                }
            }, null);
        }

        private static void take(long bytes) throws IOException {
            if (LEFT.addAndGet(-bytes) < 0) {
                LEFT.addAndGet(bytes);
                throw new IOException("No space left on device");
            }
        }
    }

    /** The FileContext API of the disk, which atomic renames go through. */
    public static final class Context extends DelegateToFileSystem {
        public Context(URI uri, Configuration conf) throws IOException, URISyntaxException {
            super(uri, new FileSystem(), conf, SCHEME, false);
        }
    }
}
