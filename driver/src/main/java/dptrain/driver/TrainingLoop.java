package dptrain.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.driver.checkpoint.Checkpoint;
import dptrain.driver.checkpoint.CheckpointStore;
import dptrain.driver.checkpoint.Checkpointing;
import dptrain.driver.files.InputException;
import dptrain.driver.inference.ModelOnPartitions;
import dptrain.driver.pipeline.BatchedData;
import dptrain.driver.pipeline.CachePlacement;
import dptrain.driver.pipeline.DataPipeline;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.LearnedState;
import dptrain.driver.rounds.RoundExchangeSettings;
import dptrain.driver.rounds.RoundRecord;
import dptrain.driver.rounds.RoundTransport;
import dptrain.replica.ReplicaPool;
import dptrain.replica.ReplicaStats;
import dptrain.replica.TrainingState;
import dptrain.spec.ModelSpec;
import dptrain.timing.Seconds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * One training run's epochs: synchronous parameter averaging over prepared data, with
 * checkpoints, resume, the divergence guard and early stopping.
 *
 * <p>Each round sends one state snapshot to the replicas (see {@link RoundTransport}); every
 * partition's replica trains on its next K minibatches from it; the results are averaged in
 * partition order into the next snapshot. Where
 * the run is (epochs done, minibatches done in the current epoch) and the snapshot determine all
 * that follows, so a checkpoint of the two continues the run exactly.
 */
final class TrainingLoop {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JavaSparkContext jsc;
    private final TrainingConfig config;
    private final BatchedData training;
    private final BatchedData validation;
    private final float[][] normalizerStats;
    private final Broadcast<ModelSpec> spec;
    private final String jobId;
    private final TrainingProgress progress;
    private final CheckpointStore store;
    private final int stepsPerEpoch;
    private final int minibatchesPerRound;
    private final int roundsPerEpoch;

    // Where the run is; exactly what a checkpoint holds. The learned state (and block momentum's
    // filter) may be held by the replicas until asked for (see LearnedState).
    private LearnedState learned;
    /** Examples per minibatch per replica, as the pipeline batched them. */
    private final int workerMinibatch;
    private int epochsDone;
    private int batchesDone;
    private Checkpoint.EpochSoFar soFar = Checkpoint.EpochSoFar.NONE;
    private final List<EpochRecord> history = new ArrayList<>();
    private final List<RoundRecord> rounds = new ArrayList<>();
    private Checkpoint.Best best;
    /** How rounds reach the replicas; open while {@link #run} runs. */
    private RoundTransport transport;
    /** How the last epoch's rounds travelled, as the console last said it. */
    private String roundsTravel;
    private Path lastCheckpoint;
    private int lastCheckpointEpochs = -1;
    private int lastCheckpointBatches = -1;

    TrainingLoop(JavaSparkContext jsc, TrainingConfig config, DataPipeline.Split split, int workerMinibatch,
            Broadcast<ModelSpec> spec, String jobId, TrainingProgress progress) {
        this.jsc = jsc;
        this.workerMinibatch = workerMinibatch;
        this.config = config;
        this.training = split.training();
        this.validation = split.validation();
        this.normalizerStats = split.normalizer() == null ? null : split.normalizer().statistics();
        this.spec = spec;
        this.jobId = jobId;
        this.progress = progress;
        Checkpointing checkpointing = config.checkpointing();
        this.store = checkpointing.enabled() ? new CheckpointStore(checkpointing.folder(), jsc.hadoopConfiguration())
                : null;
        this.stepsPerEpoch = training.maxBatches();
        this.minibatchesPerRound = config.minibatchesPerRound(stepsPerEpoch);
        this.roundsPerEpoch = (stepsPerEpoch + minibatchesPerRound - 1) / minibatchesPerRound;
    }

    /** What the epochs produced; the final state is the best epoch's under --restore-best. */
    record Outcome(TrainingState finalState, List<EpochRecord> history, List<RoundRecord> rounds) {
    }

    Outcome run() {
        startOrResume();
        progress.started(training.examples(), validation == null ? 0 : validation.examples(), stepsPerEpoch,
                roundsPerEpoch, workerMinibatch);
        try (RoundTransport opened = RoundExchangeSettings.open(jsc, training.batches(), spec, jobId,
                config.workers(), roundsPerEpoch, config.epochs(), config.blockMomentum(), config.deltaPrecision(),
                config.optimizerState())) {
            transport = opened;
            roundsTravel = opened.describe();
            progress.roundTransport(roundsTravel);
            runEpochs();
        } finally {
            transport = null;
        }
        TrainingState last = model();
        if (config.earlyStopping().restoreBest() && best != null) {
            last = best.state();
        }
        return new Outcome(last, List.copyOf(history), List.copyOf(rounds));
    }

    private void runEpochs() {
        boolean stop = stoppedEarly();
        while (!stop && epochsDone < config.epochs()) {
            int epoch = epochsDone + 1;
            long began = System.nanoTime() - Seconds.toNanos(soFar.seconds());
            String travel = transport.beginEpoch(epoch);
            if (!travel.equals(roundsTravel)) {
                roundsTravel = travel;
                progress.roundTransportChanged(epoch, travel);
            }
            CachePlacement.spread(jsc, training, "training").ifPresent(notice -> progress.cacheRespread(epoch, notice));
            while (batchesDone < stepsPerEpoch) {
                runRound(epoch, began);
                if (config.checkpointing().everyRounds() > 0 && batchesDone < stepsPerEpoch
                        && roundIndex(batchesDone) % config.checkpointing().everyRounds() == 0) {
                    checkpoint();
                }
            }
            // In the driver's hands before the epoch's tasks end: validation and the checkpoint need it.
            TrainingState reached = learned.state();
            learned = LearnedState.here(reached.withCounters(reached.iteration(), epoch), learned.filter());
            transport.endEpoch();
            ReplicaStats val = null;
            if (validation != null) {
                jsc.setJobGroup("dptrain-epoch-" + epoch, String.format("dptrain epoch %d/%d validation",
                        epoch, config.epochs()), false);
                CachePlacement.spread(jsc, validation, "validation")
                        .ifPresent(notice -> progress.cacheRespread(epoch, notice));
                val = evaluate(jsc, validation, spec, model(), jobId);
            }
            ReplicaStats stats = soFar.stats();
            List<String> metrics = spec.value().reportedMetrics();
            EpochRecord record = new EpochRecord(epoch, stats.meanLoss(), stats.metrics(metrics),
                    val == null ? Double.NaN : val.meanLoss(), val == null ? Map.of() : val.metrics(metrics),
                    Seconds.since(began), stats.examples(), roundsPerEpoch, stepsPerEpoch, stats.steps(),
                    soFar.slowestReplicaSeconds());
            if (!Double.isFinite(record.loss())) {
                throw diverged(String.format("the loss of epoch %d is %s", epoch, record.loss()));
            }
            history.add(record);
            epochsDone = epoch;
            batchesDone = 0;
            soFar = Checkpoint.EpochSoFar.NONE;
            if (config.earlyStopping().enabled() && val != null
                    && (best == null || val.meanLoss() < best.valLoss())) {
                best = new Checkpoint.Best(epoch, val.meanLoss(), model());
            }
            checkpoint();
            progress.epochEnded(record);
            stop = stoppedEarly();
        }
    }

    /**
     * The model the run has learned so far: the current state, except under Nesterov block
     * momentum, where rounds start from a look-ahead point and the model is the filter's global one.
     */
    private TrainingState model() {
        BlockMomentum.Filter filter = learned.filter();
        if (filter == null || !config.blockMomentum().nesterov()) {
            return learned.state();
        }
        return learned.state().withParameters(filter.global().clone());
    }

    /** True when early stopping's patience has run out; tells progress the first time. */
    private boolean stoppedEarly() {
        if (!config.earlyStopping().enabled() || best == null) {
            return false;
        }
        int waited = epochsDone - best.epoch();
        if (waited >= config.earlyStopping().patience()) {
            progress.earlyStopped(epochsDone, best.epoch(), best.valLoss(), config.earlyStopping().restoreBest());
            return true;
        }
        return false;
    }

    /** 1-based round of the epoch that ends at minibatch {@code batchesEnd} of every replica. */
    private int roundIndex(int batchesEnd) {
        return (batchesEnd + minibatchesPerRound - 1) / minibatchesPerRound;
    }

    /**
     * True for the round from minibatch {@code firstBatch} when it must leave every replica with one
     * state and nothing held back (16-bit deltas' residuals): the epoch's last round, or one a
     * checkpoint follows, so that checkpoints, --resume and a restarted stage never need a residual.
     */
    private boolean exactRound(int firstBatch) {
        int end = Math.min(stepsPerEpoch, firstBatch + minibatchesPerRound);
        return end >= stepsPerEpoch || (config.checkpointing().everyRounds() > 0
                && roundIndex(end) % config.checkpointing().everyRounds() == 0);
    }

    private void runRound(int epoch, long epochBegan) {
        int firstBatch = batchesDone;
        int round = firstBatch / minibatchesPerRound + 1;
        jsc.setJobGroup("dptrain-epoch-" + epoch, String.format("dptrain epoch %d/%d round %d/%d",
                epoch, config.epochs(), round, roundsPerEpoch), false);
        long roundBegan = System.nanoTime();
        RoundTransport.Round trained = transport.train(learned, epoch, round, firstBatch, minibatchesPerRound,
                roundSeed(config.seed(), epoch, firstBatch), exactRound(firstBatch));
        long trainedAt = System.nanoTime();
        if (trained.contributions() != config.workers()) {
            throw new IllegalStateException("round " + round + " of epoch " + epoch + " combined "
                    + trained.contributions() + " replica results; expected one per worker (" + config.workers() + ")");
        }
        ReplicaStats stats = trained.stats();
        if (!trained.rejections().isEmpty()) {
            progress.replicasRejected(epoch, round, trained.rejections());
        }
        if (trained.contributed()) {
            if (!trained.finite()) {
                throw diverged(String.format("the averaged model of epoch %d, round %d has non-finite values", epoch,
                        round));
            }
            if (!Double.isFinite(stats.lossSum())) {
                throw diverged(String.format("the loss of epoch %d, round %d is not finite", epoch, round));
            }
        } else if (!trained.rejections().isEmpty()) {
            throw diverged(String.format("every replica of epoch %d, round %d was rejected (%s)", epoch, round,
                    String.join("; ", trained.rejections())));
        }
        long roundEnded = System.nanoTime();
        // Only a finished, checked round moves the run on.
        learned = trained.next();
        batchesDone = Math.min(stepsPerEpoch, firstBatch + minibatchesPerRound);
        soFar = new Checkpoint.EpochSoFar(soFar.stats().plus(stats),
                soFar.slowestReplicaSeconds() + stats.maxComputeSeconds(), Seconds.between(epochBegan, roundEnded));
        RoundRecord record = new RoundRecord(epoch, config.epochs(), round, roundsPerEpoch, stats.examples(),
                stats.meanLoss(), trained.sendSeconds(), stats.maxComputeSeconds(), trained.combineSeconds(),
                trained.waitSeconds(), Seconds.between(trainedAt, roundEnded), Seconds.between(roundBegan, roundEnded),
                trained.rejections().size());
        rounds.add(record);
        if (trained.traffic() != null) {
            progress.roundTraffic(epoch, round, trained.traffic());
        }
        progress.roundEnded(record);
    }

    /**
     * Divergence: the run keeps its last good state, checkpoints it when checkpoints are on (so the
     * user can resume from it with a lower learning rate), and stops with what to try.
     */
    private TrainingFailedException diverged(String what) {
        String where;
        if (store != null) {
            if (lastCheckpointEpochs != epochsDone || lastCheckpointBatches != batchesDone) {
                checkpoint();
            }
            where = String.format("; rolled back to the last good state (epoch %d done, %d minibatches into the next), "
                    + "saved as checkpoint %s: resume from it with --resume after changing the cause", epochsDone,
                    batchesDone, lastCheckpoint);
        } else {
            where = "; no checkpoint was written (checkpoints are off)";
        }
        return new TrainingFailedException("training diverged: " + what + where + ". Likely causes: a learning rate "
                + "too high for this data (lower the optimizer's learning_rate), or unscaled inputs (use --scale, or "
                + "normalization: standardize)");
    }

    private void checkpoint() {
        if (store == null) {
            return;
        }
        Checkpoint checkpoint = new Checkpoint(epochsDone, batchesDone, learned.state(), soFar, List.copyOf(history),
                List.copyOf(rounds), best, learned.filter(), config.resumeSettings(), normalizerStats, training.examples(),
                validation == null ? 0 : validation.examples());
        lastCheckpoint = store.write(checkpoint, config.checkpointing().keep());
        lastCheckpointEpochs = epochsDone;
        lastCheckpointBatches = batchesDone;
        progress.checkpointWritten(lastCheckpoint.toString(), epochsDone, batchesDone);
    }

    private void startOrResume() {
        MultiLayerNetwork initial = new MultiLayerNetwork(config.spec().configuration());
        initial.init();
        config.initialWeights().ifPresent(weights -> weights.applyTo(initial));
        TrainingState fresh = TrainingState.of(initial);
        learned = LearnedState.here(fresh, config.blockMomentum().enabled()
                ? BlockMomentum.Filter.start(fresh.copyParameters()) : null);
        if (store == null) {
            return;
        }
        Checkpointing.Resume resume = config.checkpointing().resume();
        if (resume == Checkpointing.Resume.FRESH) {
            store.deleteAll();
            return;
        }
        store.leftovers().forEach(progress::checkpointRejected);
        Optional<CheckpointStore.Found> newest = store.newestValid(progress::checkpointRejected);
        if (newest.isEmpty()) {
            if (resume == Checkpointing.Resume.REQUIRED) {
                throw new InputException("--resume: " + store.folder() + " holds no valid checkpoint"
                        + (store.any() ? " (each one was rejected, see above)" : "") + "; run without --resume to "
                        + "start afresh");
            }
            return;
        }
        CheckpointStore.Found found = newest.get();
        Checkpoint c = found.checkpoint();
        checkResumable(c, found.manifest(), fresh);
        epochsDone = c.epochsDone();
        batchesDone = c.batchesDone();
        soFar = c.soFar();
        history.addAll(c.history());
        rounds.addAll(c.rounds());
        best = c.best();
        if (config.blockMomentum().enabled() && c.blockFilter() == null) {
            throw new IllegalStateException("checkpoint " + found.manifest() + " has no block momentum state");
        }
        learned = LearnedState.here(c.state(), config.blockMomentum().enabled() ? c.blockFilter() : null);
        lastCheckpoint = found.manifest();
        lastCheckpointEpochs = epochsDone;
        lastCheckpointBatches = batchesDone;
        progress.resumed(found.manifest().toString(), epochsDone, batchesDone, stepsPerEpoch, c.state().iteration());
    }

    /** Refuses a checkpoint written by a run this one cannot continue, naming what differs. */
    private void checkResumable(Checkpoint c, Path manifest, TrainingState fresh) {
        String from = "--resume: checkpoint " + manifest + " ";
        JsonNode theirs = asReadBack(c.settings());
        JsonNode ours = asReadBack(config.resumeSettings());
        if (!theirs.equals(ours)) {
            List<String> differences = new ArrayList<>();
            ours.fieldNames().forEachRemaining(key -> {
                if (!ours.get(key).equals(theirs.get(key))) {
                    differences.add(key + " " + theirs.get(key) + " -> " + ours.get(key));
                }
            });
            throw new InputException(from + "was written by a run with other settings (" + String.join(", ", differences)
                    + "); rerun with the checkpoint's settings, or pass --overwrite to start afresh");
        }
        if (c.state().parameterCount() != fresh.parameterCount()
                || c.state().optimizerStateCount() != fresh.optimizerStateCount()) {
            throw new InputException(from + "holds " + c.state().parameterCount() + " parameters and "
                    + c.state().optimizerStateCount() + " optimizer values, but this model has "
                    + fresh.parameterCount() + " and " + fresh.optimizerStateCount()
                    + " (a different optimizer kind?); rerun with the checkpoint's model, or pass --overwrite");
        }
        boolean sameNormalizer = c.normalizer() == null ? normalizerStats == null
                : normalizerStats != null && Arrays.deepEquals(c.normalizer(), normalizerStats);
        if (!sameNormalizer || c.trainingExamples() != training.examples()
                || c.validationExamples() != (validation == null ? 0 : validation.examples())) {
            throw new InputException(from + "was written for other training data: it had " + c.trainingExamples()
                    + " training and " + c.validationExamples() + " validation examples"
                    + (sameNormalizer ? "" : " and other normalization statistics") + "; this run has "
                    + training.examples() + " and " + (validation == null ? 0 : validation.examples())
                    + ". Resume with the same data, or pass --overwrite to start afresh");
        }
        if (c.batchesDone() > stepsPerEpoch) {
            throw new InputException(from + "is " + c.batchesDone() + " minibatches into an epoch of only "
                    + stepsPerEpoch + "; resume with its --batch-size");
        }
    }

    /** {@code settings} as JSON read back from text, so numbers compare by value, not by Java type. */
    private static JsonNode asReadBack(Object settings) {
        try {
            return JSON.readTree(JSON.writeValueAsBytes(settings));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("settings cannot be written as JSON", e);
        }
    }

    /** Loss and accuracy of {@code state} over {@code data}, computed where the data lives. */
    static ReplicaStats evaluate(JavaSparkContext jsc, BatchedData data, Broadcast<ModelSpec> spec, TrainingState state,
            String jobId) {
        // The executors' pooled replicas evaluate, with the engine that trained.
        try (ModelOnPartitions<TrainingState> model = ModelOnPartitions.broadcast(jsc, state)) {
            return model.combine(data.batches(), (snapshot, batches) -> ReplicaPool.withReplica(jobId, spec.value(),
                    replica -> replica.evaluate(snapshot, batches)), ReplicaStats.NONE, ReplicaStats::plus);
        }
    }

    /**
     * A seed for the round that starts at minibatch {@code firstBatch} of epoch {@code epoch}, so
     * dropout depends on the run's seed and the position in the run alone.
     */
    static long roundSeed(long seed, int epoch, int firstBatch) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + firstBatch * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
