package dptrain.driver;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

/**
 * The one place dptrain writes result files. A file is written under a hidden temporary name in
 * its folder and renamed over the target only when complete (rename with overwrite is atomic on
 * local disks and HDFS), so a crash at any point leaves the previous good file in place.
 */
public final class AtomicFiles {
    private final Configuration conf;

    public AtomicFiles(Configuration conf) {
        this.conf = conf;
    }

    /** Writes what {@code content} produces to {@code target}, replacing it atomically. */
    public void write(Path target, StreamWriter content) {
        Path temporary = new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
        try {
            FileSystem fs = InputFiles.fileSystem(target, conf);
            // The raw local filesystem writes no .crc side files next to the user's outputs.
            FileSystem writer = fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
            writer.mkdirs(target.getParent());
            try (OutputStream out = writer.create(temporary, true)) {
                // Writers such as Jackson and ModelSerializer close what they are given; only this method may.
                content.writeTo(closeShield(out));
            } catch (IOException | RuntimeException e) {
                writer.delete(temporary, false);
                throw e;
            }
            FileContext.getFileContext(fs.getUri(), conf).rename(temporary, target, Options.Rename.OVERWRITE);
        } catch (IOException e) {
            throw new InputException(target + ": cannot be written: " + e.getMessage(), e);
        }
    }

    /** {@code out} behind a close that only flushes, for writers that close the stream they write to. */
    static OutputStream closeShield(OutputStream out) {
        return new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }

    /** Fails, naming {@code flag}, unless a file can be created in {@code folder} (created if missing). */
    public void checkWritable(Path folder, String flag) {
        Path probe = new Path(folder, ".dptrain-write-check-" + UUID.randomUUID());
        try {
            FileSystem fs = InputFiles.fileSystem(folder, conf);
            if (fs.exists(folder) && !fs.getFileStatus(folder).isDirectory()) {
                throw new InputException(flag + " " + folder + " is a file; expected a folder");
            }
            fs.mkdirs(folder);
            fs.create(probe, true).close();
            fs.delete(probe, false);
        } catch (IOException e) {
            throw new InputException(flag + " " + folder + ": cannot be written: " + e.getMessage(), e);
        }
    }

    /** True when {@code target} exists. */
    public boolean exists(Path target) {
        try {
            return InputFiles.fileSystem(target, conf).exists(target);
        } catch (IOException e) {
            throw new InputException(target + ": cannot be checked: " + e.getMessage(), e);
        }
    }


    /** Writes a file's content to a stream. */
    @FunctionalInterface
    public interface StreamWriter {
        void writeTo(OutputStream out) throws IOException;
    }
}
