package dptrain.testing;

import java.io.IOException;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * A local disk that counts what is read: the Hadoop filesystem {@code countingfs:///PATH} reads the
 * file at PATH and counts, per file, the opens and the bytes read through it in this JVM (local mode:
 * the executors' reads too). {@link #register} makes a Hadoop configuration know it.
 */
public final class CountingFs {
    public static final String SCHEME = "countingfs";
    private static final Map<String, AtomicLong> BYTES = new ConcurrentHashMap<>();
    private static final Map<String, AtomicLong> OPENS = new ConcurrentHashMap<>();

    private CountingFs() {
    }

    public static void register(Configuration hadoop) {
        hadoop.set("fs." + SCHEME + ".impl", FileSystem.class.getName());
        hadoop.set("fs." + SCHEME + ".impl.disable.cache", "true");
    }

    /** {@code path} on this filesystem. */
    public static String uri(java.nio.file.Path path) {
        return SCHEME + "://" + path.toAbsolutePath();
    }

    public static void reset() {
        BYTES.clear();
        OPENS.clear();
    }

    /** Bytes read from the file at {@code path} since the last {@link #reset}. */
    public static long bytesRead(java.nio.file.Path path) {
        return BYTES.getOrDefault(path.toAbsolutePath().toString(), new AtomicLong()).get();
    }

    /** Opens of the file at {@code path} since the last {@link #reset}. */
    public static long opens(java.nio.file.Path path) {
        return OPENS.getOrDefault(path.toAbsolutePath().toString(), new AtomicLong()).get();
    }

    /** The FileSystem API of the counting disk. */
    public static final class FileSystem extends RawLocalFileSystem {
        @Override
        public URI getUri() {
            return URI.create(SCHEME + ":///");
        }

        @Override
        public FSDataInputStream open(Path f, int bufferSize) throws IOException {
            String key = f.toUri().getPath();
            OPENS.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
            AtomicLong bytes = BYTES.computeIfAbsent(key, k -> new AtomicLong());
            FSDataInputStream in = super.open(f, bufferSize);
            return new FSDataInputStream(new FSInputStream() {
                @Override
                public int read() throws IOException {
                    int b = in.read();
                    if (b >= 0) {
                        bytes.incrementAndGet();
                    }
                    return b;
                }

                @Override
                public int read(byte[] buffer, int offset, int length) throws IOException {
                    int n = in.read(buffer, offset, length);
                    if (n > 0) {
                        bytes.addAndGet(n);
                    }
                    return n;
                }

                @Override
                public long skip(long n) throws IOException {
                    // As the disk's own stream does: by seeking, not by reading what is skipped.
                    return in.skip(n);
                }

                @Override
                public void seek(long position) throws IOException {
                    in.seek(position);
                }

                @Override
                public long getPos() throws IOException {
                    return in.getPos();
                }

                @Override
                public boolean seekToNewSource(long target) throws IOException {
                    return in.seekToNewSource(target);
                }

                @Override
                public void close() throws IOException {
                    in.close();
                }
            });
        }
    }
}
