package dptrain.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.files.ParameterException;
import dptrain.driver.input.DataInput;
import dptrain.driver.pipeline.BatchScope;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.OptimizerStateScope;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainingConfigTest {
    private static final DataInput TRAIN = DataInput.idx("train-images-idx3-ubyte");

    private static ModelSpec book() throws IOException {
        return ModelSpec.read(Path.of("../src/examples/mnist-mlp.yaml"));
    }

    @Test
    void trainingAndValidationDataWithoutLabelsAreRefused() throws IOException {
        DataInput unlabeled = TRAIN.withLabels(DataInput.Labels.ABSENT);
        IllegalArgumentException train = assertThrows(IllegalArgumentException.class,
                () -> TrainingConfig.builder(book(), unlabeled).build());
        assertTrue(train.getMessage().contains("has no labels"), train.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> TrainingConfig.builder(book(), TRAIN).test(unlabeled).build());
        assertThrows(IllegalArgumentException.class,
                () -> TrainingConfig.builder(book(), TRAIN).validationData(unlabeled).build());
    }

    @Test
    void aBuilderLeftAloneHoldsDptrainsDefaultsUntilResolvedForTheWorkers() throws IOException {
        TrainingConfig config = TrainingConfig.builder(book(), TRAIN).build();
        assertEquals(TrainingConfig.DEFAULT_EPOCHS, config.epochs());
        assertEquals(TrainingConfig.DEFAULT_BATCH_SIZE, config.batchSize());
        assertEquals(book().seed(), config.seed());
        assertTrue(config.averaging().isAuto());
        assertFalse(config.isResolved());
        assertThrows(IllegalStateException.class, config::workers);
        assertThrows(IllegalStateException.class, config::blockMomentum);
        assertEquals("auto", config.describe().get("averaging_frequency"));
    }

    @Test
    void resolvingForTwoWorkersAveragesEvery16MinibatchesWithNesterovBlockMomentum() throws IOException {
        TrainingConfig config = TrainingConfig.builder(book(), TRAIN).build().resolve(2);
        assertEquals(2, config.workers());
        assertEquals(AveragingSchedule.everyMinibatches(16), config.averaging());
        assertEquals(new BlockMomentum(0.4, 1, true), config.blockMomentum());
        assertEquals(16, config.describe().get("averaging_frequency"));
        assertSame(config, config.resolve(8), "a resolved configuration stays as it is");
    }

    @Test
    void resolvingForOneWorkerAveragesOncePerEpochPlainly() throws IOException {
        TrainingConfig config = TrainingConfig.builder(book(), TRAIN).build().resolve(1);
        assertEquals(AveragingSchedule.EVERY_EPOCH, config.averaging());
        assertEquals(BlockMomentum.NONE, config.blockMomentum());
    }

    @Test
    void settingsTheUserChoseSurviveResolution() throws IOException {
        TrainingConfig config = TrainingConfig.builder(book(), TRAIN).workers(4)
                .averaging(AveragingSchedule.everyMinibatches(5)).blockMomentum(BlockMomentum.NONE).build().resolve(2);
        assertEquals(4, config.workers(), "Spark's parallelism only fills in workers that were not given");
        assertEquals(AveragingSchedule.everyMinibatches(5), config.averaging());
        assertEquals(BlockMomentum.NONE, config.blockMomentum());
    }

    @Test
    void aValueThatIsNotAllowedIsNamedByKeyAndEachFrontEndNamesItItsOwnWay() throws IOException {
        ParameterException e = assertThrows(ParameterException.class,
                () -> TrainingConfig.builder(book(), TRAIN).batchSize(0).build());
        assertEquals("batch_size", e.key());
        assertEquals("batch_size: 0 is not allowed; expected a whole number >= 1", e.getMessage());
        assertEquals("--batch-size: 0 is not allowed; expected a whole number >= 1",
                e.message(ParameterException::flag));
        assertEquals("batchSize: 0 is not allowed; expected a whole number >= 1",
                e.message(k -> k.equals("batch_size") ? "batchSize" : k));
    }

    @Test
    void settingsThatExcludeEachOtherAreBothNamed() throws IOException {
        ParameterException e = assertThrows(ParameterException.class,
                () -> TrainingConfig.builder(book(), TRAIN).validationSplit(0.1).validationData(TRAIN).build());
        assertTrue(e.message(ParameterException::flag).startsWith(
                "--validation-data and --validation-split exclude each other"), e.getMessage());
        ParameterException stratify = assertThrows(ParameterException.class,
                () -> TrainingConfig.builder(book(), TRAIN).stratify(true).build());
        assertEquals("--stratify needs --validation-split: there is nothing to stratify without it",
                stratify.message(ParameterException::flag));
    }

    @Test
    void averagingSchedulesParseAndPrintAsTheCliWritesThem() {
        for (String text : new String[] {"auto", "epoch", "16", "1"}) {
            assertEquals(text, AveragingSchedule.parse(text).toString());
        }
        ParameterException e = assertThrows(ParameterException.class, () -> AveragingSchedule.parse("0"));
        assertEquals("averaging_frequency: '0' is not allowed; expected a whole number of minibatches >= 1, 'epoch' "
                + "or 'auto'", e.getMessage());
        assertEquals(235, AveragingSchedule.EVERY_EPOCH.minibatchesPerRound(235));
        assertEquals(16, AveragingSchedule.everyMinibatches(16).minibatchesPerRound(235));
        assertThrows(IllegalStateException.class, () -> AveragingSchedule.AUTO.minibatchesPerRound(235));
    }

    @Test
    void aResumedRunComparesTheSameSettingsAsBefore() throws IOException {
        Map<String, Object> settings = TrainingConfig.builder(book(), TRAIN).build().resolve(2).resumeSettings();
        assertEquals(java.util.List.of("batch_size", "workers", "validation_split", "stratify", "seed", "train",
                "block_momentum", "block_lr", "block_nesterov", "batch_scope", "model", "normalization"),
                java.util.List.copyOf(settings.keySet()));
        settings = TrainingConfig.builder(book(), TRAIN).batchScope(BatchScope.WORKER).build().resolve(2)
                .resumeSettings();
        assertEquals(java.util.List.of("batch_size", "workers", "validation_split", "stratify", "seed", "train",
                "block_momentum", "block_lr", "block_nesterov", "model", "normalization"),
                java.util.List.copyOf(settings.keySet()));
        assertEquals(0.4, settings.get("block_momentum"));
    }

    @Test
    void parameterDeltasTravelInFloat32UnlessRoundedAndARoundedRunResumesOnlyRoundedTheSameWay() throws IOException {
        TrainingConfig exact = TrainingConfig.builder(book(), TRAIN).build().resolve(2);
        assertEquals(DeltaPrecision.FLOAT32, exact.deltaPrecision(), "the default: PARITY.md's rule kept float32");
        assertEquals("float32", exact.describe().get("delta_precision"));
        assertFalse(exact.resumeSettings().containsKey("delta_precision"), "checkpoints from before still resume");
        TrainingConfig half = exact.toBuilder().deltaPrecision(DeltaPrecision.FLOAT16).build();
        assertEquals("float16", half.resumeSettings().get("delta_precision"));
        assertEquals(DeltaPrecision.BFLOAT16, TrainingConfigBuilder.parseDeltaPrecision(" BFloat16 "));
        ParameterException e = assertThrows(ParameterException.class,
                () -> TrainingConfigBuilder.parseDeltaPrecision("half"));
        assertEquals("--delta-precision: 'half' is not allowed; expected float32, float16 or bfloat16",
                e.message(ParameterException::flag));
        assertThrows(ParameterException.class, () -> TrainingConfig.builder(book(), TRAIN).deltaPrecision(null));
    }

    @Test
    void theOptimizerStateIsAveragedUnlessKeptLocalAndALocalRunResumesOnlyLocal() throws IOException {
        TrainingConfig averaged = TrainingConfig.builder(book(), TRAIN).build().resolve(2);
        assertEquals(OptimizerStateScope.AVERAGED, averaged.optimizerState(), "the default");
        assertEquals("averaged", averaged.describe().get("optimizer_state"));
        assertFalse(averaged.resumeSettings().containsKey("optimizer_state"), "checkpoints from before still resume");
        TrainingConfig local = averaged.toBuilder().optimizerState(OptimizerStateScope.LOCAL).build();
        assertEquals("local", local.resumeSettings().get("optimizer_state"));
        ParameterException e = assertThrows(ParameterException.class,
                () -> TrainingConfigBuilder.parseOptimizerState("shared"));
        assertEquals("--optimizer-state: 'shared' is not allowed; expected averaged or local",
                e.message(ParameterException::flag));
        assertThrows(ParameterException.class, () -> TrainingConfig.builder(book(), TRAIN).optimizerState(null));
    }

    @Test
    void theBatchSizeCountsAllWorkersTogetherUnlessTheScopeSaysOtherwise() throws IOException {
        TrainingConfig global = TrainingConfig.builder(book(), TRAIN).workers(16).build().resolve(2);
        assertEquals(BatchScope.GLOBAL, global.batchScope(), "the default, chosen in PARITY.md (session 8)");
        assertEquals("global", global.describe().get("batch_scope"));
        assertEquals(128, global.batchSize(), "the configured batch size stays as given");
        assertEquals(8, global.workerBatchSize(8_004), "each of 16 workers takes 128 / 16");
        TrainingConfig perWorker = global.toBuilder().batchScope(BatchScope.WORKER).build();
        assertEquals("worker", perWorker.describe().get("batch_scope"));
        assertEquals(128, perWorker.workerBatchSize(8_004));
        assertEquals(10, global.toBuilder().batchScope(BatchScope.AUTO).build().workerBatchSize(8_004));
        assertThrows(IllegalStateException.class, () -> TrainingConfig.builder(book(), TRAIN)
                .batchScope(BatchScope.GLOBAL).build().workerBatchSize(8_004), "workers are resolved first");
        ParameterException e = assertThrows(ParameterException.class,
                () -> TrainingConfig.builder(book(), TRAIN).batchScope(null));
        assertEquals("--batch-scope: null is not allowed; expected worker, global or auto",
                e.message(ParameterException::flag));
    }

    @Test
    void aResumedRunMustShareABatchScopeOtherThanPerWorker() throws IOException {
        Map<String, Object> global = TrainingConfig.builder(book(), TRAIN).batchScope(BatchScope.GLOBAL).build()
                .resolve(2).resumeSettings();
        assertEquals("global", global.get("batch_scope"));
        Map<String, Object> perWorker = TrainingConfig.builder(book(), TRAIN).batchScope(BatchScope.WORKER).build()
                .resolve(2).resumeSettings();
        assertFalse(perWorker.containsKey("batch_scope"), "checkpoints from before the option still resume");
    }
}
