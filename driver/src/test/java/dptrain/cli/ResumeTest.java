package dptrain.cli;

import static dptrain.cli.TrainCommandTest.BOOK_SPEC;
import static dptrain.cli.TrainCommandTest.dptrain;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.driver.checkpoint.CheckpointStore;
import dptrain.testing.FashionMnist;
import dptrain.testing.FullDisk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints and resume end to end: a run continued from any checkpoint, even after newer ones
 * were damaged, ends with the same bits as a run that never stopped.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ResumeTest {
    @TempDir
    static Path data;
    static Path trainImages;
    /** The uninterrupted reference run: 3 epochs, 8 minibatches per replica per epoch, averaging every 4. */
    static Path reference;
    static float[] referenceParameters;
    static JsonNode referenceHistory;

    @TempDir
    Path out;

    static List<String> args(Path output, String... more) {
        List<String> all = new ArrayList<>(List.of("train", "--model", BOOK_SPEC, "--train", trainImages.toString(),
                "--epochs", "3", "--batch-size", "128", "--workers", "2", "--master", "local[2]",
                "--averaging-frequency", "4", "--checkpoint-every", "1", "--output", output.toString(),
                "--conf", "spark.ui.enabled=false"));
        for (int i = 0; i < more.length; i++) {
            int at = all.indexOf(more[i]);
            boolean hasValue = i + 1 < more.length && !more[i + 1].startsWith("--");
            if (at >= 0 && hasValue) {
                all.set(at + 1, more[++i]);
            } else {
                all.add(more[i]);
                if (hasValue) {
                    all.add(more[++i]);
                }
            }
        }
        return all;
    }

    static TrainCommandTest.Run train(Path output, String... more) {
        return dptrain(args(output, more).toArray(String[]::new));
    }

    @BeforeAll
    static void referenceRun() throws IOException {
        trainImages = FashionMnist.writeSlice(data, "train", "train", 0, 1000);
        reference = data.resolve("reference");
        TrainCommandTest.Run run = train(reference);
        assertEquals(ExitCodes.OK, run.code(), run.err());
        referenceParameters = parameters(reference);
        referenceHistory = new ObjectMapper().readTree(reference.resolve("history.json").toFile());
    }

    static float[] parameters(Path output) throws IOException {
        return ModelSerializer.restoreMultiLayerNetwork(output.resolve("model.zip").toFile(), false).params()
                .data().asFloat();
    }

    /** Copies the reference run's checkpoint after {@code epochs} epochs and {@code batches} minibatches into {@code out}. */
    void copyCheckpoint(int epochs, int batches) throws IOException {
        copyFrom(reference, String.format("checkpoint-e%04d-b%06d", epochs, batches));
    }

    void copyFrom(Path run, String stem) throws IOException {
        Path from = run.resolve("checkpoints");
        Path to = out.resolve("checkpoints");
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith(stem)).toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }

    Path dataFile(int epochs, int batches) throws IOException {
        String stem = String.format("checkpoint-e%04d-b%06d-", epochs, batches);
        try (Stream<Path> files = Files.list(out.resolve("checkpoints"))) {
            return files.filter(f -> f.getFileName().toString().startsWith(stem)).findFirst().orElseThrow();
        }
    }

    void assertSameAsReference(Path output) throws IOException {
        assertArrayEquals(referenceParameters, parameters(output), "final parameters differ from the uninterrupted run");
        JsonNode history = new ObjectMapper().readTree(output.resolve("history.json").toFile());
        assertEquals(referenceHistory.get("history"), history.get("history"), "Keras history differs");
    }

    @Test
    @Order(1)
    void theReferenceRunKeepsTheNewestThreeCheckpoints() throws IOException {
        try (Stream<Path> files = Files.list(reference.resolve("checkpoints"))) {
            List<String> manifests = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .sorted().toList();
            // Epoch 3 is 2 epochs + 4 minibatches, then 3 epochs.
            assertEquals(List.of("checkpoint-e0002-b000000.json", "checkpoint-e0002-b000004.json",
                    "checkpoint-e0003-b000000.json"), manifests);
        }
    }

    @Test
    void aRunStoppedAfterAnEpochAndResumedEndsWithTheSameBits() throws IOException {
        TrainCommandTest.Run first = train(out, "--epochs", "1");
        assertEquals(ExitCodes.OK, first.code(), first.err());
        TrainCommandTest.Run resumed = train(out, "--resume");
        assertEquals(ExitCodes.OK, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("Resuming from checkpoint: epoch 1 of 3 done, 0 of 8 minibatches into epoch 2, "
                + "step 8 ("), resumed.out());
        assertFalse(resumed.out().contains("Epoch 1/3"), "only the epochs still to run are printed: " + resumed.out());
        assertTrue(resumed.out().contains("Epoch 2/3") && resumed.out().contains("Epoch 3/3"), resumed.out());
        assertSameAsReference(out);
    }

    @Test
    void blockMomentumResumesWithItsFilterState(@TempDir Path uninterrupted) throws IOException {
        String[] bmuf = {"--block-momentum", "0.5", "--block-nesterov", "--epochs", "2"};
        TrainCommandTest.Run whole = train(uninterrupted, bmuf);
        assertEquals(ExitCodes.OK, whole.code(), whole.err());
        float[] expected = parameters(uninterrupted);
        assertFalse(java.util.Arrays.equals(expected, parameters(reference)), "block momentum changes the result");
        copyFrom(uninterrupted, "checkpoint-e0001-b000004");
        TrainCommandTest.Run resumed = train(out, bmuf);
        assertEquals(ExitCodes.OK, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("Resuming from checkpoint: epoch 1 of 2 done, 4 of 8"), resumed.out());
        assertArrayEquals(expected, parameters(out), "the resumed run with block momentum differs");
    }

    /**
     * With the replicas averaging among themselves: a run stopped after an epoch and resumed, and a
     * resume from the reference's mid-epoch checkpoint (written by the driver's average), both end
     * with the reference's bits.
     */
    @Test
    void amongTheReplicasAStoppedRunResumesWithTheSameBits(@TempDir Path midEpoch) throws IOException {
        String[] peers = {"--conf", "spark.dptrain.roundExchange=peers"};
        TrainCommandTest.Run first = train(out, "--epochs", "1", peers[0], peers[1]);
        assertEquals(ExitCodes.OK, first.code(), first.err());
        assertTrue(first.out().contains("the replicas averaging among themselves"), first.out());
        TrainCommandTest.Run resumed = train(out, "--resume", peers[0], peers[1]);
        assertEquals(ExitCodes.OK, resumed.code(), resumed.err());
        assertSameAsReference(out);

        Path checkpoints = Files.createDirectories(midEpoch.resolve("checkpoints"));
        try (Stream<Path> files = Files.list(reference.resolve("checkpoints"))) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("checkpoint-e0002-b000004"))
                    .toList()) {
                Files.copy(f, checkpoints.resolve(f.getFileName()));
            }
        }
        TrainCommandTest.Run fromMidEpoch = train(midEpoch, peers[0], peers[1]);
        assertEquals(ExitCodes.OK, fromMidEpoch.code(), fromMidEpoch.err());
        assertTrue(fromMidEpoch.out().contains("Resuming from checkpoint: epoch 2 of 3 done, 4 of 8"),
                fromMidEpoch.out());
        assertSameAsReference(midEpoch);
    }

    /**
     * With float16 deltas (rounds of 2 minibatches and a checkpoint every 2 rounds: rounds 1 and 3
     * of each epoch rounded, 2 and 4 exact), a run stopped after an epoch and runs resumed from a
     * mid-epoch checkpoint, by the driver's average or among the replicas, end with the
     * uninterrupted run's bits: no residual is needed where a checkpoint is taken.
     */
    @Test
    void sixteenBitDeltasResumeWithTheSameBits(@TempDir Path uninterrupted, @TempDir Path float32,
            @TempDir Path midEpoch, @TempDir Path amongReplicas) throws IOException {
        List<String> fp16 = List.of("--delta-precision", "float16", "--averaging-frequency", "2",
                "--checkpoint-every", "2", "--epochs", "2");
        TrainCommandTest.Run whole = train(uninterrupted, fp16.toArray(String[]::new));
        assertEquals(ExitCodes.OK, whole.code(), whole.err());
        float[] expected = parameters(uninterrupted);
        TrainCommandTest.Run plain = train(float32, "--averaging-frequency", "2", "--checkpoint-every", "2",
                "--epochs", "2");
        assertEquals(ExitCodes.OK, plain.code(), plain.err());
        assertFalse(java.util.Arrays.equals(expected, parameters(float32)), "float16 deltas change the result");

        List<String> firstEpoch = new ArrayList<>(fp16);
        firstEpoch.set(firstEpoch.indexOf("--epochs") + 1, "1");
        TrainCommandTest.Run first = train(out, firstEpoch.toArray(String[]::new));
        assertEquals(ExitCodes.OK, first.code(), first.err());
        List<String> resume = new ArrayList<>(fp16);
        resume.add("--resume");
        TrainCommandTest.Run resumed = train(out, resume.toArray(String[]::new));
        assertEquals(ExitCodes.OK, resumed.code(), resumed.err());
        assertArrayEquals(expected, parameters(out), "float16 deltas stopped after an epoch and resumed differ");

        copyMidEpochCheckpoint(uninterrupted, midEpoch, amongReplicas);
        TrainCommandTest.Run fromMidEpoch = train(midEpoch, fp16.toArray(String[]::new));
        assertEquals(ExitCodes.OK, fromMidEpoch.code(), fromMidEpoch.err());
        assertTrue(fromMidEpoch.out().contains("Resuming from checkpoint: epoch 1 of 2 done, 4 of 8"),
                fromMidEpoch.out());
        assertArrayEquals(expected, parameters(midEpoch), "float16 deltas resumed mid-epoch differ");
        List<String> peers = new ArrayList<>(fp16);
        peers.addAll(List.of("--conf", "spark.dptrain.roundExchange=peers"));
        TrainCommandTest.Run peersResumed = train(amongReplicas, peers.toArray(String[]::new));
        assertEquals(ExitCodes.OK, peersResumed.code(), peersResumed.err());
        assertTrue(peersResumed.out().contains("the replicas averaging among themselves"), peersResumed.out());
        assertArrayEquals(expected, parameters(amongReplicas),
                "float16 deltas resumed mid-epoch among the replicas differ");
    }

    /**
     * With each replica keeping its optimizer state between exact rounds (rounds of 2 minibatches,
     * a checkpoint every 2 rounds), a run resumed from a mid-epoch checkpoint, by the driver or
     * among the replicas, ends with the uninterrupted run's bits.
     */
    @Test
    void aLocalOptimizerStateResumesWithTheSameBits(@TempDir Path uninterrupted, @TempDir Path midEpoch,
            @TempDir Path amongReplicas) throws IOException {
        List<String> local = List.of("--optimizer-state", "local", "--averaging-frequency", "2",
                "--checkpoint-every", "2", "--epochs", "2");
        TrainCommandTest.Run whole = train(uninterrupted, local.toArray(String[]::new));
        assertEquals(ExitCodes.OK, whole.code(), whole.err());
        float[] expected = parameters(uninterrupted);
        copyMidEpochCheckpoint(uninterrupted, midEpoch, amongReplicas);
        TrainCommandTest.Run fromMidEpoch = train(midEpoch, local.toArray(String[]::new));
        assertEquals(ExitCodes.OK, fromMidEpoch.code(), fromMidEpoch.err());
        assertTrue(fromMidEpoch.out().contains("Resuming from checkpoint: epoch 1 of 2 done, 4 of 8"),
                fromMidEpoch.out());
        assertArrayEquals(expected, parameters(midEpoch), "a local optimizer state resumed mid-epoch differs");
        List<String> peers = new ArrayList<>(local);
        peers.addAll(List.of("--conf", "spark.dptrain.roundExchange=peers"));
        TrainCommandTest.Run peersResumed = train(amongReplicas, peers.toArray(String[]::new));
        assertEquals(ExitCodes.OK, peersResumed.code(), peersResumed.err());
        assertArrayEquals(expected, parameters(amongReplicas),
                "a local optimizer state resumed mid-epoch among the replicas differs");
    }

    /** Copies {@code from}'s checkpoint after minibatch 4 of epoch 1 into each of {@code runs}, for them to resume. */
    private static void copyMidEpochCheckpoint(Path from, Path... runs) throws IOException {
        for (Path run : runs) {
            Path checkpoints = Files.createDirectories(run.resolve("checkpoints"));
            try (Stream<Path> files = Files.list(from.resolve("checkpoints"))) {
                for (Path f : files.filter(f -> f.getFileName().toString().startsWith("checkpoint-e0001-b000004"))
                        .toList()) {
                    Files.copy(f, checkpoints.resolve(f.getFileName()));
                }
            }
        }
    }

    @Test
    void aRerunIntoTheSameOutputContinuesFromAMidEpochCheckpoint() throws IOException {
        copyCheckpoint(2, 4);
        TrainCommandTest.Run resumed = train(out);
        assertEquals(ExitCodes.OK, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("Resuming from checkpoint: epoch 2 of 3 done, 4 of 8 minibatches into epoch 3"),
                resumed.out());
        assertSameAsReference(out);
    }

    @Test
    void damagedNewerCheckpointsAreNamedAndAnOlderValidOneIsUsed() throws IOException {
        copyCheckpoint(2, 0);
        copyCheckpoint(2, 4);
        copyCheckpoint(3, 0);
        Path truncated = dataFile(3, 0);
        byte[] bytes = Files.readAllBytes(truncated);
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 1000));
        Path flipped = dataFile(2, 4);
        byte[] flip = Files.readAllBytes(flipped);
        flip[flip.length / 2] ^= 1;
        Files.write(flipped, flip);
        TrainCommandTest.Run resumed = train(out, "--resume");
        assertEquals(ExitCodes.OK, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains(truncated.getFileName() + " has " + (bytes.length - 1000)), resumed.out());
        assertTrue(resumed.out().contains(flipped.getFileName() + " fails its SHA-256 check"), resumed.out());
        assertTrue(resumed.out().contains("Resuming from checkpoint: epoch 2 of 3 done, 0 of 8"), resumed.out());
        assertSameAsReference(out);
    }

    @Test
    void aCheckpointOfOtherSettingsIsRefusedNamingThem() throws IOException {
        copyCheckpoint(3, 0);
        TrainCommandTest.Run run = train(out, "--resume", "--batch-size", "50", "--seed", "7");
        assertEquals(ExitCodes.INPUT, run.code(), run.out() + run.err());
        assertTrue(run.err().contains("was written by a run with other settings (batch_size 128 -> 50, seed 12345 -> 7)"),
                run.err());
        assertFalse(Files.exists(out.resolve("model.zip")));
    }

    @Test
    void resumeWithoutACheckpointFails() {
        TrainCommandTest.Run run = train(out, "--resume");
        assertEquals(ExitCodes.INPUT, run.code(), run.out() + run.err());
        assertTrue(run.err().contains("--resume: ") && run.err().contains("holds no valid checkpoint"), run.err());
    }

    @Test
    void resumeAndOverwriteContradict() {
        TrainCommandTest.Run run = train(out, "--resume", "--overwrite");
        assertEquals(ExitCodes.USAGE, run.code(), run.out() + run.err());
        assertTrue(run.err().contains("--resume and --overwrite contradict each other"), run.err());
    }

    @Test
    void aDivergingRunStopsRollsBackAndLeavesALoadableCheckpoint() throws IOException {
        Path spec = data.resolve("too-fast.yaml");
        // Learning rate 10 on unscaled pixels (0-255), regressing the label's value: a squared error grows
        // ~1e8-fold per step until it overflows.
        Files.writeString(spec, "input_shape: [784]\nlayers:\n  - dense: {units: 64, activation: relu}\n"
                + "  - dense: {units: 1, activation: linear}\noptimizer: {sgd: {learning_rate: 10}}\nloss: mse\n");
        List<String> a = args(out, "--scale", "1");
        a.set(a.indexOf(BOOK_SPEC), spec.toString());
        TrainCommandTest.Run run = dptrain(a.toArray(String[]::new));
        assertEquals(ExitCodes.TRAINING, run.code(), run.out() + run.err());
        assertTrue(run.err().contains("training diverged: "), run.err());
        assertTrue(run.err().contains("rolled back to the last good state"), run.err());
        assertTrue(run.err().contains("learning_rate") && run.err().contains("--scale"), run.err());
        assertTrue(run.err().contains(out.resolve("checkpoints").toString()), run.err());
        assertFalse(Files.exists(out.resolve("model.zip")), "no model from a diverged run");
        CheckpointStore.Found last = new CheckpointStore(out.resolve("checkpoints").toUri().toString(), new Configuration())
                .newestValid(why -> { throw new AssertionError(why); }).orElseThrow();
        assertTrue(last.checkpoint().state().isFinite(), "the last good checkpoint holds finite values");
    }

    /**
     * The disk fills up while the third checkpoint is written: the run fails naming the file and the
     * cause, the two checkpoints before stay whole and nothing half-written is left; once space is
     * back, --resume finishes with the bits of the run that never stopped.
     */
    @Test
    void aDiskThatFillsUpMidRunLosesNothingAndResumeFinishesWithTheSameBits() throws IOException {
        long checkpointBytes;
        try (Stream<Path> files = Files.list(reference.resolve("checkpoints"))) {
            checkpointBytes = files.filter(f -> f.toString().endsWith(".bin")).findFirst().orElseThrow().toFile()
                    .length();
        }
        // The flags of args(out), with --output on the filling disk and the settings that register it.
        List<String> onFullDisk = args(out, "--output", FullDisk.uri(out));
        onFullDisk.addAll(FullDisk.settings());
        FullDisk.setBudget(checkpointBytes * 5 / 2);
        try {
            TrainCommandTest.Run full = dptrain(onFullDisk.toArray(String[]::new));
            assertEquals(ExitCodes.ENVIRONMENT, full.code(), full.err());
            assertTrue(full.err().contains("cannot be written") && full.err().contains("No space left on device")
                    && full.err().contains("checkpoint-e"), full.err());
            assertFalse(full.err().contains("\tat "), full.err());
        } finally {
            FullDisk.setBudget(Long.MAX_VALUE);
        }
        assertFalse(Files.exists(out.resolve("model.zip")), "no model from the failed run");
        try (Stream<Path> files = Files.list(out.resolve("checkpoints"))) {
            List<String> names = files.map(f -> f.getFileName().toString()).sorted().toList();
            assertEquals(4, names.size(), "two whole checkpoints, data and manifest each: " + names);
            assertTrue(names.stream().noneMatch(n -> n.contains(".tmp-")), "nothing half-written: " + names);
        }
        onFullDisk.add("--resume");
        TrainCommandTest.Run resumed = dptrain(onFullDisk.toArray(String[]::new));
        assertEquals(ExitCodes.OK, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("Resuming from checkpoint"), resumed.out());
        assertArrayEquals(referenceParameters, parameters(out), "resumed after the disk filled up");
    }
}
