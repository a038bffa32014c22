package dptrain.driver.input;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
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
    /**
     * Footers read at once on the driver. On an object store each footer costs a round trip or two, so thousands of
     * files read one after another wait minutes; the threads only wait on the network, and 16 stay well within the
     * connections a filesystem client keeps to its store.
     */
    static final int MAX_READERS = 16;
    /** The name of the threads that read footers, so that a thread dump tells what they are. */
    static final String READER_THREAD = "dptrain-parquet-footer";

    /** Each file's first row, keyed by the path string Spark's reader reports for it. */
    private final HashMap<String, Long> firstRows;
    private final long rows;

    private ParquetRowCounts(HashMap<String, Long> firstRows, long rows) {
        this.firstRows = firstRows;
        this.rows = rows;
    }

    /**
     * The row counts of {@code files}, from their footers alone (a few kilobytes of each file's end), read by up to
     * {@link #MAX_READERS} threads at once.
     *
     * @throws IOException naming the file, when a footer cannot be read (the first failure stops the others);
     *     {@link InterruptedIOException} when the calling thread is interrupted, whose interrupt status stays set
     */
    static ParquetRowCounts of(List<String> files, Configuration conf) throws IOException {
        List<FileRows> counted = countConcurrently(files, conf);
        counted.sort((a, b) -> UTF8String.fromString(a.reported()).compareTo(UTF8String.fromString(b.reported())));
        HashMap<String, Long> firstRows = new HashMap<>();
        long rows = 0;
        for (FileRows file : counted) {
            firstRows.put(file.reported(), rows);
            rows += file.rows();
        }
        return new ParquetRowCounts(firstRows, rows);
    }

    /** The files' row counts, in the order their footers were read. */
    private static List<FileRows> countConcurrently(List<String> files, Configuration conf) throws IOException {
        List<FileRows> counted = new ArrayList<>(files.size());
        if (files.isEmpty()) {
            return counted;
        }
        ExecutorService readers = Executors.newFixedThreadPool(Math.min(MAX_READERS, files.size()),
                daemonThreads());
        try {
            CompletionService<FileRows> done = new ExecutorCompletionService<>(readers);
            for (String file : files) {
                done.submit(() -> count(file, conf));
            }
            // Taken as they finish, so that the first unreadable footer ends the wait for the rest.
            for (int i = 0; i < files.size(); i++) {
                counted.add(done.take().get());
            }
            return counted;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException interrupted = new InterruptedIOException(
                    "interrupted while reading the footers of " + files.size() + " Parquet files");
            interrupted.initCause(e);
            throw interrupted;
        } catch (ExecutionException e) {
            // count() throws only IOExceptions naming their file; what else gets here is an Error.
            if (e.getCause() instanceof IOException) {
                throw (IOException) e.getCause();
            }
            if (e.getCause() instanceof Error) {
                throw (Error) e.getCause();
            }
            throw new IllegalStateException("reading Parquet footers failed", e.getCause());
        } finally {
            // Interrupts the reads still running once one has failed; the threads end as soon as theirs returns.
            readers.shutdownNow();
        }
    }

    private static ThreadFactory daemonThreads() {
        // Daemons, so that a footer read stuck on a dead store never keeps the driver's JVM from exiting.
        return runnable -> {
            Thread thread = new Thread(runnable, READER_THREAD);
            thread.setDaemon(true);
            return thread;
        };
    }

    /** One file's row count, from its footer. */
    private static FileRows count(String file, Configuration conf) throws IOException {
        try {
            Path path = new Path(file);
            FileSystem fs = path.getFileSystem(conf);
            Path qualified = fs.makeQualified(path);
            String reported = SparkPath.fromPath(qualified).urlEncoded();
            try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(qualified, conf))) {
                return new FileRows(reported, reader.getRecordCount());
            }
        } catch (IOException | RuntimeException e) {
            // Parquet reports a file that is not Parquet by a RuntimeException, and a corrupt footer without
            // naming the file.
            throw new IOException(file + ": cannot read its Parquet footer: " + e.getMessage(), e);
        }
    }

    /** A file's row count, keyed by the path Spark's reader reports for it. */
    private record FileRows(String reported, long rows) {
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
