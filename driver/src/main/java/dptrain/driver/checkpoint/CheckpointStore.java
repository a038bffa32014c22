package dptrain.driver.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dptrain.driver.files.AtomicFiles;
import dptrain.driver.files.InputFiles;
import dptrain.driver.files.StoreFailures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A run's checkpoints in one folder on any Hadoop filesystem.
 *
 * <p>A checkpoint is two files: the data ({@code checkpoint-e0002-b000000-<id>.bin}) and, written
 * only after the data is complete, its manifest ({@code checkpoint-e0002-b000000.json}) with the
 * data file's name, length and SHA-256. Both are written through {@link AtomicFiles}: under
 * temporary names and renamed on local disks and HDFS, uploaded under their own names on object
 * stores (s3a), where an object appears only once its upload is complete. Either way a file is
 * never seen half-written, and the manifest written last means a checkpoint exists only once it is
 * whole. Reading
 * checks the manifest, the length and the checksum before decoding, so a truncated, zero-byte,
 * bit-flipped, manifest-less or half-written checkpoint is never loaded: it is reported, naming
 * the file, and the next older one is tried.
 */
public final class CheckpointStore {
    private static final Pattern MANIFEST = Pattern.compile("checkpoint-e(\\d{4,})-b(\\d{6,})\\.json");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path folder;
    private final Configuration conf;
    private final AtomicFiles files;
    /**
     * Manifests known whole: written by this store, or checked once. Pruning after every write
     * then reads only checkpoints it has not seen, not every kept one again.
     */
    private final Set<String> knownValid = new HashSet<>();

    public CheckpointStore(String folder, Configuration conf) {
        this.folder = new Path(folder);
        this.conf = conf;
        this.files = new AtomicFiles(conf);
    }

    public Path folder() {
        return folder;
    }

    /** A checkpoint read back, with the manifest it was found through. */
    public record Found(Checkpoint checkpoint, Path manifest) {
    }

    /**
     * Writes {@code checkpoint} (data, then manifest), then deletes all but the newest {@code keep}
     * valid checkpoints and any leftovers of interrupted writes.
     *
     * @return the new checkpoint's manifest
     */
    public Path write(Checkpoint checkpoint, int keep) {
        String stem = String.format(java.util.Locale.ROOT, "checkpoint-e%04d-b%06d", checkpoint.epochsDone(),
                checkpoint.batchesDone());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            checkpoint.writeTo(bytes);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a checkpoint", e);
        }
        byte[] data = bytes.toByteArray();
        Path dataFile = new Path(folder, stem + "-" + UUID.randomUUID().toString().substring(0, 8) + ".bin");
        files.write(dataFile, out -> out.write(data));
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format", Checkpoint.FORMAT);
        manifest.put("version", Checkpoint.VERSION);
        manifest.put("epochs_done", checkpoint.epochsDone());
        manifest.put("batches_done", checkpoint.batchesDone());
        manifest.put("iteration", checkpoint.state().iteration());
        manifest.put("data_file", dataFile.getName());
        manifest.put("bytes", data.length);
        manifest.put("sha256", sha256(data));
        manifest.put("written", Instant.now().toString());
        Path manifestFile = new Path(folder, stem + ".json");
        files.write(manifestFile, out -> JSON.writeValue(out, manifest));
        knownValid.add(manifestFile.getName());
        prune(keep);
        return manifestFile;
    }

    /**
     * The newest checkpoint that reads back whole, or empty when there is none. Each newer one that
     * does not is reported to {@code rejected}, naming its file and what is wrong with it.
     */
    public Optional<Found> newestValid(Consumer<String> rejected) {
        for (Path manifest : manifestsNewestFirst()) {
            try {
                Found found = new Found(read(manifest), manifest);
                knownValid.add(manifest.getName());
                return Optional.of(found);
            } catch (IOException e) {
                rejected.accept(e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** True when the folder holds any checkpoint manifest, valid or not. */
    public boolean any() {
        return !manifestsNewestFirst().isEmpty();
    }

    /** Deletes every checkpoint file in the folder (a fresh run discards an earlier run's). */
    public void deleteAll() {
        try {
            FileSystem fs = InputFiles.fileSystem(folder, conf);
            if (fs.exists(folder)) {
                for (FileStatus file : fs.listStatus(folder)) {
                    if (isCheckpointFile(file.getPath().getName())) {
                        fs.delete(file.getPath(), false);
                    }
                }
            }
        } catch (IOException e) {
            throw StoreFailures.of(folder + ": earlier checkpoints cannot be deleted", folder, e, conf);
        }
    }

    private Checkpoint read(Path manifestPath) throws IOException {
        byte[] data = verifiedData(manifestPath);
        try {
            return Checkpoint.readFrom(data);
        } catch (IOException | RuntimeException e) {
            throw new IOException("checkpoint " + new Path(folder, dataFileOf(InputFiles.fileSystem(manifestPath, conf),
                    manifestPath)) + " cannot be read: " + firstLine(e) + "; ignored", e);
        }
    }

    /** The data file of a manifest, checked against the manifest's length and SHA-256, but not decoded. */
    private byte[] verifiedData(Path manifestPath) throws IOException {
        String name = manifestPath.toString();
        FileSystem fs = InputFiles.fileSystem(manifestPath, conf);
        byte[] manifestBytes = readAll(fs, manifestPath);
        if (manifestBytes.length == 0) {
            throw new IOException("checkpoint manifest " + name + " is empty (0 bytes); ignored");
        }
        JsonNode manifest;
        try {
            manifest = JSON.readTree(manifestBytes);
        } catch (IOException e) {
            throw new IOException("checkpoint manifest " + name + " is not valid JSON (" + firstLine(e)
                    + "); ignored", e);
        }
        String dataName = manifest.path("data_file").asText("");
        long expectedBytes = manifest.path("bytes").asLong(-1);
        String expectedSha = manifest.path("sha256").asText("");
        if (dataName.isEmpty() || dataName.contains("/") || expectedBytes < 0 || expectedSha.length() != 64) {
            throw new IOException("checkpoint manifest " + name
                    + " lacks data_file, bytes or sha256; expected all three; ignored");
        }
        Path dataPath = new Path(folder, dataName);
        if (!fs.exists(dataPath)) {
            throw new IOException("checkpoint " + dataPath + " named by " + name + " is missing; ignored");
        }
        byte[] data = readAll(fs, dataPath);
        if (data.length != expectedBytes) {
            throw new IOException("checkpoint " + dataPath + " has " + data.length + " bytes but its manifest says "
                    + expectedBytes + (data.length < expectedBytes ? " (truncated)" : "") + "; ignored");
        }
        String actualSha = sha256(data);
        if (!actualSha.equals(expectedSha)) {
            throw new IOException("checkpoint " + dataPath + " fails its SHA-256 check (manifest " + expectedSha
                    + ", file " + actualSha + "): the file is corrupt; ignored");
        }
        return data;
    }

    /** Leftovers that are not part of a valid checkpoint, each with why: half-written temporary files, data without a manifest. */
    public List<String> leftovers() {
        List<String> found = new ArrayList<>();
        try {
            FileSystem fs = InputFiles.fileSystem(folder, conf);
            if (!fs.exists(folder)) {
                return found;
            }
            List<String> referenced = referencedDataFiles(fs);
            for (FileStatus file : fs.listStatus(folder)) {
                String name = file.getPath().getName();
                if (name.startsWith(".checkpoint-") && name.contains(".tmp-")) {
                    found.add(file.getPath() + " is a half-written temporary file (a write was interrupted); ignored");
                } else if (name.startsWith("checkpoint-") && name.endsWith(".bin") && !referenced.contains(name)) {
                    found.add(file.getPath() + " has no manifest (its write was interrupted); ignored");
                }
            }
        } catch (IOException e) {
            found.add(folder + ": cannot be listed: " + e.getMessage());
        }
        return found;
    }

    private void prune(int keep) {
        try {
            FileSystem fs = InputFiles.fileSystem(folder, conf);
            int valid = 0;
            for (Path manifest : manifestsNewestFirst()) {
                boolean ok = knownValid.contains(manifest.getName());
                if (!ok) {
                    try {
                        verifiedData(manifest);
                        knownValid.add(manifest.getName());
                        ok = true;
                    } catch (IOException e) {
                        ok = false;
                    }
                }
                if (ok && ++valid <= keep) {
                    continue;
                }
                // Manifest first: a checkpoint without its manifest is never loaded, so a crash here loses nothing.
                String dataName = dataFileOf(fs, manifest);
                knownValid.remove(manifest.getName());
                fs.delete(manifest, false);
                if (dataName != null) {
                    fs.delete(new Path(folder, dataName), false);
                }
            }
            List<String> referenced = referencedDataFiles(fs);
            for (FileStatus file : fs.listStatus(folder)) {
                String name = file.getPath().getName();
                boolean temporary = name.startsWith(".checkpoint-") && name.contains(".tmp-");
                boolean orphan = name.startsWith("checkpoint-") && name.endsWith(".bin") && !referenced.contains(name);
                if (temporary || orphan) {
                    fs.delete(file.getPath(), false);
                }
            }
        } catch (IOException e) {
            throw StoreFailures.of(folder + ": old checkpoints cannot be deleted", folder, e, conf);
        }
    }

    private List<String> referencedDataFiles(FileSystem fs) {
        List<String> names = new ArrayList<>();
        for (Path manifest : manifestsNewestFirst()) {
            String name = dataFileOf(fs, manifest);
            if (name != null) {
                names.add(name);
            }
        }
        return names;
    }

    private static String dataFileOf(FileSystem fs, Path manifest) {
        try {
            String name = JSON.readTree(readAll(fs, manifest)).path("data_file").asText("");
            return name.isEmpty() || name.contains("/") ? null : name;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Manifests ordered by (epochs done, minibatches done), newest first. */
    private List<Path> manifestsNewestFirst() {
        try {
            FileSystem fs = InputFiles.fileSystem(folder, conf);
            if (!fs.exists(folder)) {
                return List.of();
            }
            List<Path> manifests = new ArrayList<>();
            for (FileStatus file : fs.listStatus(folder)) {
                if (MANIFEST.matcher(file.getPath().getName()).matches()) {
                    manifests.add(file.getPath());
                }
            }
            manifests.sort(Comparator.comparing(CheckpointStore::position).reversed());
            return manifests;
        } catch (IOException e) {
            throw StoreFailures.of(folder + ": checkpoints cannot be listed", folder, e, conf);
        }
    }

    private static long position(Path manifest) {
        Matcher m = MANIFEST.matcher(manifest.getName());
        if (!m.matches()) {
            throw new IllegalArgumentException(manifest.toString());
        }
        return Long.parseLong(m.group(1)) * 10_000_000L + Long.parseLong(m.group(2));
    }

    private static boolean isCheckpointFile(String name) {
        return name.startsWith("checkpoint-") || name.startsWith(".checkpoint-");
    }

    private static byte[] readAll(FileSystem fs, Path path) throws IOException {
        try (InputStream in = fs.open(path)) {
            return in.readAllBytes();
        }
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    private static String firstLine(Exception e) {
        String message = String.valueOf(e.getMessage());
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
