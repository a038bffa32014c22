package dptrain.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.data.Example;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.spec.Engine;
import dptrain.spec.ModelSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The replica on its own: no SparkContext, a small network, synthetic data. */
class ReplicaTrainerTest {
    private static final ModelSpec SPEC = ModelSpec.parse("""
            input_shape: [8]
            layers:
              - dense: {units: 16, activation: relu}
              - dense: {units: 3, activation: softmax}
            optimizer: {rmsprop: {learning_rate: 0.01}}
            loss: categorical_crossentropy
            seed: 5
            """, "test-spec");

    /** Three separable classes: class c has a high value in features 2c and 2c+1. */
    private static List<Minibatch> batches(int examples, int batchSize, long seed) {
        Random random = new Random(seed);
        List<Example> list = new ArrayList<>();
        for (int i = 0; i < examples; i++) {
            int label = i % 3;
            float[] x = new float[8];
            for (int f = 0; f < 8; f++) {
                x[f] = (float) random.nextGaussian() * 0.3f + (f / 2 == label ? 2f : 0f);
            }
            list.add(new Example(x, label));
        }
        List<Minibatch> batches = new ArrayList<>();
        new MinibatchBuilder(batchSize, 8, 3, SPEC.targetEncoding(), 1f).batches(list.iterator()).forEachRemaining(batches::add);
        return batches;
    }

    private static TrainingState initialState() {
        MultiLayerNetwork net = new MultiLayerNetwork(SPEC.configuration());
        net.init();
        return TrainingState.of(net);
    }

    @Test
    void withTheDl4jEngineTrainsLikePlainDl4jBitForBitFromTheSnapshotAndReportsWhatItDid() {
        List<Minibatch> data = batches(100, 16, 1);
        TrainingState start = initialState();
        ReplicaTrainer replica = new ReplicaTrainer(SPEC.withEngine(Engine.DL4J));
        assertEquals(Engine.DL4J, replica.engine());
        ReplicaResult result = replica.train(start, data.iterator(), 100, 9);

        MultiLayerNetwork plain = new MultiLayerNetwork(SPEC.configuration());
        plain.init();
        start.loadInto(plain);
        double lossSum = 0;
        for (Minibatch b : data) {
            plain.fit(b.featuresArray(), b.targetsArray());
            lossSum += plain.score() * b.rows();
        }
        assertArrayEquals(plain.params().toFloatVector(), result.state().copyParameters());
        assertArrayEquals(plain.getUpdater().getStateViewArray().toFloatVector(), result.state().copyOptimizerState());
        ReplicaStats stats = result.stats();
        assertEquals(100, stats.examples());
        assertEquals(7, stats.steps(), "6 full minibatches of 16 and one of 4");
        assertEquals(lossSum, stats.lossSum(), 1e-9);
        assertEquals(7, result.state().iteration());
        assertTrue(stats.computeSeconds() > 0);
    }

    @Test
    void countsTrainingAccuracyAsTheNetworkPredictedBeforeEachUpdate() {
        List<Minibatch> data = batches(96, 32, 2);
        TrainingState start = initialState();
        ReplicaResult result = new ReplicaTrainer(SPEC).train(start, data.iterator(), 100, 9);

        MultiLayerNetwork plain = new MultiLayerNetwork(SPEC.configuration());
        plain.init();
        start.loadInto(plain);
        long correct = 0;
        for (Minibatch b : data) {
            INDArray output = plain.output(b.featuresArray(), false);
            for (int r = 0; r < b.rows(); r++) {
                if (output.getRow(r).argMax().getInt(0) == b.label(r)) {
                    correct++;
                }
            }
            plain.fit(b.featuresArray(), b.targetsArray());
        }
        assertEquals(correct, result.stats().correct());
    }

    @Test
    void stopsAfterKMinibatchesAndLeavesTheRestForTheNextRound() {
        List<Minibatch> data = batches(160, 16, 3);
        Iterator<Minibatch> it = data.iterator();
        ReplicaTrainer replica = new ReplicaTrainer(SPEC);
        ReplicaResult first = replica.train(initialState(), it, 4, 1);
        assertEquals(4, first.stats().steps());
        ReplicaResult second = replica.train(first.state(), it, 4, 2);
        assertEquals(4, second.stats().steps());
        assertEquals(8, second.state().iteration(), "counters carry over from the snapshot");
        assertEquals(2, replica.train(second.state(), it, 4, 3).stats().steps());
    }

    @Test
    void aReplicaWithNothingLeftContributesNoState() {
        ReplicaResult result = new ReplicaTrainer(SPEC).train(initialState(), Collections.emptyIterator(), 4, 1);
        assertNull(result.state());
        assertEquals(0, result.stats().examples());
        ParameterAverage average = ParameterAverage.empty().add(result);
        assertTrue(!average.hasContributions());
    }

    @Test
    void aReusedReplicaForgetsEverythingButTheSnapshot() {
        List<Minibatch> data = batches(64, 16, 4);
        ReplicaTrainer reused = new ReplicaTrainer(SPEC);
        reused.train(initialState(), batches(64, 16, 99).iterator(), 100, 1);
        ReplicaResult again = reused.train(initialState(), data.iterator(), 100, 1);
        ReplicaResult fresh = new ReplicaTrainer(SPEC).train(initialState(), data.iterator(), 100, 1);
        assertArrayEquals(fresh.state().copyParameters(), again.state().copyParameters());
    }

    @Test
    void evaluatesLossAndAccuracyWithoutChangingTheState() {
        List<Minibatch> data = batches(90, 30, 5);
        ReplicaTrainer replica = new ReplicaTrainer(SPEC);
        TrainingState trained = replica.train(initialState(), batches(600, 30, 6).iterator(), 100, 1).state();
        ReplicaStats before = replica.evaluate(initialState(), data.iterator());
        ReplicaStats after = replica.evaluate(trained, data.iterator());
        assertEquals(90, after.examples());
        assertTrue(after.accuracy() > 0.9, "accuracy on separable data after training: " + after.accuracy());
        assertTrue(after.meanLoss() < before.meanLoss());
        ReplicaStats repeated = replica.evaluate(trained, data.iterator());
        assertEquals(after.lossSum(), repeated.lossSum(), "evaluation is inference only: the same state twice");
        assertEquals(after.correct(), repeated.correct());
    }

    @Test
    void averagesStatesWeightedByExamples() {
        TrainingState a = initialState();
        ReplicaTrainer replica = new ReplicaTrainer(SPEC);
        ReplicaResult big = replica.train(a, batches(90, 30, 7).iterator(), 100, 1);
        ReplicaResult small = replica.train(a, batches(30, 30, 8).iterator(), 100, 1);
        TrainingState average = ParameterAverage.empty().add(big).merge(ParameterAverage.empty().add(small))
                .toState(3, 0);
        float[] p = big.state().copyParameters();
        float[] q = small.state().copyParameters();
        float[] avg = average.copyParameters();
        for (int i = 0; i < p.length; i++) {
            assertEquals((90.0 * p[i] + 30.0 * q[i]) / 120.0, avg[i], 1e-6);
        }
        assertEquals(120, ParameterAverage.empty().add(big).add(small).stats().examples());
        assertNotEquals(p[0], q[0]);
        // A single contribution is returned bit for bit, not through a division.
        assertArrayEquals(p, ParameterAverage.empty().add(big).toState(3, 0).copyParameters());
    }

    /** {@code train}'s result when the state streams in and the result streams out, as a long-lived task runs it. */
    private static ReplicaResult trainStreamed(ReplicaTrainer replica, TrainingState start, Iterator<Minibatch> batches,
            int maxBatches, long seed, int partition) throws IOException {
        ByteArrayOutputStream stateBytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(stateBytes)) {
            start.writeTo(out);
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(stateBytes.toByteArray()));
        replica.receiveState(in);
        assertEquals(-1, in.read(), "the whole state was read");
        HeldResult held = replica.trainHeldState(batches, maxBatches, seed);
        ByteArrayOutputStream resultBytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(resultBytes)) {
            held.writeTo(out, partition);
        }
        return ReplicaResult.readFrom(new DataInputStream(new ByteArrayInputStream(resultBytes.toByteArray())));
    }

    @Test
    void aStreamedRoundEqualsASnapshotRoundBitForBitWithEitherEngine() throws IOException {
        for (Engine engine : new Engine[] {Engine.DENSE, Engine.DL4J}) {
            List<Minibatch> data = batches(100, 16, 10);
            TrainingState start = new ReplicaTrainer(SPEC).train(initialState(), batches(64, 16, 11).iterator(), 100, 1)
                    .state();
            ReplicaResult snapshot = new ReplicaTrainer(SPEC.withEngine(engine)).train(start, data.iterator(), 5, 7);
            // A reused replica: what it trained before must not leak into the streamed round.
            ReplicaTrainer reused = new ReplicaTrainer(SPEC.withEngine(engine));
            reused.train(initialState(), batches(64, 16, 12).iterator(), 100, 3);
            ReplicaResult streamed = trainStreamed(reused, start, data.iterator(), 5, 7, 2);

            assertEquals(2, streamed.partition());
            assertNull(streamed.rejection());
            assertArrayEquals(snapshot.state().copyParameters(), streamed.state().copyParameters(), engine.specName());
            assertArrayEquals(snapshot.state().copyOptimizerState(), streamed.state().copyOptimizerState());
            assertEquals(snapshot.state().iteration(), streamed.state().iteration());
            assertEquals(start.iteration() + 5, streamed.state().iteration());
            assertEquals(snapshot.stats().examples(), streamed.stats().examples());
            assertEquals(snapshot.stats().steps(), streamed.stats().steps());
            assertEquals(snapshot.stats().lossSum(), streamed.stats().lossSum());
            assertEquals(snapshot.stats().correct(), streamed.stats().correct());
        }
    }

    @Test
    void aStreamedRoundThatDivergesOrHasNothingToTrainSendsNoState() throws IOException {
        ModelSpec exploding = ModelSpec.parse("""
                input_shape: [8]
                layers:
                  - dense: {units: 16, activation: relu}
                  - dense: {units: 3, activation: softmax}
                optimizer: {sgd: {learning_rate: 1.0e30}}
                loss: categorical_crossentropy
                seed: 5
                """, "exploding");
        ReplicaTrainer replica = new ReplicaTrainer(exploding);
        MultiLayerNetwork net = new MultiLayerNetwork(exploding.configuration());
        net.init();
        ReplicaResult diverged = trainStreamed(replica, TrainingState.of(net), batches(96, 16, 13).iterator(), 6, 1, 0);
        assertNotNull(diverged.rejection());
        assertNull(diverged.state());
        assertTrue(diverged.stats().steps() > 0);

        ReplicaResult empty = trainStreamed(new ReplicaTrainer(SPEC), initialState(), Collections.emptyIterator(), 4, 1, 1);
        assertNull(empty.rejection());
        assertNull(empty.state());
        assertEquals(0, empty.stats().steps());
    }

    @Test
    void aStreamedStateOfAnotherShapeIsRefusedBeforeItIsRead() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            TrainingState.restore(new float[5], new float[0], 0, 0).writeTo(out);
        }
        ReplicaTrainer replica = new ReplicaTrainer(SPEC);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> replica.receiveState(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()))));
        assertTrue(e.getMessage().contains("5 parameters"), e.getMessage());
    }
}
