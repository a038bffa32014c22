package dptrain.driver.files;

import dptrain.data.IdxReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Finds and opens the user's input files on any Hadoop filesystem ({@code file://}, {@code hdfs://},
 * {@code s3a://} with hadoop-aws; a bare path is local). Every failure names the path.
 */
public final class InputFiles {
    private InputFiles() {
    }

    /**
     * The data files {@code uri} stands for: the file itself, the visible files of a folder, or the
     * files a glob matches, sorted by name so the example order is the same on every run.
     */
    public static List<String> dataFiles(String uri, Configuration conf) {
        try {
            Path path = new Path(uri);
            FileSystem fs = fileSystem(path, conf);
            FileStatus[] matches = fs.globStatus(path);
            if (matches == null || matches.length == 0) {
                throw new InputException(isGlob(uri)
                        ? uri + ": the pattern matches no file"
                        : uri + ": no such file or folder");
            }
            List<String> files = new ArrayList<>();
            for (FileStatus match : matches) {
                if (match.isDirectory()) {
                    for (FileStatus child : fs.listStatus(match.getPath())) {
                        String name = child.getPath().getName();
                        if (child.isFile() && !name.startsWith(".") && !name.startsWith("_")) {
                            files.add(child.getPath().toString());
                        }
                    }
                } else {
                    files.add(match.getPath().toString());
                }
            }
            if (files.isEmpty()) {
                throw new InputException(uri + ": the folder holds no data file");
            }
            files.sort(Comparator.naturalOrder());
            return files;
        } catch (IOException e) {
            throw StoreFailures.of(uri + ": cannot be listed", new Path(uri), e, conf);
        }
    }

    /**
     * The images and labels files of an IDX dataset. {@code uri} names the images file
     * ({@code …-images-idx3-ubyte[.gz]}, whose labels file {@code …-labels-idx1-ubyte[.gz]} lies beside it)
     * or a folder holding exactly one such pair.
     */
    public static IdxPair idxPair(String uri, Configuration conf) {
        Path images = new Path(idxImages(uri, conf));
        try {
            FileSystem fs = fileSystem(images, conf);
            String name = images.getName();
            String labelsName = name.replace("images", "labels").replace("idx3-ubyte", "idx1-ubyte");
            Path labels = new Path(images.getParent(), labelsName);
            if (!fs.exists(labels)) {
                // The labels may be compressed when the images are not, or the other way round.
                String other = labelsName.endsWith(".gz") ? labelsName.substring(0, labelsName.length() - 3)
                        : labelsName + ".gz";
                Path alternative = new Path(images.getParent(), other);
                if (!fs.exists(alternative)) {
                    throw new InputException(uri + ": the labels file " + labels + " is missing; expected it (or "
                            + other + ") beside the images file (for images without labels, predict takes "
                            + "--no-label)");
                }
                labels = alternative;
            }
            return new IdxPair(images.toString(), labels.toString());
        } catch (IOException e) {
            throw StoreFailures.of(uri + ": cannot be read", images, e, conf);
        }
    }

    /**
     * The images file of an IDX dataset, with or without a labels file beside it: {@code uri} names the
     * images file ({@code …-images-idx3-ubyte[.gz]}) or a folder holding exactly one.
     */
    public static String idxImages(String uri, Configuration conf) {
        try {
            Path path = new Path(uri);
            FileSystem fs = fileSystem(path, conf);
            if (!fs.exists(path)) {
                throw new InputException(uri + ": no such file or folder");
            }
            Path images;
            if (fs.getFileStatus(path).isDirectory()) {
                FileStatus[] found = fs.listStatus(path, p -> p.getName().contains("idx3-ubyte"));
                if (found.length != 1) {
                    throw new InputException(uri + ": expected a folder holding exactly one IDX images file "
                            + "(…-images-idx3-ubyte[.gz]), found " + found.length
                            + (found.length == 0 ? "" : ": " + names(found)));
                }
                images = found[0].getPath();
            } else {
                images = path;
            }
            if (!images.getName().contains("idx3-ubyte")) {
                throw new InputException(uri + ": expected an IDX images file, whose name contains 'idx3-ubyte' "
                        + "(e.g. train-images-idx3-ubyte.gz), or the folder holding one");
            }
            return images.toString();
        } catch (IOException e) {
            throw StoreFailures.of(uri + ": cannot be read", new Path(uri), e, conf);
        }
    }

    /**
     * The filesystem of {@code path}. A scheme whose implementation is not on the classpath (s3a://
     * without hadoop-aws) surfaces from Hadoop as a RuntimeException wrapping ClassNotFoundException.
     */
    public static FileSystem fileSystem(Path path, Configuration conf) throws IOException {
        try {
            return path.getFileSystem(conf);
        } catch (RuntimeException e) {
            if (e.getCause() instanceof ClassNotFoundException) {
                throw new InputException(path + ": no filesystem for the scheme '" + path.toUri().getScheme()
                        + "' is on the classpath (" + e.getCause().getMessage() + "); for s3a:// add hadoop-aws and "
                        + "its AWS SDK at the Hadoop version Spark uses", e);
            }
            throw e;
        }
    }

    /** Opens {@code uri} for reading, naming it when it is missing or unreadable. */
    public static InputStream open(String uri, Configuration conf) {
        try {
            Path path = new Path(uri);
            FileSystem fs = fileSystem(path, conf);
            if (fs.getFileStatus(path).isDirectory()) {
                throw new InputException(uri + ": is a folder; expected a file");
            }
            return fs.open(path);
        } catch (FileNotFoundException e) {
            // Hadoop reports "Permission denied" as FileNotFoundException too.
            boolean denied = String.valueOf(e.getMessage()).contains("Permission denied");
            throw new InputException(uri + (denied ? ": exists but cannot be read: permission denied" : ": no such file"), e);
        } catch (IOException e) {
            throw StoreFailures.of(uri + ": cannot be opened", new Path(uri), e, conf);
        }
    }

    /** Opens an IDX file, gunzipping it when it is gzip-compressed. */
    public static InputStream openIdx(String uri, Configuration conf) {
        InputStream raw = open(uri, conf);
        try {
            return IdxReader.maybeGunzip(raw);
        } catch (IOException e) {
            closeQuietly(raw);
            throw StoreFailures.of(uri + ": cannot be read", new Path(uri), e, conf);
        }
    }

    /**
     * {@code uri} with its filesystem and an absolute path ({@code data/x.csv} becomes
     * {@code file:/home/me/data/x.csv}), so executors, whose working folders differ from the
     * driver's, read the same file.
     */
    public static String qualified(String uri, Configuration conf) {
        try {
            Path path = new Path(uri);
            return fileSystem(path, conf).makeQualified(path).toString();
        } catch (IOException e) {
            throw StoreFailures.of(uri + ": cannot be resolved", new Path(uri), e, conf);
        }
    }

    /** The whole of a small text file, such as a model spec. */
    public static String readText(String uri, Configuration conf) {
        return new String(readBytes(uri, conf), StandardCharsets.UTF_8);
    }

    /** The whole file's content. */
    public static byte[] readBytes(String uri, Configuration conf) {
        try (InputStream in = open(uri, conf)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw StoreFailures.of(uri + ": cannot be read", new Path(uri), e, conf);
        }
    }

    /**
     * The reason an I/O error gives, in one line: errors that HDFS's NameNode raised (a permission
     * check, a quota) arrive with the NameNode's stack trace appended to their message.
     */
    public static String reason(Throwable e) {
        String message = String.valueOf(e.getMessage());
        int end = message.indexOf('\n');
        return (end < 0 ? message : message.substring(0, end)).strip();
    }

    private static boolean isGlob(String uri) {
        return uri.indexOf('*') >= 0 || uri.indexOf('?') >= 0 || uri.indexOf('[') >= 0 || uri.indexOf('{') >= 0;
    }

    private static String names(FileStatus[] found) {
        return String.join(", ", Arrays.stream(found).map(f -> f.getPath().getName()).toList());
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // already failing; the first error is the one to report
        }
    }

    /** An IDX images file and its labels file. */
    public record IdxPair(String images, String labels) implements java.io.Serializable {
    }
}
