package dptrain.driver.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.files.AtomicFiles;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.replica.ReplicaStats;
import dptrain.replica.TrainingState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints on a local folder: written whole or not at all, and never loaded when damaged. */
class CheckpointStoreTest {
    @TempDir
    Path dir;
    CheckpointStore store;
    final List<String> rejected = new ArrayList<>();

    @BeforeEach
    void store() {
        store = new CheckpointStore(dir.toUri().toString(), new Configuration());
    }

    static Checkpoint checkpoint(int epochs, int batches, float value) {
        float[] params = new float[1000];
        float[] optimizer = new float[1000];
        for (int i = 0; i < params.length; i++) {
            params[i] = value + i * 1e-3f;
            optimizer[i] = Float.intBitsToFloat(0x3f800001 + i);
        }
        params[7] = -0.0f;
        EpochRecord epoch = new EpochRecord(1, 0.5, Map.of("accuracy", 0.8), Double.NaN, Map.of(), 1.25, 1000, 2, 8, 16, 0.9);
        RoundRecord round = new RoundRecord(1, 3, 1, 2, 500, 0.51, 0.01, 0.4, 0.02, 0.5, 0.003, 0.52, 0);
        return new Checkpoint(epochs, batches, TrainingState.restore(params, optimizer, 8 * epochs + batches, epochs),
                new Checkpoint.EpochSoFar(new ReplicaStats(512, 4, 4, 123.456, 300, 12.5, 3.25, 0.7, 0.4), 0.4, 0.55),
                List.of(epoch), List.of(round), null, null, Map.of("workers", 2, "seed", 42L),
                new float[][] {{0.1f, 0.2f}, {1f, 2f}}, 1000, 0);
    }

    private Path manifest(int epochs, int batches) {
        return dir.resolve(String.format("checkpoint-e%04d-b%06d.json", epochs, batches));
    }

    private Path dataFile(int epochs, int batches) throws IOException {
        String prefix = String.format("checkpoint-e%04d-b%06d-", epochs, batches);
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith(prefix)).findFirst().orElseThrow();
        }
    }

    private void writeThree() {
        store.write(checkpoint(1, 0, 1f), 3);
        store.write(checkpoint(1, 4, 2f), 3);
        store.write(checkpoint(2, 0, 3f), 3);
    }

    /**
     * A checkpoint an earlier release wrote (version 1: epochs with accuracy fields, not metrics by name) still
     * resumes, its history read as accuracy metrics.
     */
    @Test
    void readsAVersionOneCheckpointsHistoryAsAccuracy() throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        checkpoint(1, 0, 1f).writeTo(bytes);
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes.toByteArray());
        byte[] magic = new byte[8];
        buffer.get(magic);
        byte[] meta = new byte[buffer.getInt()];
        buffer.get(meta);
        byte[] rest = new byte[buffer.remaining()];
        buffer.get(rest);
        String version2 = new String(meta, java.nio.charset.StandardCharsets.UTF_8);
        String version1 = version2.replace("\"version\":2", "\"version\":1")
                .replace("\"metrics\":{\"accuracy\":0.8}", "\"accuracy\":0.8")
                .replace("\"valMetrics\":{}", "\"valAccuracy\":NaN");
        assertTrue(version1.contains("\"version\":1") && version1.contains("\"valAccuracy\":NaN"), version1);
        byte[] oldMeta = version1.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer old = java.nio.ByteBuffer.allocate(8 + 4 + oldMeta.length + rest.length);
        old.put(magic).putInt(oldMeta.length).put(oldMeta).put(rest);
        Checkpoint read = Checkpoint.readFrom(old.array());
        EpochRecord epoch = read.history().get(0);
        assertEquals(Map.of("accuracy", 0.8), epoch.metrics());
        assertEquals(Map.of(), epoch.valMetrics(), "no validation in that run");
        assertEquals(1000, epoch.examples());
        assertEquals(16, epoch.stepsTotal());
    }

    @Test
    void readsBackExactlyWhatWasWritten() {
        Checkpoint written = checkpoint(2, 4, 0.25f);
        store.write(written, 3);
        CheckpointStore.Found found = store.newestValid(rejected::add).orElseThrow();
        Checkpoint read = found.checkpoint();
        assertEquals(List.of(), rejected);
        assertEquals(2, read.epochsDone());
        assertEquals(4, read.batchesDone());
        assertArrayEquals(written.state().copyParameters(), read.state().copyParameters());
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(read.state().copyParameters()[7]));
        assertArrayEquals(written.state().copyOptimizerState(), read.state().copyOptimizerState());
        assertEquals(written.state().iteration(), read.state().iteration());
        assertEquals(written.soFar(), read.soFar());
        assertEquals(written.history(), read.history());
        assertEquals(written.rounds(), read.rounds());
        assertTrue(Double.isNaN(read.history().get(0).valLoss()));
        assertArrayEquals(written.normalizer()[1], read.normalizer()[1]);
        assertEquals(1000, read.trainingExamples());
        assertEquals(manifest(2, 4).toUri().getPath(), found.manifest().toUri().getPath());
    }

    @Test
    void keepsOnlyTheNewestK() throws IOException {
        store.write(checkpoint(1, 0, 1f), 2);
        store.write(checkpoint(2, 0, 2f), 2);
        store.write(checkpoint(3, 0, 3f), 2);
        assertTrue(Files.exists(manifest(3, 0)));
        assertTrue(Files.exists(manifest(2, 0)));
        assertTrue(!Files.exists(manifest(1, 0)));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(4, files.count(), "two manifests and two data files");
        }
    }

    @Test
    void aTruncatedCheckpointIsRejectedAndTheOlderOneUsed() throws IOException {
        writeThree();
        Path data = dataFile(2, 0);
        byte[] bytes = Files.readAllBytes(data);
        Files.write(data, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertOlderUsed(data.getFileName() + " has " + bytes.length / 2 + " bytes but its manifest says " + bytes.length
                + " (truncated)");
    }

    @Test
    void aZeroByteDataFileIsRejected() throws IOException {
        writeThree();
        Path data = dataFile(2, 0);
        Files.write(data, new byte[0]);
        assertOlderUsed(data.getFileName() + " has 0 bytes");
    }

    @Test
    void aZeroByteManifestIsRejected() throws IOException {
        writeThree();
        Files.write(manifest(2, 0), new byte[0]);
        assertOlderUsed("checkpoint-e0002-b000000.json is empty (0 bytes)");
    }

    @Test
    void aBitFlipIsCaughtByTheChecksum() throws IOException {
        writeThree();
        Path data = dataFile(2, 0);
        byte[] bytes = Files.readAllBytes(data);
        bytes[bytes.length - 100] ^= 0x10;
        Files.write(data, bytes);
        assertOlderUsed(data.getFileName() + " fails its SHA-256 check");
    }

    @Test
    void aManifestThatIsNotJsonIsRejected() throws IOException {
        writeThree();
        Files.writeString(manifest(2, 0), "{\"data_file\": \"checkpoint-e0002");
        assertOlderUsed("checkpoint-e0002-b000000.json is not valid JSON");
    }

    @Test
    void dataWithoutAManifestIsNeverLoaded() throws IOException {
        writeThree();
        Path orphan = dataFile(2, 0);
        Files.delete(manifest(2, 0));
        assertOlderUsed(null);
        assertTrue(store.leftovers().stream().anyMatch(l -> l.contains(orphan.getFileName() + " has no manifest")),
                store.leftovers().toString());
    }

    @Test
    void aMissingDataFileIsRejected() throws IOException {
        writeThree();
        Path data = dataFile(2, 0);
        Files.delete(data);
        assertOlderUsed(data.getFileName() + " named by");
    }

    @Test
    void aHalfWrittenTemporaryFileIsReportedAndIgnored() throws IOException {
        writeThree();
        // What a crash in the middle of AtomicFiles.write leaves: a hidden temporary name, never renamed.
        Path temporary = dir.resolve(".checkpoint-e0003-b000000-0badc0de.bin.tmp-3f1e");
        Files.write(temporary, new byte[] {1, 2, 3});
        Checkpoint newest = store.newestValid(rejected::add).orElseThrow().checkpoint();
        assertEquals(2, newest.epochsDone());
        assertTrue(store.leftovers().stream().anyMatch(l -> l.contains(temporary.getFileName() + " is a half-written")),
                store.leftovers().toString());
        // The next complete checkpoint cleans it up.
        store.write(checkpoint(3, 0, 4f), 3);
        assertTrue(!Files.exists(temporary));
    }

    @Test
    void noValidCheckpointMeansNone() throws IOException {
        store.write(checkpoint(1, 0, 1f), 3);
        Files.write(dataFile(1, 0), new byte[] {0});
        assertTrue(store.newestValid(rejected::add).isEmpty());
        assertEquals(1, rejected.size());
        assertTrue(store.any());
    }

    /** The newest (2, 0) is rejected with {@code reason} (when given) and (1, 4) is used. */
    private void assertOlderUsed(String reason) {
        CheckpointStore.Found found = store.newestValid(rejected::add).orElseThrow();
        assertEquals(1, found.checkpoint().epochsDone());
        assertEquals(4, found.checkpoint().batchesDone());
        assertArrayEquals(checkpoint(1, 4, 2f).state().copyParameters(), found.checkpoint().state().copyParameters());
        if (reason != null) {
            assertEquals(1, rejected.size(), rejected.toString());
            assertTrue(rejected.get(0).contains(reason), rejected.get(0));
            assertTrue(rejected.get(0).endsWith("; ignored"), rejected.get(0));
        }
    }
}
