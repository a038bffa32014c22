package dptrain.replica;

import dptrain.data.Minibatch;
import dptrain.spec.Engine;
import dptrain.spec.ModelSpec;
import dptrain.spec.TargetEncoding;
import dptrain.timing.Seconds;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.layers.BaseOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains one model replica: loads a state snapshot, runs up to K minibatches and returns the state
 * it reached with its statistics. The minibatches run through the spec's engine (see
 * {@link ModelSpec#engine()}): the {@link DenseStackEngine} on the network's own arrays, or DL4J's
 * {@code fit}.
 *
 * <p>One replica network is built per executor thread and reused for the whole job (see
 * {@link ReplicaPool}); each round only overwrites its parameters, optimizer state and counters.
 * Not thread-safe: one round at a time.
 */
public final class ReplicaTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaTrainer.class);

    private final ModelSpec spec;
    private final MultiLayerNetwork net;
    private final CorrectPredictionCounter counter;
    private final Engine engine;
    /** Null when DL4J's fit trains the replica. */
    private final DenseStackEngine denseEngine;
    /** Full-size minibatch arrays, refilled every step instead of allocated (native allocation is not free). */
    private INDArray featureBuffer;
    private INDArray targetBuffer;

    public ReplicaTrainer(ModelSpec spec) {
        this.spec = spec;
        this.net = new MultiLayerNetwork(spec.configuration());
        net.init();
        this.engine = spec.resolvedEngine();
        if (engine == Engine.DENSE) {
            this.counter = null;
            this.denseEngine = new DenseStackEngine(net, spec.targetEncoding());
        } else {
            this.counter = new CorrectPredictionCounter(spec.targetEncoding());
            this.denseEngine = null;
            net.setListeners(counter);
        }
        int oneDnnLayers = OneDnnHelpers.attach(net);
        LOG.info("Replica of {} trains with the {} engine{}{}{}", spec.source(), engine.specName(),
                denseEngine == null ? "" : " (" + denseEngine.optimizerPath() + ")",
                oneDnnLayers == 0 ? "" : ", oneDNN in " + oneDnnLayers + " convolution and pooling layers",
                spec.engine() == Engine.AUTO && engine == Engine.DL4J
                        ? " (the dense-stack engine does not support it: " + spec.denseStackSupport().reason() + ")"
                        : "");
    }

    /** How the dense engine runs the optimizer step, e.g. "fused RmsProp step"; empty for the DL4J engine. */
    String denseOptimizerPath() {
        return denseEngine == null ? "" : denseEngine.optimizerPath();
    }

    /** The engine this replica trains with: {@link Engine#DENSE} or {@link Engine#DL4J}. */
    public Engine engine() {
        return engine;
    }

    public ModelSpec spec() {
        return spec;
    }

    /**
     * Loads {@code start}, trains on up to {@code minibatches} minibatches from {@code batches} and
     * returns the reached state. {@code dropoutSeed} seeds this thread's random generator first, so a
     * round's result depends only on its inputs.
     */
    public ReplicaResult train(TrainingState start, Iterator<Minibatch> batches, int minibatches, long dropoutSeed) {
        long began = System.nanoTime();
        start.loadInto(net);
        Round round = trainFromHeldState(began, batches, minibatches, dropoutSeed);
        if (round.rejection() != null) {
            return ReplicaResult.rejected(round.rejection(), round.stats());
        }
        return new ReplicaResult(round.steps() == 0 ? null : TrainingState.of(net), round.stats());
    }

    /**
     * Reads a round's starting state, as {@link TrainingState#writeTo} wrote it, straight into this
     * replica's network: the streaming form of {@link #train}'s load, for a long-lived task that
     * receives a state every round (no copy of the state on the Java heap).
     */
    public void receiveState(DataInputStream in) throws IOException {
        TrainingState.readInto(in, net);
    }

    /**
     * Trains as {@link #train} does, from the state this replica holds (see {@link #receiveState}),
     * and leaves the reached state in the network: the returned result writes it from there, until
     * this replica's next round.
     */
    public HeldResult trainHeldState(Iterator<Minibatch> batches, int minibatches, long dropoutSeed) {
        Round round = trainFromHeldState(System.nanoTime(), batches, minibatches, dropoutSeed);
        return new HeldResult(net, round.stats(), round.steps() > 0 && round.rejection() == null, round.rejection());
    }

    /** What a round did; the state it reached is in {@link #net}. */
    private record Round(ReplicaStats stats, long steps, String rejection) {
    }

    private Round trainFromHeldState(long began, Iterator<Minibatch> batches, int minibatches, long dropoutSeed) {
        Nd4j.getRandom().setSeed(dropoutSeed);
        long examples = 0;
        long steps = 0;
        double lossSum = 0;
        OutputTally tally = OutputTally.NONE;
        if (denseEngine != null) {
            denseEngine.beginRound();
            try {
                while (steps < minibatches && batches.hasNext()) {
                    Minibatch batch = batches.next();
                    DenseStackEngine.Step step = denseEngine.step(batch);
                    tally = tally.plus(step.tally());
                    examples += batch.rows();
                    steps++;
                    if (!Double.isFinite(step.loss())) {
                        return rejectedAt(began, step.loss(), examples, steps, tally);
                    }
                    lossSum += step.loss() * batch.rows();
                }
            } finally {
                denseEngine.endRound();
            }
            return finish(began, examples, steps, lossSum, tally);
        }
        counter.reset();
        while (steps < minibatches && batches.hasNext()) {
            Minibatch batch = batches.next();
            counter.expect(batch);
            fill(batch);
            if (featureBuffer.rows() == batch.rows()) {
                net.fit(featureBuffer, targetBuffer);
            } else {
                net.fit(batch.featuresArray(), batch.targetsArray());
            }
            double loss = net.score();
            examples += batch.rows();
            steps++;
            if (!Double.isFinite(loss)) {
                return rejectedAt(began, loss, examples, steps, counter.tally());
            }
            lossSum += loss * batch.rows();
        }
        return finish(began, examples, steps, lossSum, counter.tally());
    }

    /**
     * The round's outcome, rejected when a parameter or optimizer value is no longer finite (such a
     * replica must not enter the average).
     */
    private Round finish(long began, long examples, long steps, double lossSum, OutputTally tally) {
        boolean finite = steps == 0 || TrainingState.isFinite(net);
        double seconds = Seconds.since(began);
        ReplicaStats stats = ReplicaStats.ofReplica(examples, steps, lossSum, tally, seconds);
        return new Round(stats, steps, finite ? null
                : "a parameter or optimizer value is not finite after step " + steps + " of the round");
    }

    /** A replica stopped at the step whose loss is not finite: rejected, naming the step. */
    private static Round rejectedAt(long began, double loss, long examples, long steps, OutputTally tally) {
        double seconds = Seconds.since(began);
        return new Round(ReplicaStats.ofReplica(examples, steps, Double.NaN, tally, seconds), steps,
                "the loss is " + loss + " at step " + steps + " of the round");
    }

    /** Copies a minibatch into the reused arrays, sizing them on the first (full) minibatch. */
    private void fill(Minibatch batch) {
        if (featureBuffer == null) {
            featureBuffer = Nd4j.create(DataType.FLOAT, batch.rows(), batch.featureCount());
            targetBuffer = Nd4j.create(DataType.FLOAT, batch.rows(), batch.targetCount());
        }
        if (featureBuffer.rows() == batch.rows()) {
            batch.copyFeaturesInto(featureBuffer);
            batch.copyTargetsInto(targetBuffer);
        }
    }

    /**
     * Loss and metrics (accuracy, or regression errors) of {@code state} on {@code batches}, in inference mode (no
     * dropout); the dense engine does it in one forward pass per minibatch, DL4J in two.
     */
    public ReplicaStats evaluate(TrainingState state, Iterator<Minibatch> batches) {
        long began = System.nanoTime();
        state.loadInto(net);
        long examples = 0;
        double lossSum = 0;
        OutputTally tally = OutputTally.NONE;
        while (denseEngine != null && batches.hasNext()) {
            Minibatch batch = batches.next();
            DenseStackEngine.Step result = denseEngine.evaluate(batch);
            lossSum += result.loss() * batch.rows();
            tally = tally.plus(result.tally());
            examples += batch.rows();
        }
        while (batches.hasNext()) {
            Minibatch batch = batches.next();
            INDArray features = batch.featuresArray();
            INDArray targets = batch.targetsArray();
            lossSum += net.score(new DataSet(features, targets), false) * batch.rows();
            INDArray output = net.output(features, false);
            tally = tally.plus(OutputTally.of(rowMajor(output), (int) output.columns(), batch, spec.targetEncoding()));
            examples += batch.rows();
        }
        return ReplicaStats.ofReplica(examples, 0, lossSum, tally, Seconds.since(began));
    }

    /**
     * The class the model predicts for the row of {@code output} starting at {@code offset}: the arg
     * max of its {@code columns} values (the first on ties), or for a single unit a 0.5 threshold.
     * Accuracy and the test confusion matrix both count with this rule.
     */
    public static int predictedClass(float[] output, int offset, int columns, TargetEncoding encoding) {
        if (encoding == TargetEncoding.SCALAR) {
            // Above 0.5 is class 1, as DL4J's Evaluation and RowPredictions decide.
            return output[offset] > 0.5f ? 1 : 0;
        }
        int predicted = 0;
        for (int c = 1; c < columns; c++) {
            if (output[offset + c] > output[offset + predicted]) {
                predicted = c;
            }
        }
        return predicted;
    }

    /** The values of a 2-d array in row-major order, in one native copy. */
    private static float[] rowMajor(INDArray matrix) {
        INDArray c = matrix.ordering() == 'c' && !matrix.isView() ? matrix : matrix.dup('c');
        return c.data().asFloat();
    }

    /**
     * Scores training-time predictions (correct ones, or regression errors) without a second forward pass: DL4J hands listeners
     * the input of the output layer, computed with the pre-update weights, and the output layer is a
     * small GEMM (512×10 for the book's network) against the whole network's cost.
     */
    private static final class CorrectPredictionCounter extends BaseTrainingListener {
        private final TargetEncoding encoding;
        private Minibatch batch;
        private OutputTally tally = OutputTally.NONE;

        CorrectPredictionCounter(TargetEncoding encoding) {
            this.encoding = encoding;
        }

        void reset() {
            tally = OutputTally.NONE;
        }

        void expect(Minibatch next) {
            batch = next;
        }

        OutputTally tally() {
            return tally;
        }

        @Override
        public void onForwardPass(Model model, List<INDArray> activations) {
            MultiLayerNetwork network = (MultiLayerNetwork) model;
            Layer outputLayer = network.getOutputLayer();
            int outputIndex = network.getnLayers() - 1;
            if (!(outputLayer instanceof BaseOutputLayer<?> layer)) {
                throw new IllegalStateException("accuracy counting supports a dense output layer, found "
                        + outputLayer.getClass().getSimpleName());
            }
            INDArray input = activations.get(activations.size() - 1);
            // Out of DL4J's training workspace: these few small arrays must not be tied to its lifecycle.
            MemoryWorkspace outside = Nd4j.getMemoryManager().scopeOutOfWorkspaces();
            try {
                // E.g. the reshape of a convolution's output (Keras: flatten) straight before the output layer.
                InputPreProcessor preProcessor = network.getLayerWiseConfigurations().getInputPreProcess(outputIndex);
                if (preProcessor != null) {
                    input = preProcessor.preProcess(input.dup(), (int) input.size(0), LayerWorkspaceMgr.noWorkspaces());
                }
                INDArray preOutput = input.mmul(layer.getParam("W"));
                INDArray bias = layer.getParam("b");
                if (bias != null) {
                    preOutput.addiRowVector(bias);
                }
                if (OutputTally.needsActivation(encoding)) {
                    IActivation activation = layer.layerConf().getActivationFn();
                    preOutput = activation.getActivation(preOutput, false);
                }
                tally = tally.plus(OutputTally.of(rowMajor(preOutput), (int) preOutput.columns(), batch, encoding));
            } finally {
                outside.close();
            }
        }
    }
}
