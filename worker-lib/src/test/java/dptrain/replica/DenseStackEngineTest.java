package dptrain.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.data.Example;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.spec.Engine;
import dptrain.spec.ModelSpec;
import dptrain.spec.TargetEncoding;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

/**
 * The dense-stack engine against DL4J's own layers: from the same state and minibatches, one step and twenty steps
 * give the same parameters, optimizer state, counters, loss and accuracy counts, within float32 GEMM rounding.
 */
class DenseStackEngineTest {
    /**
     * Largest allowed |dense - dl4j| per value, relative to max(1, |dl4j|). GEMM summation order is the only
     * possible difference, a few float32 ulps grown over 20 steps; on these stacks the engine runs the same GEMM
     * layouts as DL4J and the difference measured was 0 for every case.
     */
    private static final double TOLERANCE = 1e-5;
    private static final double LOSS_TOLERANCE = 1e-6;

    private static final List<String> OPTIMIZERS = List.of(
            "{rmsprop: {learning_rate: 0.01}}",
            "{sgd: {learning_rate: 0.1}}",
            "{sgd: {learning_rate: 0.05, momentum: 0.9, nesterov: true}}",
            "{adam: {learning_rate: 0.01}}",
            "{adagrad: {learning_rate: 0.05}}");

    /** Network shapes: the book's (small), sigmoid/tanh with L2 in three layers, binary sigmoid, MSE, sparse. */
    private static final List<String> STACKS = List.of(
            """
            input_shape: [12]
            layers:
              - dense: {units: 24, activation: relu}
              - dense: {units: 4, activation: softmax}
            loss: categorical_crossentropy
            """,
            """
            input_shape: [12]
            layers:
              - dense: {units: 20, activation: sigmoid, l2: 0.001}
              - dense: {units: 16, activation: tanh, l2: 0.002}
              - dense: {units: 4, activation: softmax, l2: 0.001}
            loss: categorical_crossentropy
            """,
            """
            input_shape: [12]
            layers:
              - dense: {units: 16, activation: tanh}
              - dense: {units: 1, activation: sigmoid}
            loss: binary_crossentropy
            """,
            """
            input_shape: [12]
            layers:
              - dense: {units: 16, activation: elu}
              - dense: {units: 8, activation: relu}
              - dense: {units: 4, activation: linear}
            loss: mse
            """,
            """
            input_shape: [12]
            layers:
              - dense: {units: 16, activation: relu}
              - dense: {units: 4, activation: softmax}
            loss: sparse_categorical_crossentropy
            """);

    static Stream<Arguments> stacksAndOptimizers() {
        List<Arguments> cases = new ArrayList<>();
        for (int s = 0; s < STACKS.size(); s++) {
            for (String optimizer : OPTIMIZERS) {
                cases.add(Arguments.of(s, optimizer));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "stack {0} with {1}")
    @MethodSource("stacksAndOptimizers")
    void oneStepAndTwentyStepsMatchDl4jWithinFloatRounding(int stack, String optimizer) {
        ModelSpec spec = ModelSpec.parse(STACKS.get(stack) + "optimizer: " + optimizer + "\nseed: 7\n", "stack-" + stack);
        assertEquals(Engine.DENSE, spec.resolvedEngine(), spec.denseStackSupport().reason());
        // 20 full minibatches of 16 and a last one of 5: both buffer sizes are exercised.
        List<Minibatch> data = batches(spec, 16 * 20 + 5, 16, stack);
        TrainingState start = initialState(spec);

        ReplicaTrainer dl4j = new ReplicaTrainer(spec.withEngine(Engine.DL4J));
        ReplicaTrainer dense = new ReplicaTrainer(spec.withEngine(Engine.DENSE));
        assertEquals(Engine.DENSE, dense.engine());
        // Stack 1 has L2 regularization, which DL4J's updater applies; the others take the fused Java step.
        assertEquals(stack != 1, dense.denseOptimizerPath().startsWith("fused"), dense.denseOptimizerPath());
        for (int steps : new int[] {1, 21}) {
            ReplicaResult expected = dl4j.train(start, data.iterator(), steps, 3);
            ReplicaResult actual = dense.train(start, data.iterator(), steps, 3);
            String what = "stack " + stack + ", " + optimizer + ", " + steps + " steps";
            assertClose(expected.state().copyParameters(), actual.state().copyParameters(), what + ": parameters");
            assertClose(expected.state().copyOptimizerState(), actual.state().copyOptimizerState(),
                    what + ": optimizer state");
            assertEquals(expected.state().iteration(), actual.state().iteration(), what + ": iteration");
            assertEquals(expected.state().epoch(), actual.state().epoch(), what + ": epoch");
            assertEquals(expected.stats().examples(), actual.stats().examples());
            assertEquals(expected.stats().steps(), actual.stats().steps());
            assertEquals(expected.stats().lossSum(), actual.stats().lossSum(),
                    LOSS_TOLERANCE * Math.max(1, Math.abs(expected.stats().lossSum())), what + ": loss");
            assertEquals(expected.stats().correct(), actual.stats().correct(), what + ": correct predictions");
        }
        ReplicaStats expectedEvaluation = dl4j.evaluate(start, data.iterator());
        ReplicaStats actualEvaluation = dense.evaluate(start, data.iterator());
        assertEquals(expectedEvaluation.examples(), actualEvaluation.examples());
        assertEquals(expectedEvaluation.lossSum(), actualEvaluation.lossSum(),
                LOSS_TOLERANCE * Math.max(1, Math.abs(expectedEvaluation.lossSum())), "evaluation loss");
        assertEquals(expectedEvaluation.correct(), actualEvaluation.correct(), "evaluation: correct predictions");
    }

    /** DL4J configurations beyond what Keras specs produce: schedules, no minibatch division, L1, weight decay. */
    static Stream<Arguments> dl4jConfigurations() {
        return Stream.of(
                Arguments.of("adam with an exponential learning-rate schedule, fused", true,
                        new NeuralNetConfiguration.Builder().seed(3)
                                .updater(new Adam(new ExponentialSchedule(ScheduleType.ITERATION, 0.01, 0.9)))),
                Arguments.of("rmsprop without minibatch division, fused", true,
                        new NeuralNetConfiguration.Builder().seed(3).miniBatch(false).updater(new RmsProp(1e-3))),
                Arguments.of("nesterovs with L1 and weight decay, DL4J's updater", false,
                        new NeuralNetConfiguration.Builder().seed(3).updater(new Nesterovs(0.05, 0.9)).l1(1e-3)
                                .weightDecay(1e-3)),
                Arguments.of("sgd with gradient clipping, DL4J's updater", false,
                        new NeuralNetConfiguration.Builder().seed(3).updater(new Sgd(0.5))
                                .gradientNormalization(GradientNormalization.ClipElementWiseAbsoluteValue)
                                .gradientNormalizationThreshold(0.01)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dl4jConfigurations")
    void dl4jConfigurationsMatchDl4jWithinFloatRounding(String what, boolean fused,
            NeuralNetConfiguration.Builder builder) {
        MultiLayerConfiguration conf = builder.weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(12).nOut(16).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(16).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(4)
                        .activation(Activation.SOFTMAX).build())
                .build();
        ModelSpec spec = ModelSpec.fromConfiguration(conf, what);
        List<Minibatch> data = batches(spec, 16 * 20 + 5, 16, 21);
        TrainingState start = initialState(spec);
        ReplicaTrainer dense = new ReplicaTrainer(spec.withEngine(Engine.DENSE));
        assertEquals(fused, dense.denseOptimizerPath().startsWith("fused"), dense.denseOptimizerPath());
        ReplicaResult expected = new ReplicaTrainer(spec.withEngine(Engine.DL4J)).train(start, data.iterator(), 100, 3);
        ReplicaResult actual = dense.train(start, data.iterator(), 100, 3);
        assertClose(expected.state().copyParameters(), actual.state().copyParameters(), what + ": parameters");
        assertClose(expected.state().copyOptimizerState(), actual.state().copyOptimizerState(),
                what + ": optimizer state");
        assertEquals(expected.stats().lossSum(), actual.stats().lossSum(),
                LOSS_TOLERANCE * Math.max(1, Math.abs(expected.stats().lossSum())), what + ": loss");
        assertEquals(expected.stats().correct(), actual.stats().correct(), what + ": correct predictions");
    }

    @Test
    void twoRoundsThroughASnapshotEqualOneRoundOfTheSameSteps() {
        // The fused step keeps parameters and optimizer state in Java arrays during a round; a round boundary
        // (store, snapshot, load) must not change anything.
        ModelSpec spec = ModelSpec.parse(STACKS.get(0) + "optimizer: {adam: {learning_rate: 0.01}}\n", "stack-0");
        List<Minibatch> data = batches(spec, 16 * 8, 16, 13);
        TrainingState start = initialState(spec);
        ReplicaTrainer replica = new ReplicaTrainer(spec);
        ReplicaResult once = replica.train(start, data.iterator(), 8, 1);
        java.util.Iterator<Minibatch> it = data.iterator();
        ReplicaResult first = replica.train(start, it, 4, 1);
        ReplicaResult second = replica.train(first.state(), it, 4, 1);
        assertArrayEquals(once.state().copyParameters(), second.state().copyParameters());
        assertArrayEquals(once.state().copyOptimizerState(), second.state().copyOptimizerState());
        assertEquals(once.state().iteration(), second.state().iteration());
    }

    @Test
    void isDeterministicBitForBit() {
        ModelSpec spec = ModelSpec.parse(STACKS.get(1) + "optimizer: {adam: {learning_rate: 0.01}}\n", "stack-1");
        List<Minibatch> data = batches(spec, 200, 16, 11);
        TrainingState start = initialState(spec);
        ReplicaResult first = new ReplicaTrainer(spec).train(start, data.iterator(), 100, 1);
        ReplicaTrainer reused = new ReplicaTrainer(spec);
        reused.train(start, batches(spec, 64, 32, 12).iterator(), 100, 1);
        ReplicaResult second = reused.train(start, data.iterator(), 100, 1);
        assertArrayEquals(first.state().copyParameters(), second.state().copyParameters());
        assertArrayEquals(first.state().copyOptimizerState(), second.state().copyOptimizerState());
        assertEquals(first.stats().lossSum(), second.stats().lossSum());
        assertEquals(first.stats().correct(), second.stats().correct());
    }

    @Test
    void autoFallsBackToDl4jForDropoutAndDenseIsRefused() {
        ModelSpec withDropout = ModelSpec.parse("""
                input_shape: [12]
                layers:
                  - dense: {units: 16, activation: relu}
                  - dropout: {rate: 0.5}
                  - dense: {units: 4, activation: softmax}
                loss: categorical_crossentropy
                """, "dropout-spec");
        assertFalse(withDropout.denseStackSupport().supported());
        assertTrue(withDropout.denseStackSupport().reason().contains("layer 1 (DropoutLayer)"),
                withDropout.denseStackSupport().reason());
        assertEquals(Engine.DL4J, withDropout.resolvedEngine());
        assertEquals(Engine.DL4J, new ReplicaTrainer(withDropout).engine());
        assertEquals("dl4j", withDropout.describe().get("engine_used"));
        IllegalArgumentException refused = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> withDropout.withEngine(Engine.DENSE));
        assertTrue(refused.getMessage().contains("DropoutLayer"), refused.getMessage());
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = maxRelativeDifference(expected, actual);
        assertTrue(worst <= TOLERANCE, what + ": largest relative difference " + worst + " > " + TOLERANCE);
    }

    /** max |a - e| / max(1, |e|) over all values. */
    static double maxRelativeDifference(float[] expected, float[] actual) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double difference = Math.abs((double) actual[i] - expected[i]) / Math.max(1.0, Math.abs(expected[i]));
            worst = Math.max(worst, difference);
        }
        return worst;
    }

    private static TrainingState initialState(ModelSpec spec) {
        MultiLayerNetwork net = new MultiLayerNetwork(spec.configuration());
        net.init();
        return TrainingState.of(net);
    }

    /** Classes separable by which pair of features is high, plus noise. */
    private static List<Minibatch> batches(ModelSpec spec, int examples, int batchSize, long seed) {
        int classes = spec.targetEncoding() == TargetEncoding.SCALAR ? 2 : spec.outputSize();
        int features = spec.inputSize();
        Random random = new Random(seed);
        List<Example> list = new ArrayList<>();
        for (int i = 0; i < examples; i++) {
            int label = random.nextInt(classes);
            float[] x = new float[features];
            for (int f = 0; f < features; f++) {
                x[f] = (float) random.nextGaussian() * 0.5f + (f % classes == label ? 1f : 0f);
            }
            list.add(new Example(x, label));
        }
        List<Minibatch> batches = new ArrayList<>();
        new MinibatchBuilder(batchSize, features, spec.outputSize(), spec.targetEncoding(), 1f)
                .batches(list.iterator()).forEachRemaining(batches::add);
        return batches;
    }
}
