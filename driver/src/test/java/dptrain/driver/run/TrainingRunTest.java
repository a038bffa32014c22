package dptrain.driver.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.driver.EarlyStopping;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingProgress;
import dptrain.driver.checkpoint.Checkpointing;
import dptrain.driver.files.ParameterException;
import dptrain.driver.input.DataInput;
import dptrain.driver.output.RunOutputs;
import dptrain.driver.rounds.EpochRecord;
import dptrain.report.TrainingReport;
import dptrain.spec.ModelSpec;
import dptrain.testing.FashionMnist;
import dptrain.testing.LocalSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Java user of the library gets the files 'dptrain train' writes, with the same test evaluation. */
class TrainingRunTest {
    @TempDir
    static Path dir;
    private static JavaSparkContext jsc;
    private static Path train;
    private static Path test;

    @BeforeAll
    static void start() throws IOException {
        train = FashionMnist.writeSlice(dir, "train", "train", 0, 512);
        test = FashionMnist.writeSlice(dir, "t10k", "test", 0, 256);
        jsc = LocalSpark.start(2);
    }

    @AfterAll
    static void stop() {
        jsc.close();
    }

    @Test
    void aRunFromJavaWritesModelHistoryProvenanceAndReportWithTheTestConfusionMatrix() throws IOException {
        ModelSpec spec = ModelSpec.read(Path.of("../src/examples/mnist-mlp.yaml"));
        Path out = dir.resolve("out");
        TrainingConfig config = TrainingConfig.builder(spec, DataInput.idx(train.toString()))
                .test(DataInput.idx(test.toString())).epochs(1).batchSize(64).workers(2).output(out.toString()).build();

        TrainingRun.Trained run = new TrainingRun(jsc).train(config, new TrainingProgress() { });

        for (String file : new String[] {RunOutputs.MODEL, RunOutputs.HISTORY, RunOutputs.PROVENANCE,
                TrainingReport.HTML, TrainingReport.PNG}) {
            assertTrue(Files.isRegularFile(out.resolve(file)), file + " was not written");
        }
        assertTrue(run.reportFailure().isEmpty(), () -> "report not drawn: " + run.reportFailure());
        JsonNode history = new ObjectMapper().readTree(out.resolve(RunOutputs.HISTORY).toFile());
        var stats = run.result().test().orElseThrow().stats();
        assertEquals(256, history.get("test_examples").asLong());
        assertEquals(stats.accuracy(), history.get("test_accuracy").asDouble(), 1e-12);
        long diagonal = 0;
        long total = 0;
        JsonNode matrix = history.get("test_confusion_matrix");
        for (int t = 0; t < matrix.size(); t++) {
            for (int p = 0; p < matrix.get(t).size(); p++) {
                total += matrix.get(t).get(p).asLong();
                diagonal += t == p ? matrix.get(t).get(p).asLong() : 0;
            }
        }
        assertEquals(256, total, "every test example is counted once");
        assertEquals(stats.accuracy(), diagonal / 256.0, 1e-12, "the matrix's diagonal is the test accuracy");
        JsonNode provenance = new ObjectMapper().readTree(out.resolve(RunOutputs.PROVENANCE).toFile());
        assertEquals(2, provenance.get("parameters").get("workers").asInt());
        assertEquals(16, provenance.get("parameters").get("averaging_frequency").asInt(),
                "auto averaging is resolved for the 2 workers before provenance records it");
    }

    /** README's "As a library" example, on a slice and for 2 epochs: validation, early stopping, checkpoints. */
    @Test
    void theReadmeLibraryExampleRunsAsWritten() throws IOException {
        ModelSpec spec = ModelSpec.read(Path.of("../src/examples/mnist-mlp.yaml"));
        String out = dir.resolve("readme").toString();
        TrainingConfig config = TrainingConfig.builder(spec, DataInput.idx(train.toString()))
                .test(DataInput.idx(test.toString()))
                .workers(2).validationSplit(0.1).earlyStopping(new EarlyStopping(2, true))
                .output(out).checkpointing(Checkpointing.under(out, 0, 3, Checkpointing.Resume.IF_PRESENT))
                .epochs(2).build();
        List<EpochRecord> epochs = new ArrayList<>();
        TrainingRun.Trained run = new TrainingRun(jsc).train(config, new TrainingProgress() {
            @Override
            public void epochEnded(EpochRecord e) {
                epochs.add(e);
            }
        });
        assertEquals(2, epochs.size());
        assertTrue(Double.isFinite(epochs.get(1).valLoss()), "validation on the held-out tenth");
        assertEquals(256, run.result().test().orElseThrow().stats().examples());
        assertTrue(Files.list(Path.of(out, "checkpoints")).anyMatch(f -> f.toString().endsWith(".json")),
                "checkpoints were written");
    }

    @Test
    void aRunWithoutAnOutputFolderIsRefusedNamingTheParameter() throws IOException {
        ModelSpec spec = ModelSpec.read(Path.of("../src/examples/mnist-mlp.yaml"));
        TrainingConfig config = TrainingConfig.builder(spec, DataInput.idx(train.toString())).epochs(1).build();
        ParameterException e = assertThrows(ParameterException.class,
                () -> new TrainingRun(jsc).train(config, new TrainingProgress() { }));
        assertEquals("output", e.key());
    }
}
