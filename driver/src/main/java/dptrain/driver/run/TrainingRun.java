package dptrain.driver.run;

import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingProgress;
import dptrain.driver.TrainingResult;
import dptrain.driver.card.ModelCard;
import dptrain.driver.files.OutputLock;
import dptrain.driver.files.ParameterException;
import dptrain.driver.metrics.TrainingMetrics;
import dptrain.driver.output.RunOutputs;
import dptrain.report.TrainingReport;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Trains (or cross-validates) and writes the run's files to the configuration's output folder:
 * what {@code dptrain train} and {@code dptrain cv} do after parsing their flags. Every file is
 * replaced atomically, so a failed run never replaces a good model. While it trains, the run's
 * figures are in Spark's metrics system as the {@link TrainingMetrics} source. Check the folder first with
 * {@link RunOutputs#checkWritable}, as the CLI does before Spark starts.
 */
public final class TrainingRun {
    private final JavaSparkContext jsc;

    public TrainingRun(JavaSparkContext jsc) {
        this.jsc = jsc;
    }

    /**
     * A finished training run.
     *
     * @param config        the configuration, resolved for the cluster
     * @param result        what training produced
     * @param reportFailure why report.html and history.png could not be drawn (e.g. no fonts on the driver
     *                      node), empty when they were; the model, history and provenance are written either way
     */
    public record Trained(TrainingConfig config, TrainingResult result, Optional<RuntimeException> reportFailure) {
    }

    /** Trains as {@code config} says, then writes model.zip, history.json, provenance.json and the report. */
    public Trained train(TrainingConfig config, TrainingProgress progress) {
        String output = outputOf(config);
        TrainingConfig resolved = config.resolve(jsc.defaultParallelism());
        Instant start = Instant.now();
        try (OutputLock lock = lock(output, progress); TrainingMetrics metrics = TrainingMetrics.register()) {
            TrainingResult result = new DistributedTrainer(jsc).train(resolved, metrics.recordingThen(progress));
            RunOutputs outputs = new RunOutputs(output, jsc.hadoopConfiguration());
            outputs.writeModel(resolved, result, Map.of(ModelCard.ENTRY,
                    ModelCard.of(resolved, result, jsc.version(), Instant.now())));
            outputs.writeHistory(result);
            outputs.writeProvenance(resolved, jsc.version(), jsc.master(), start, Instant.now());
            return new Trained(resolved, result, drawReport(output));
        }
    }

    /** Draws report.html and history.png from the files just written, as 'dptrain report' draws them again. */
    private Optional<RuntimeException> drawReport(String output) {
        try {
            TrainingReport.read(output, jsc.hadoopConfiguration()).write(output, jsc.hadoopConfiguration());
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of(e);
        }
    }

    /**
     * A finished cross-validation.
     *
     * @param folds   one result per fold, in fold order
     * @param summary the folds' mean and standard deviation, as cv.json holds them
     */
    public record CrossValidated(List<TrainingResult> folds, RunOutputs.CrossValidation summary) {
    }

    /** K-fold cross-validation as {@code config} says; writes cv.json and provenance.json. */
    public CrossValidated crossValidate(TrainingConfig config, int folds, DistributedTrainer.FoldProgress progress) {
        String output = outputOf(config);
        TrainingConfig resolved = config.resolve(jsc.defaultParallelism());
        Instant start = Instant.now();
        try (OutputLock lock = lock(output, progress); TrainingMetrics metrics = TrainingMetrics.register()) {
            List<TrainingResult> results = new DistributedTrainer(jsc).crossValidate(resolved, folds,
                    metrics.recordingThen(progress));
            RunOutputs outputs = new RunOutputs(output, jsc.hadoopConfiguration());
            RunOutputs.CrossValidation summary = outputs.writeCrossValidation(results);
            outputs.writeProvenance(resolved, jsc.version(), jsc.master(), start, Instant.now());
            return new CrossValidated(results, summary);
        }
    }

    /** One run per output folder: refused while another run holds it (see {@link OutputLock}). */
    private OutputLock lock(String output, TrainingProgress progress) {
        return OutputLock.acquire(output, jsc.hadoopConfiguration(), jsc.sc().applicationId(),
                progress::outputLockTakenOver);
    }

    private static String outputOf(TrainingConfig config) {
        return config.output().orElseThrow(() -> new ParameterException("output", "{output}: not set; expected a "
                + "folder on any Hadoop filesystem for the run's files"));
    }
}
