package dptrain.replica;

import dptrain.data.Minibatch;
import dptrain.spec.DenseStackSupport;
import dptrain.spec.TargetEncoding;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * Trains a stack of dense layers (see {@link DenseStackSupport}) with one GEMM per matrix product into preallocated
 * buffers, on a DL4J network's own arrays: the forward pass writes into buffers sized once per minibatch size, the
 * backward pass writes the gradients into the network's flattened gradient view, and either the
 * {@link FusedOptimizerStep} (the common optimizers, in one Java pass) or DL4J's own updater (the network's
 * {@link MultiLayerUpdater}: minibatch division, gradient normalization, regularization, every optimizer and its
 * state layout) and step function turn them into the parameter update. Parameters, optimizer state and counters
 * therefore stay where {@link TrainingState} reads and writes them.
 *
 * <p>What DL4J's {@code fit} does and this does not: compute every layer's forward GEMM a second time in backprop,
 * compute the first layer's input gradient, use {@code mmul} instead of {@code gemm}, open and close workspaces per
 * layer, run listeners and validation. Activations and losses are DL4J's own objects (ReLU's derivative runs in
 * Java with the same arithmetic), so results can differ from DL4J only by float32 summation order in the GEMMs;
 * on the tested networks they were bit-identical. Deterministic: the same state and minibatches give
 * bit-identical results. Not thread-safe.
 */
final class DenseStackEngine {
    /** Working memory for the small arrays DL4J's loss functions allocate, reused every step. */
    private static final WorkspaceConfiguration STEP_WORKSPACE = WorkspaceConfiguration.builder()
            .initialSize(0)
            .policyAllocation(AllocationPolicy.STRICT)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .build();

    private final MultiLayerNetwork net;
    private final MultiLayerUpdater updater;
    private final TargetEncoding encoding;
    private final int layerCount;
    private final int[] sizes;
    private final INDArray[] weights;
    private final INDArray[] biases;
    private final INDArray[] weightGradients;
    private final INDArray[] biasGradients;
    private final IActivation[] activations;
    private final ILossFunction loss;
    private final IActivation outputActivation;
    private final INDArray flatParameters;
    private final INDArray flatGradient;
    private final DefaultGradient gradient;
    private final boolean divideScoreByMinibatch;
    private final boolean hasRegularization;
    private final String workspaceId = "DenseStackEngine-" + System.identityHashCode(this);
    private final Map<Integer, Buffers> buffersByRows = new HashMap<>();
    /** Null when the updater configuration needs DL4J's own updater (see {@link FusedOptimizerStep}). */
    private final FusedOptimizerStep fusedStep;
    /** Per hidden layer: true for plain ReLU, whose derivative runs in Java (ND4J's op takes ~1.5 ms here). */
    private final boolean[] plainRelu;
    private float[] outputRows = new float[0];
    private float[] preActivationValues = new float[0];
    private float[] epsilonValues = new float[0];

    /** Per minibatch size: input, targets, and per layer the pre-activations, activations and epsilons. */
    private static final class Buffers {
        final INDArray features;
        final INDArray targets;
        final INDArray[] preActivations;
        final INDArray[] activations;
        /** Transposed loss gradients with respect to each hidden layer's output ([units, rows], f order). */
        final INDArray[] epsilonsTransposed;

        @SuppressWarnings("try") // the scope is the resource: arrays created inside live outside any workspace
        Buffers(int rows, int[] sizes, int targetColumns) {
            int layers = sizes.length - 1;
            try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                features = Nd4j.create(DataType.FLOAT, new long[] {rows, sizes[0]}, 'c');
                targets = Nd4j.create(DataType.FLOAT, new long[] {rows, targetColumns}, 'c');
                preActivations = new INDArray[layers];
                activations = new INDArray[layers];
                epsilonsTransposed = new INDArray[layers];
                for (int i = 0; i < layers; i++) {
                    // 'f' like DL4J's own pre-output arrays, so the GEMMs run in the same layout.
                    preActivations[i] = Nd4j.create(DataType.FLOAT, new long[] {rows, sizes[i + 1]}, 'f');
                    if (i < layers - 1) {
                        activations[i] = Nd4j.create(DataType.FLOAT, new long[] {rows, sizes[i + 1]}, 'f');
                        epsilonsTransposed[i] = Nd4j.create(DataType.FLOAT, new long[] {sizes[i + 1], rows}, 'f');
                    }
                }
            }
        }
    }

    /** The result of one step: the loss DL4J's {@code score()} reports and what the outputs scored. */
    record Step(double loss, OutputTally tally) {
    }

    /**
     * An engine training {@code net} in place. {@code net} must be initialized and its configuration supported
     * (see {@link DenseStackSupport}).
     */
    DenseStackEngine(MultiLayerNetwork net, TargetEncoding encoding) {
        DenseStackSupport support = DenseStackSupport.of(net.getLayerWiseConfigurations());
        if (!support.supported()) {
            throw new IllegalArgumentException("the dense-stack engine cannot train this network: " + support.reason());
        }
        this.net = net;
        this.encoding = encoding;
        this.updater = (MultiLayerUpdater) net.getUpdater(true);
        this.flatParameters = net.params();
        this.flatGradient = updater.getFlattenedGradientsView();
        this.gradient = new DefaultGradient(flatGradient);
        this.layerCount = net.getnLayers();
        this.sizes = new int[layerCount + 1];
        this.weights = new INDArray[layerCount];
        this.biases = new INDArray[layerCount];
        this.weightGradients = new INDArray[layerCount];
        this.biasGradients = new INDArray[layerCount];
        this.activations = new IActivation[layerCount];
        boolean regularized = false;
        for (int i = 0; i < layerCount; i++) {
            Layer layer = net.getLayer(i);
            NeuralNetConfiguration conf = layer.conf();
            BaseLayer layerConf = (BaseLayer) conf.getLayer();
            weights[i] = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
            biases[i] = layer.getParam(DefaultParamInitializer.BIAS_KEY);
            Map<String, INDArray> views = layerConf.initializer().getGradientsFromFlattened(conf, layer.getGradientsViewArray());
            weightGradients[i] = views.get(DefaultParamInitializer.WEIGHT_KEY);
            biasGradients[i] = views.get(DefaultParamInitializer.BIAS_KEY);
            gradient.setGradientFor(i + "_" + DefaultParamInitializer.WEIGHT_KEY, weightGradients[i]);
            gradient.setGradientFor(i + "_" + DefaultParamInitializer.BIAS_KEY, biasGradients[i]);
            activations[i] = layerConf.getActivationFn();
            sizes[i] = weights[i].rows();
            sizes[i + 1] = weights[i].columns();
            regularized |= (layerConf.getRegularization() != null && !layerConf.getRegularization().isEmpty())
                    || (layerConf.getRegularizationBias() != null && !layerConf.getRegularizationBias().isEmpty());
        }
        OutputLayer outputConf = (OutputLayer) net.getLayer(layerCount - 1).conf().getLayer();
        this.loss = outputConf.getLossFn();
        this.outputActivation = outputConf.getActivationFn();
        this.divideScoreByMinibatch = net.conf().isMiniBatch();
        this.hasRegularization = regularized;
        this.fusedStep = FusedOptimizerStep.forNetwork(net, flatGradient).orElse(null);
        this.plainRelu = new boolean[layerCount];
        for (int i = 0; i < layerCount - 1; i++) {
            plainRelu[i] = activations[i] instanceof ActivationReLU relu && relu.getMax() == null
                    && relu.getThreshold() == null && relu.getNegativeSlope() == null;
        }
    }

    /** How the optimizer step runs, for log lines. */
    String optimizerPath() {
        return fusedStep == null ? "DL4J's updater" : "fused " + fusedStep.optimizerName() + " step";
    }

    /** Call after loading a state into the network and before the round's first {@link #step}. */
    void beginRound() {
        if (fusedStep != null) {
            fusedStep.load();
        }
    }

    /** Call after the round's last {@link #step}, before reading the network's state. */
    void endRound() {
        if (fusedStep != null) {
            fusedStep.store();
        }
    }

    /** The reused arrays for minibatches of {@code batch}'s size, holding its features and targets. */
    private Buffers buffersFilledWith(Minibatch batch) {
        Buffers buffers = buffersByRows.computeIfAbsent(batch.rows(),
                rows -> new Buffers(rows, sizes, batch.targetCount()));
        batch.copyFeaturesInto(buffers.features);
        batch.copyTargetsInto(buffers.targets);
        return buffers;
    }

    /**
     * One optimizer step on {@code batch}, as {@code net.fit(features, targets)} does it: gradients at the current
     * parameters, DL4J's updater at the network's iteration and epoch counts, parameters minus update, iteration
     * count plus one. Returns the loss before the update (DL4J's {@code score()}) and the correct predictions of
     * the pre-update parameters.
     */
    @SuppressWarnings("try") // the workspace scope is the resource: small loss arrays are recycled inside it
    Step step(Minibatch batch) {
        Buffers buffers = buffersFilledWith(batch);
        double score;
        OutputTally tally;
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().getAndActivateWorkspace(STEP_WORKSPACE, workspaceId)) {
            INDArray outputPreActivation = forward(buffers);
            tally = tally(outputPreActivation, batch);
            Pair<Double, INDArray> scoreAndDelta =
                    loss.computeGradientAndScore(buffers.targets, outputPreActivation, outputActivation, null, false);
            backward(buffers, scoreAndDelta.getSecond());
            score = scoreAndDelta.getFirst();
            if (divideScoreByMinibatch) {
                score /= batch.rows();
            }
            if (hasRegularization) {
                score += net.calcRegularizationScore(true);
            }
        }
        int iteration = net.getIterationCount();
        if (fusedStep != null) {
            fusedStep.step(batch.rows(), iteration, net.getEpochCount());
        } else {
            updater.update(gradient, iteration, net.getEpochCount(), batch.rows(), LayerWorkspaceMgr.noWorkspaces());
            // DL4J's NegativeDefaultStepFunction: parameters -= update.
            Nd4j.getBlasWrapper().level1().axpy(flatParameters.length(), -1.0, flatGradient, flatParameters);
        }
        net.setIterationCount(iteration + 1);
        return new Step(score, tally);
    }

    /**
     * Loss and output scores of the network's current parameters on {@code batch}, without training: what
     * DL4J's {@code score(DataSet, false)} and {@code output(features, false)} give, from one forward pass.
     */
    @SuppressWarnings("try") // the workspace scope is the resource: small loss arrays are recycled inside it
    Step evaluate(Minibatch batch) {
        Buffers buffers = buffersFilledWith(batch);
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().getAndActivateWorkspace(STEP_WORKSPACE, workspaceId)) {
            INDArray outputPreActivation = forward(buffers);
            OutputTally tally = tally(outputPreActivation, batch);
            double score = loss.computeScore(buffers.targets, outputPreActivation, outputActivation, null, false);
            if (divideScoreByMinibatch) {
                score /= batch.rows();
            }
            if (hasRegularization) {
                score += net.calcRegularizationScore(true);
            }
            return new Step(score, tally);
        }
    }

    /** Fills the pre-activations and activations of every layer; returns the output layer's pre-activations. */
    private INDArray forward(Buffers buffers) {
        INDArray input = buffers.features;
        for (int i = 0; i < layerCount; i++) {
            INDArray z = buffers.preActivations[i];
            Nd4j.gemm(input, weights[i], z, false, false, 1.0, 0.0);
            z.addiRowVector(biases[i]);
            if (i < layerCount - 1) {
                INDArray a = buffers.activations[i].assign(z);
                activations[i].getActivation(a, true);
                input = a;
            }
        }
        return buffers.preActivations[layerCount - 1];
    }

    /** Writes every layer's weight and bias gradients into the flattened gradient view, from the output down. */
    private void backward(Buffers buffers, INDArray outputDelta) {
        INDArray delta = outputDelta;
        for (int i = layerCount - 1; i >= 0; i--) {
            INDArray input = i == 0 ? buffers.features : buffers.activations[i - 1];
            Nd4j.gemm(input, delta, weightGradients[i], true, false, 1.0, 0.0);
            delta.sum(biasGradients[i], 0);
            if (i > 0) {
                // epsilon = delta · Wᵀ, computed as (W · deltaᵀ)ᵀ like DL4J's dense layers.
                INDArray epsilonTransposed = buffers.epsilonsTransposed[i - 1];
                Nd4j.gemm(weights[i], delta, epsilonTransposed, false, true, 1.0, 0.0);
                INDArray preActivation = buffers.preActivations[i - 1];
                if (plainRelu[i - 1]) {
                    delta = reluBackprop(preActivation, epsilonTransposed);
                } else {
                    delta = activations[i - 1].backprop(preActivation, epsilonTransposed.transpose()).getFirst();
                }
            }
        }
    }

    /**
     * ReLU's derivative times epsilon, in place in {@code preActivation} (rows × units, f order), from
     * {@code epsilonTransposed} (units × rows, f order): epsilon where the pre-activation is above 0, else 0, as
     * ND4J's relu derivative op computes it.
     */
    private INDArray reluBackprop(INDArray preActivation, INDArray epsilonTransposed) {
        int rows = preActivation.rows();
        int units = preActivation.columns();
        int n = rows * units;
        if (preActivationValues.length < n) {
            preActivationValues = new float[n];
            epsilonValues = new float[n];
        }
        float[] z = preActivationValues;
        float[] e = epsilonValues;
        contiguous(preActivation).get(z, 0, n);
        contiguous(epsilonTransposed).get(e, 0, n);
        for (int u = 0; u < units; u++) {
            int column = u * rows;
            for (int r = 0; r < rows; r++) {
                int at = column + r;
                z[at] = z[at] > 0 ? e[r * units + u] : 0f;
            }
        }
        contiguous(preActivation).put(z, 0, n);
        return preActivation;
    }

    private static FloatBuffer contiguous(INDArray array) {
        FloatBuffer buffer = array.data().asNioFloat();
        buffer.position((int) array.offset());
        return buffer;
    }

    /** What the output layer's pre-activations score, as {@link ReplicaTrainer} scores them. */
    private OutputTally tally(INDArray outputPreActivation, Minibatch batch) {
        INDArray output = outputPreActivation;
        if (OutputTally.needsActivation(encoding)) {
            output = outputActivation.getActivation(output.dup(), false);
        }
        int rows = batch.rows();
        int columns = output.columns();
        if (outputRows.length < rows * columns) {
            outputRows = new float[rows * columns];
        }
        INDArray rowMajor = output.ordering() == 'c' && !output.isView() ? output : output.dup('c');
        contiguous(rowMajor).get(outputRows, 0, rows * columns);
        return OutputTally.of(outputRows, columns, batch, encoding);
    }
}
