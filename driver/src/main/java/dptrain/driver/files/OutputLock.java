package dptrain.driver.files;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run per output folder. A run holds {@value #FILE} in its folder while it trains. The file
 * names the holder (host, process id and start, Spark application) and is touched every {@link
 * #HEARTBEAT}. A second run into the folder is refused, naming the holder, while the holder lives.
 * A holder is gone when it ran on this host and its process has ended, or when its heartbeat is
 * older than {@link #STALE_AFTER}. A lock left behind by a crashed run is taken over, with a notice.
 *
 * <p>The lock file is created only if absent. That is atomic on HDFS and close to it on a local
 * disk. On object stores without an atomic create (s3a), two runs started within the same moment
 * may both get through. Object stores also keep an object's time as of its upload, whatever
 * {@code setTimes} is asked (s3a ignores it), so there the heartbeat uploads the lock again.
 */
public final class OutputLock implements AutoCloseable {
    /** The lock's file name inside the output folder. */
    public static final String FILE = ".dptrain-run.lock";
    /** How often a holder touches its lock. */
    public static final Duration HEARTBEAT = Duration.ofSeconds(10);
    /** A lock from another host untouched this long belongs to a run that is gone. */
    public static final Duration STALE_AFTER = Duration.ofSeconds(60);

    private static final Logger LOG = LoggerFactory.getLogger(OutputLock.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FileSystem fs;
    private final Path file;
    private final String token;
    private final byte[] holder;
    private final ScheduledExecutorService heartbeat;
    /** Set once a touch has not moved the lock's time: it is then renewed by writing it again. */
    private volatile boolean rewrite;

    private OutputLock(FileSystem fs, Path file, String token, byte[] holder) {
        this.fs = fs;
        this.file = file;
        this.token = token;
        this.holder = holder;
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dptrain-output-lock-heartbeat");
            t.setDaemon(true);
            return t;
        });
        long every = HEARTBEAT.toMillis();
        heartbeat.scheduleAtFixedRate(this::touch, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * Takes the lock of {@code folder} for the Spark application {@code application}.
     *
     * @param notices told when a lock left by a run that is gone is taken over
     * @throws ParameterException (key {@code output}) while another run holds the folder
     */
    public static OutputLock acquire(String folder, Configuration conf, String application, Consumer<String> notices) {
        Path file = new Path(folder, FILE);
        FileSystem fs;
        try {
            fs = InputFiles.fileSystem(file, conf);
            // As AtomicFiles does: no .crc side file next to the lock on a local disk.
            fs = fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
        } catch (IOException e) {
            throw StoreFailures.of("--output " + folder, file, e, conf);
        }
        String token = UUID.randomUUID().toString();
        byte[] holder = holder(application, token);
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                fs.mkdirs(file.getParent());
                try (OutputStream out = fs.create(file, false)) {
                    out.write(holder);
                }
                return new OutputLock(fs, file, token, holder);
            } catch (FileAlreadyExistsException e) {
                Holder other = read(fs, file);
                if (other.live()) {
                    throw new ParameterException("output", "{output} " + folder + " is in use by another dptrain run ("
                            + other + "); wait for it to finish, or choose another folder");
                }
                notices.accept("took over " + file + ", left by a run that is gone (" + other + ")");
                delete(fs, file);
            } catch (IOException e) {
                Optional<EnvironmentException> unreachable = StoreFailures.environment("--output " + folder
                        + ": cannot create " + FILE, file, e, conf);
                throw unreachable.isPresent() ? unreachable.get() : new InputException("--output " + folder
                        + ": cannot create " + FILE + " (" + InputFiles.reason(e) + "); expected a folder this run can "
                        + "write", e);
            }
        }
        throw new ParameterException("output", "{output} " + folder + ": another run took " + FILE
                + " at the same moment; run again once it has finished, or choose another folder");
    }

    /** Stops the heartbeat and removes the lock, if it is still this run's. */
    @Override
    public void close() {
        heartbeat.shutdownNow();
        try {
            if (fs.exists(file) && token.equals(read(fs, file).token())) {
                fs.delete(file, false);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("could not remove {}: {}", file, e.toString());
        }
    }

    /** Renews the lock's time, which tells other hosts that this run is alive. */
    void touch() {
        try {
            long now = System.currentTimeMillis();
            if (!rewrite) {
                fs.setTimes(file, now, -1);
                // Allows for filesystems that keep times in whole seconds.
                rewrite = fs.getFileStatus(file).getModificationTime() < now - 2000;
                if (!rewrite) {
                    return;
                }
                LOG.debug("{} ignores setTimes; renewing {} by writing it again", fs.getUri(), file);
            }
            // Never over a lock another run has taken over meanwhile.
            if (token.equals(read(fs, file).token())) {
                try (OutputStream out = fs.create(file, true)) {
                    out.write(holder);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("touching {}: {}", file, e.toString());
        }
    }

    /**
     * Who holds a lock.
     *
     * @param touched when the lock file was last touched
     */
    record Holder(String host, long pid, Instant processStart, String application, Instant started, String token,
            Instant touched) {

        /** Whether the run that wrote the lock may still be running. */
        boolean live() {
            if (host.equals(thisHost())) {
                Optional<ProcessHandle> process = ProcessHandle.of(pid);
                // A process id reused by a later process is not the holder.
                return process.isPresent() && process.get().isAlive() && (processStart == null
                        || process.get().info().startInstant().map(s -> s.equals(processStart)).orElse(true));
            }
            return Duration.between(touched, Instant.now()).compareTo(STALE_AFTER) < 0;
        }

        @Override
        public String toString() {
            return "host " + host + ", pid " + pid + ", application " + application + ", started " + started
                    + ", last seen " + Math.max(0, Duration.between(touched, Instant.now()).toSeconds()) + " s ago";
        }
    }

    private static byte[] holder(String application, String token) {
        ProcessHandle self = ProcessHandle.current();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("host", thisHost());
        m.put("pid", self.pid());
        m.put("process_start", self.info().startInstant().map(Instant::toString).orElse(""));
        m.put("application", application);
        m.put("started", Instant.now().toString());
        m.put("token", token);
        try {
            return JSON.writeValueAsBytes(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Holder read(FileSystem fs, Path file) {
        try (InputStream in = fs.open(file)) {
            JsonNode n = JSON.readTree(in);
            String processStart = n.path("process_start").asText("");
            return new Holder(n.path("host").asText("?"), n.path("pid").asLong(-1),
                    processStart.isEmpty() ? null : Instant.parse(processStart), n.path("application").asText("?"),
                    Instant.parse(n.path("started").asText(Instant.EPOCH.toString())), n.path("token").asText(""),
                    Instant.ofEpochMilli(fs.getFileStatus(file).getModificationTime()));
        } catch (IOException | RuntimeException e) {
            // Unreadable (half-written by a run killed while creating it): treat as left by a run that is gone.
            return new Holder("?", -1, null, "?", Instant.EPOCH, "", Instant.EPOCH);
        }
    }

    private static void delete(FileSystem fs, Path file) {
        try {
            fs.delete(file, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the stale lock " + file + ": " + e.getMessage(), e);
        }
    }

    private static String thisHost() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
