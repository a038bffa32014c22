package dptrain.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.data.Example;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.data.SeededPermutation;
import dptrain.driver.input.DataInput;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.replica.OneDnnHelpers;
import dptrain.spec.Engine;
import dptrain.spec.ModelSpec;
import dptrain.testing.FashionMnist;
import dptrain.testing.LocalSpark;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * dptrain against single-process DL4J on the same data, after DL4J's own
 * TestCompareParameterAveragingSparkVsSingleMachine: one worker must reproduce single-machine
 * training, and averaging every step with plain SGD over N equal partitions must equal one
 * machine at N times the batch size.
 */
class SingleMachineEquivalenceTest {
    private static final int EXAMPLES = 1024;
    private static final long SEED = 7;

    private static JavaSparkContext jsc;
    @TempDir
    static Path dir;
    private static Path images;

    @BeforeAll
    static void start() throws IOException {
        images = FashionMnist.writeSlice(dir, "train", "slice", 0, EXAMPLES);
        jsc = LocalSpark.start(2);
    }

    @AfterAll
    static void stop() {
        jsc.close();
    }

    @Test
    void oneWorkerWithTheDl4jEngineGivesExactlyTheParametersOfSingleMachineTraining() throws IOException {
        OneWorkerRun run = oneWorkerAndSingleMachine(Engine.DL4J);
        // Same seed, same minibatches, same DL4J code path: bit-identical, well inside the 1e-5 the design asks.
        assertArrayEquals(run.expectedParameters, run.result.finalState().copyParameters(), "parameters");
        assertArrayEquals(run.expectedOptimizerState, run.result.finalState().copyOptimizerState(), "RMSprop state");
        assertEquals(2 * (EXAMPLES / 32), run.result.finalState().iteration());
        assertEquals(EXAMPLES / 32, run.result.epochs().get(0).stepsPerReplica(), "steps per epoch, as Keras counts them");
    }

    @Test
    void oneWorkerWithTheDenseEngineMatchesSingleMachineTrainingAndTheDl4jEngine() throws IOException {
        OneWorkerRun run = oneWorkerAndSingleMachine(Engine.DENSE);
        // The dense engine differs from DL4J only in GEMM summation order; 1e-5 relative per value.
        double parameters = maxRelativeDifference(run.result.finalState().copyParameters(), run.expectedParameters);
        double state = maxRelativeDifference(run.result.finalState().copyOptimizerState(), run.expectedOptimizerState);
        assertTrue(parameters <= 1e-5, "largest relative parameter difference " + parameters);
        assertTrue(state <= 1e-5, "largest relative RMSprop state difference " + state);
        assertEquals(2 * (EXAMPLES / 32), run.result.finalState().iteration());
        TrainingResult dl4j = oneWorkerAndSingleMachine(Engine.DL4J).result;
        for (int e = 0; e < 2; e++) {
            EpochRecord expected = dl4j.epochs().get(e);
            EpochRecord actual = run.result.epochs().get(e);
            assertEquals(expected.loss(), actual.loss(), 1e-6, "epoch " + (e + 1) + " loss");
            assertEquals(expected.accuracy(), actual.accuracy(), 1e-9, "epoch " + (e + 1) + " accuracy");
        }
    }

    /** dptrain with one worker and {@code engine}, and single-machine DL4J, on the book network, 2 epochs of 32. */
    private static OneWorkerRun oneWorkerAndSingleMachine(Engine engine) throws IOException {
        ModelSpec spec = ModelSpec.read(Path.of("../src/examples/mnist-mlp.yaml")).withEngine(engine);
        int batch = 32;
        int epochs = 2;
        TrainingResult result = new DistributedTrainer(jsc).train(config(spec, epochs, batch, 1, AveragingSchedule.EVERY_EPOCH),
                new TrainingProgress() { });

        MultiLayerNetwork single = trainSingleProcess(spec, batch, epochs);
        return new OneWorkerRun(result, single.params().toFloatVector(),
                single.getUpdater().getStateViewArray().toFloatVector());
    }

    private record OneWorkerRun(TrainingResult result, float[] expectedParameters, float[] expectedOptimizerState) {
    }

    private static double maxRelativeDifference(float[] actual, float[] expected) {
        assertEquals(expected.length, actual.length, "value count");
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs((double) actual[i] - expected[i]) / Math.max(1.0, Math.abs(expected[i])));
        }
        return worst;
    }

    /** Learning-rate schedules read DL4J's iteration and epoch counters, which travel in the state snapshot. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {
        "{rmsprop: {learning_rate: {exponential_decay: {initial_learning_rate: 0.002, decay_steps: 10, decay_rate: 0.5}}}}",
        "{sgd: {learning_rate: {step_decay: {initial_learning_rate: 0.1, decay_rate: 0.1, every_epochs: 1}}}}"})
    void oneWorkerFollowsALearningRateScheduleExactlyAsSingleMachineTraining(String optimizer) throws IOException {
        ModelSpec spec = ModelSpec.parse(Files.readString(Path.of("../src/examples/mnist-mlp.yaml"))
                .replace("{rmsprop: {learning_rate: 0.001}}", optimizer), "schedule.yaml").withEngine(Engine.DL4J);
        int batch = 64;
        int epochs = 2;
        // The listener a library user implements: called after every round and every epoch.
        List<String> calls = new java.util.ArrayList<>();
        TrainingResult result = new DistributedTrainer(jsc).train(config(spec, epochs, batch, 1, AveragingSchedule.everyMinibatches(4)),
                new TrainingProgress() {
                    @Override
                    public void roundEnded(RoundRecord round) {
                        calls.add("round " + round.epoch() + "." + round.round() + "/" + round.rounds());
                    }

                    @Override
                    public void epochEnded(EpochRecord epoch) {
                        calls.add("epoch " + epoch.epoch());
                    }
                });
        assertEquals(List.of("round 1.1/4", "round 1.2/4", "round 1.3/4", "round 1.4/4", "epoch 1",
                "round 2.1/4", "round 2.2/4", "round 2.3/4", "round 2.4/4", "epoch 2"), calls);
        MultiLayerNetwork single = trainSingleProcess(spec, batch, epochs);
        assertArrayEquals(single.params().toFloatVector(), result.finalState().copyParameters(), "parameters");
    }

    /**
     * A convnet replica is DL4J's fit on the same minibatches: batch normalization's running statistics, which DL4J
     * keeps as parameters, travel in the state snapshot between the epochs' rounds like the weights.
     */
    @Test
    void oneWorkerConvnetGivesExactlyTheParametersOfSingleMachineTraining() throws IOException {
        ModelSpec spec = ModelSpec.parse(String.join("\n",
                "input_shape: [28, 28, 1]",
                "layers:",
                "  - conv2d: {filters: 4, kernel_size: 3, activation: relu}",
                "  - max_pooling2d: {pool_size: 2}",
                "  - batch_normalization:",
                "  - flatten:",
                "  - dense: {units: 10, activation: softmax}",
                "loss: categorical_crossentropy",
                "seed: 9"), "convnet.yaml");
        assertEquals(Engine.DL4J, spec.resolvedEngine());
        int batch = 32;
        TrainingResult result = new DistributedTrainer(jsc).train(config(spec, 2, batch, 1,
                AveragingSchedule.EVERY_EPOCH), new TrainingProgress() { });
        MultiLayerNetwork single = trainSingleProcess(spec, batch, 2);
        assertArrayEquals(single.params().toFloatVector(), result.finalState().copyParameters(), "parameters");
        assertArrayEquals(single.getUpdater().getStateViewArray().toFloatVector(),
                result.finalState().copyOptimizerState(), "RMSprop state");
        assertTrue(relativeDifference(initialParameters(spec), single.params().toFloatVector()) > 1e-3,
                "training must have moved the parameters");
    }

    /** A regression replica trains exactly as single-process DL4J does, mae measured on the way. */
    @Test
    void oneWorkerRegressionGivesExactlyTheParametersOfSingleMachineTraining() throws IOException {
        ModelSpec spec = ModelSpec.parse("input_shape: [784]\nlayers:\n  - dense: {units: 32, activation: relu}\n"
                + "  - dense: {units: 1}\noptimizer: {rmsprop: {learning_rate: 0.001}}\nloss: mse\n"
                + "metrics: [mae, rmse]\nseed: 3\n", "regression.yaml").withEngine(Engine.DL4J);
        int batch = 32;
        TrainingResult result = new DistributedTrainer(jsc).train(config(spec, 2, batch, 1,
                AveragingSchedule.EVERY_EPOCH), new TrainingProgress() { });
        MultiLayerNetwork single = trainSingleProcess(spec, batch, 2);
        assertArrayEquals(single.params().toFloatVector(), result.finalState().copyParameters(), "parameters");
        EpochRecord last = result.epochs().get(1);
        assertEquals(List.of("mae", "rmse"), List.copyOf(last.metrics().keySet()));
        assertTrue(last.metric("mae") > 0 && last.metric("mae") < 4.5,
                "labels 0-9 learned, mae " + last.metric("mae"));
        assertTrue(last.metric("rmse") >= last.metric("mae"), "rmse >= mae always");
    }

    @Test
    void sgdAveragedEveryStepOverTwoWorkersEqualsOneMachineAtTheGlobalBatch() throws IOException {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(11)
                .updater(new Sgd(0.05))
                .weightInit(WeightInit.XAVIER_UNIFORM)
                .list()
                .layer(new DenseLayer.Builder().nIn(FashionMnist.PIXELS).nOut(64).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(64).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .build();
        ModelSpec spec = ModelSpec.fromConfiguration(conf, "sgd-test");
        int batch = 32;
        int workers = 2;
        // The default batch scope is global: a batch of 64 over 2 workers is 32 examples per worker and step.
        TrainingResult result = new DistributedTrainer(jsc).train(config(spec, 1, batch * workers, workers,
                AveragingSchedule.everyMinibatches(1)), new TrainingProgress() { });

        MultiLayerNetwork single = new MultiLayerNetwork(spec.configuration());
        single.init();
        // Worker w's j-th minibatch holds positions t = w (mod 2) in [2jB, 2(j+1)B): together, the single machine's j-th batch of 2B.
        for (Minibatch b : batchesInShuffledOrder(spec, batch * workers)) {
            single.fit(b.featuresArray(), b.targetsArray());
        }
        // Equal up to float rounding: the two replicas' gradients are summed in another order than one big GEMM's.
        float[] expected = single.params().toFloatVector();
        float[] actual = result.finalState().copyParameters();
        double difference = relativeDifference(actual, expected);
        assertTrue(difference <= 1e-5, "relative parameter difference " + difference);
        float[] initial = initialParameters(spec);
        assertTrue(relativeDifference(initial, expected) > 1e-3, "training must have moved the parameters");
        assertEquals(EXAMPLES / (batch * workers), result.epochs().get(0).averagingRounds());
    }

    private static TrainingConfig config(ModelSpec spec, int epochs, int batch, int workers,
            AveragingSchedule averaging) {
        return TrainingConfig.builder(spec, DataInput.idx(images.toString())).epochs(epochs).batchSize(batch)
                .workers(workers).averaging(averaging).blockMomentum(BlockMomentum.NONE).seed(SEED)
                .output(dir.resolve("out").toString()).build();
    }

    /** The slice's examples in the order dptrain's seeded shuffle gives them, batched like a replica batches them. */
    /**
     * Single-process DL4J on the minibatches dptrain's one worker sees, in its order, counting epochs
     * as DL4J's own epoch loop does (learning-rate schedules per epoch read the count).
     */
    private static MultiLayerNetwork trainSingleProcess(ModelSpec spec, int batch, int epochs) throws IOException {
        MultiLayerNetwork single = new MultiLayerNetwork(spec.configuration());
        single.init();
        // The helpers replicas attach (none with the plain nd4j-native libraries the tests load).
        OneDnnHelpers.attach(single);
        List<Minibatch> batches = batchesInShuffledOrder(spec, batch);
        for (int e = 0; e < epochs; e++) {
            for (Minibatch b : batches) {
                single.fit(b.featuresArray(), b.targetsArray());
            }
            single.incrementEpochCount();
        }
        return single;
    }

    private static List<Minibatch> batchesInShuffledOrder(ModelSpec spec, int batch) throws IOException {
        List<Example> examples = readIdx(images);
        SeededPermutation permutation = new SeededPermutation(examples.size(), SEED);
        List<Example> ordered = IntStream.range(0, examples.size()).boxed()
                .sorted(Comparator.comparingLong(i -> permutation.apply(i)))
                .map(examples::get)
                .toList();
        MinibatchBuilder builder = new MinibatchBuilder(batch, spec.inputSize(), spec.outputSize(), spec.targetEncoding(),
                DataInput.IDX_DEFAULT_SCALE);
        List<Minibatch> batches = new ArrayList<>();
        // A regression learns the label's value, as dptrain reads an IDX labels file for one-output regression.
        Iterator<Example> rows = spec.isRegression()
                ? ordered.stream().map(e -> Example.regression(e.features(), new float[] {e.label()})).iterator()
                : ordered.iterator();
        builder.batches(rows).forEachRemaining(batches::add);
        return batches;
    }

    private static List<Example> readIdx(Path imagesFile) throws IOException {
        Path labelsFile = imagesFile.resolveSibling(imagesFile.getFileName().toString().replace("images-idx3", "labels-idx1"));
        List<Example> examples = new ArrayList<>();
        try (InputStream i = Files.newInputStream(imagesFile); InputStream l = Files.newInputStream(labelsFile);
                DataInputStream images = new DataInputStream(i); DataInputStream labels = new DataInputStream(l)) {
            images.skipNBytes(16);
            labels.skipNBytes(8);
            for (int n = 0; n < EXAMPLES; n++) {
                float[] x = new float[FashionMnist.PIXELS];
                for (int p = 0; p < x.length; p++) {
                    x[p] = images.readUnsignedByte();
                }
                examples.add(new Example(x, labels.readUnsignedByte()));
            }
        }
        return examples;
    }

    /** Initial parameters, to show that the compared runs did train. */
    private static float[] initialParameters(ModelSpec spec) {
        MultiLayerNetwork net = new MultiLayerNetwork(spec.configuration());
        net.init();
        return net.params().toFloatVector();
    }

    private static double relativeDifference(float[] actual, float[] expected) {
        assertEquals(expected.length, actual.length, "parameter count");
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += Math.pow(actual[i] - expected[i], 2);
            norm += Math.pow(expected[i], 2);
        }
        return Math.sqrt(diff / norm);
    }
}
