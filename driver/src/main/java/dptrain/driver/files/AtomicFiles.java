package dptrain.driver.files;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

/**
 * The one place dptrain writes result files, so that a crash at any point leaves the previous good
 * file in place. On local disks and HDFS a file is written under a hidden temporary name in its
 * folder and renamed over the target only when complete (rename with overwrite is atomic there).
 * On object stores (s3a) a rename is a copy and a delete, with a moment when neither file is there;
 * but an object appears whole when its upload completes and not before, and an aborted upload
 * leaves nothing. So there the target is uploaded under its own name, and the upload is aborted if
 * its content fails.
 */
public final class AtomicFiles {
    private final Configuration conf;

    public AtomicFiles(Configuration conf) {
        this.conf = conf;
    }

    /**
     * Writes what {@code content} produces to {@code target}, replacing it atomically. A write that
     * fails (a full disk, a filesystem gone) is an environment failure: the folder passed {@link
     * #checkWritable} before the run, and whatever {@code target} held stays as it was.
     */
    public void write(Path target, StreamWriter content) {
        try {
            FileSystem fs = InputFiles.fileSystem(target, conf);
            if (publishesOnClose(fs, target)) {
                upload(fs, target, content);
                return;
            }
            Path temporary = new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
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
            throw StoreFailures.duringRun(target + ": cannot be written", target, e, conf);
        }
    }

    /**
     * Whether {@code fs} publishes a file only when its output stream closes, and can abort the
     * stream instead: object stores such as s3a, whose uploads appear whole or not at all.
     */
    public static boolean publishesOnClose(FileSystem fs, Path path) throws IOException {
        return fs.hasPathCapability(path, CommonPathCapabilities.ABORTABLE_STREAM);
    }

    /**
     * Uploads {@code target} under its own name: the old object stays until the upload completes
     * on close. A failure before then, or any error, aborts the upload, which leaves nothing.
     */
    private static void upload(FileSystem fs, Path target, StreamWriter content) throws IOException {
        FSDataOutputStream out = fs.create(target, true);
        try {
            content.writeTo(closeShield(out));
        } catch (Throwable e) {
            try {
                out.abort();
            } catch (RuntimeException abortFailed) {
                e.addSuppressed(abortFailed);
            }
            throw e;
        }
        out.close();
    }

    /** {@code out} behind a close that only flushes, for writers that close the stream they write to. */
    public static OutputStream closeShield(OutputStream out) {
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
            throw StoreFailures.of(flag + " " + folder + ": cannot be written", folder, e, conf);
        }
    }

    /** True when {@code target} exists. */
    public boolean exists(Path target) {
        try {
            return InputFiles.fileSystem(target, conf).exists(target);
        } catch (IOException e) {
            throw StoreFailures.of(target + ": cannot be checked", target, e, conf);
        }
    }


    /**
     * Writes a folder of results (e.g. Spark's part files) atomically: {@code writer} fills a hidden
     * temporary sibling of {@code target}, which is renamed to {@code target} only when complete. An
     * existing {@code target} is refused unless {@code overwrite}; then it is moved aside, the new
     * folder renamed into place, and the old one deleted last, so a failure at any step leaves either
     * the old or the new folder at {@code target}. On failure the temporary folder is deleted.
     *
     * @param flag the flag that named {@code target}, for messages
     */
    public void writeFolder(Path target, boolean overwrite, String flag, FolderWriter writer) {
        FileSystem fs;
        try {
            fs = InputFiles.fileSystem(target, conf);
        } catch (IOException e) {
            throw StoreFailures.of(flag + " " + target + ": cannot be written", target, e, conf);
        }
        target = fs.makeQualified(target);
        Path temporary = new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
        try {
            writer.writeTo(temporary);
        } catch (RuntimeException e) {
            deleteQuietly(fs, temporary);
            throw e;
        }
        try {
            if (fs.exists(target)) {
                if (!overwrite) {
                    deleteQuietly(fs, temporary);
                    throw new InputException(flag + " " + target + " already exists; pass --overwrite to replace it, "
                            + "or choose another path");
                }
                Path old = new Path(target.getParent(), "." + target.getName() + ".old-" + UUID.randomUUID());
                if (!fs.rename(target, old)) {
                    throw new IOException("could not move the old " + target + " aside");
                }
                if (!fs.rename(temporary, target)) {
                    fs.rename(old, target);
                    throw new IOException("could not rename " + temporary + " to " + target);
                }
                fs.delete(old, true);
            } else if (!fs.rename(temporary, target)) {
                throw new IOException("could not rename " + temporary + " to " + target);
            }
        } catch (IOException e) {
            deleteQuietly(fs, temporary);
            throw StoreFailures.of(flag + " " + target + ": cannot be written", target, e, conf);
        }
    }

    /**
     * Fails, naming {@code flag}, when {@code target} exists and {@code overwrite} is false, or when
     * its parent folder cannot be written: the checks {@link #writeFolder} makes, done before any work.
     */
    public void checkFolderTarget(Path target, boolean overwrite, String flag) {
        if (!overwrite && exists(target)) {
            throw new InputException(flag + " " + target + " already exists; pass --overwrite to replace it, or choose "
                    + "another path");
        }
        Path parent;
        try {
            parent = InputFiles.fileSystem(target, conf).makeQualified(target).getParent();
        } catch (IOException e) {
            throw StoreFailures.of(flag + " " + target + ": cannot be checked", target, e, conf);
        }
        if (parent == null) {
            throw new InputException(flag + " " + target + ": is the root of its filesystem; expected a folder below it");
        }
        checkWritable(parent, flag + " " + target + ": its parent folder");
    }

    private static void deleteQuietly(FileSystem fs, Path path) {
        try {
            fs.delete(path, true);
        } catch (IOException ignored) {
            // already failing; the first error is the one to report
        }
    }

    /** Writes a whole folder, e.g. with Spark's DataFrame writer. */
    @FunctionalInterface
    public interface FolderWriter {
        void writeTo(Path folder);
    }

    /** Writes a file's content to a stream. */
    @FunctionalInterface
    public interface StreamWriter {
        void writeTo(OutputStream out) throws IOException;
    }
}
