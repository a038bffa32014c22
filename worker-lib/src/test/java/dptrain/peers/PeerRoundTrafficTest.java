package dptrain.peers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.replica.DeltaFeedback;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.ReplicaResult;
import dptrain.replica.ReplicaStats;
import dptrain.replica.RoundCombine;
import dptrain.replica.StateChunks;
import dptrain.replica.TrainingState;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.SecurityManager;
import org.apache.spark.SparkConf;
import org.apache.spark.internal.config.package$;
import org.junit.jupiter.api.Test;
import scala.Option;

/**
 * What one round among 4 replicas puts on the wire per replica, counted by {@link
 * PeerNetwork#bytesSent()}: with float16 deltas the parameters travel in 2 bytes each, so a
 * replica sends half the parameters' float32 bytes (plus the optimizer state, still float32); an
 * exact round sends float32. Every replica ends the round with the same state.
 */
class PeerRoundTrafficTest {
    private static final String HOST = "127.0.0.1";
    private static final long TOKEN = 7;
    private static final int REPLICAS = 4;
    private static final int PARAMETERS = 200_000;

    /** Bytes each replica sent in one round, and the states they ended with. */
    private record Sent(long[] bytes, TrainingState[] next) {
    }

    private static PeerNetwork end() {
        SparkConf conf = new SparkConf().set("spark.authenticate", "false");
        return PeerNetwork.open(conf, new SecurityManager(conf, Option.empty(),
                package$.MODULE$.AUTH_SECRET_FILE_DRIVER()), HOST, TOKEN);
    }

    private static Sent round(int optimizerValues, DeltaPrecision precision, boolean exact) throws Exception {
        return round(optimizerValues, precision, exact, false);
    }

    private static Sent round(int optimizerValues, DeltaPrecision precision, boolean exact, boolean localOptimizer)
            throws Exception {
        Random random = new Random(3);
        float[] startParameters = new float[PARAMETERS];
        for (int i = 0; i < PARAMETERS; i++) {
            startParameters[i] = (float) random.nextGaussian();
        }
        TrainingState start = TrainingState.restore(startParameters, new float[optimizerValues], 10, 0);
        StateChunks chunks = StateChunks.of(start, REPLICAS);
        List<PeerNetwork> nets = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(REPLICAS);
        try (PeerNetwork driver = end()) {
            String[] hosts = new String[REPLICAS];
            int[] ports = new int[REPLICAS];
            for (int p = 0; p < REPLICAS; p++) {
                nets.add(end());
                hosts[p] = HOST;
                ports[p] = nets.get(p).port();
            }
            List<Future<PeerRound.Result>> results = new ArrayList<>();
            for (int p = 0; p < REPLICAS; p++) {
                int self = p;
                float[] trained = startParameters.clone();
                float[] optimizer = new float[optimizerValues];
                java.util.Arrays.fill(optimizer, 0.01f * (p + 1));
                for (int i = 0; i < PARAMETERS; i++) {
                    trained[i] += (float) (1e-3 * random.nextGaussian());
                }
                ReplicaResult result = RoundCombine.chunkResult(p, new ReplicaStats(100, 4, 4, 9.0, 80, 0, 0, 0.1,
                        0.1), null, TrainingState.restore(trained, optimizer, 14, 0));
                results.add(threads.submit(() -> {
                    PeerNetwork net = nets.get(self);
                    PeerRound.Peers peers = new PeerRound.Peers(self, hosts, ports, HOST, driver.port());
                    PeerRound.Owned owned = new PeerRound.Owned(0, chunks.slice(start, self),
                            RoundCombine.Filter.PLAIN);
                    DeltaFeedback feedback = precision.rounds() ? new DeltaFeedback(precision) : null;
                    return PeerRound.combine(net, peers, new PeerMessage.Envelope(TOKEN, 0, 1, self), chunks, owned,
                            result, () -> { }, feedback, start, exact, localOptimizer);
                }));
            }
            long[] bytes = new long[REPLICAS];
            TrainingState[] next = new TrainingState[REPLICAS];
            for (int p = 0; p < REPLICAS; p++) {
                next[p] = results.get(p).get().next();
            }
            for (int p = 0; p < REPLICAS; p++) {
                bytes[p] = nets.get(p).bytesSent();
            }
            return new Sent(bytes, next);
        } finally {
            threads.shutdownNow();
            for (PeerNetwork net : nets) {
                net.close();
            }
        }
    }

    /**
     * With the optimizer state kept local, a round that is not exact sends only the parameters'
     * 2-byte deltas: at most 0.6x the state per replica (the target), and each replica
     * goes on with its own optimizer state.
     */
    @Test
    void float16DeltasWithALocalOptimizerStateMoveAtMostSixTenthsOfTheState() throws Exception {
        Sent local = round(PARAMETERS, DeltaPrecision.FLOAT16, false, true);
        long stateBytes = 8L * PARAMETERS;
        for (int p = 0; p < REPLICAS; p++) {
            double times = (double) local.bytes()[p] / stateBytes;
            assertEquals(1.5 * 0.25, times, 0.01, "2 (N - 1) / N times 2-byte parameters against 8-byte values");
            assertTrue(times <= 0.6, "at most 0.6x the state: " + times);
            assertArrayEquals(local.next()[0].copyParameters(), local.next()[p].copyParameters(),
                    "every replica applies the same parameters");
            assertEquals(0.01f * (p + 1), local.next()[p].copyOptimizerState()[0], "its own optimizer state");
        }
        Sent float32Local = round(PARAMETERS, DeltaPrecision.FLOAT32, false, true);
        assertEquals(0.75, (double) float32Local.bytes()[0] / stateBytes, 0.01, "float32 parameters only");
        Sent exact = round(PARAMETERS, DeltaPrecision.FLOAT16, true, true);
        assertEquals(1.5, (double) exact.bytes()[0] / stateBytes, 0.01, "an exact round averages everything");
        for (int p = 1; p < REPLICAS; p++) {
            assertArrayEquals(exact.next()[0].copyOptimizerState(), exact.next()[p].copyOptimizerState(),
                    "after an exact round every replica holds one optimizer state");
        }
    }

    @Test
    void float16DeltasPutTwoBytesPerParameterOnTheWireAndEveryReplicaEndsWithTheSameState() throws Exception {
        // RMSprop-like: as many optimizer values as parameters, averaged in float32 as before.
        int optimizer = PARAMETERS;
        Sent float32 = round(optimizer, DeltaPrecision.FLOAT32, false);
        Sent float16 = round(optimizer, DeltaPrecision.FLOAT16, false);
        Sent exact = round(optimizer, DeltaPrecision.FLOAT16, true);
        long stateBytes = 4L * (PARAMETERS + optimizer);
        long parameterBytes32 = 4L * PARAMETERS;
        for (int p = 0; p < REPLICAS; p++) {
            // Each replica sends 3/4 of the state to the owners and its quarter to 3 others: 1.5x the state.
            double float32Times = (double) float32.bytes()[p] / stateBytes;
            double float16Times = (double) float16.bytes()[p] / stateBytes;
            assertEquals(1.5, float32Times, 0.01, "float32: 2 (N - 1) / N times the state");
            assertEquals(1.5 * 0.75, float16Times, 0.01, "float16 parameters, float32 optimizer state");
            double parametersOnly = (float16.bytes()[p] - 1.5 * 4 * optimizer) / (1.5 * parameterBytes32);
            assertTrue(parametersOnly <= 0.51, "float16 parameters take half their float32 bytes: " + parametersOnly);
            assertEquals(float32.bytes()[p], exact.bytes()[p], 200, "an exact round sends float32");
            assertArrayEquals(float16.next()[0].copyParameters(), float16.next()[p].copyParameters(),
                    "every replica applies the same rounded values");
        }
        // Stateless (plain SGD): the parameters are the whole state.
        Sent sgd32 = round(0, DeltaPrecision.FLOAT32, false);
        Sent sgd16 = round(0, DeltaPrecision.FLOAT16, false);
        assertEquals(1.5, (double) sgd32.bytes()[0] / parameterBytes32, 0.01, "2 (N - 1) / N times the state");
        assertEquals(0.75, (double) sgd16.bytes()[0] / parameterBytes32, 0.01, "(N - 1) / N times the state");
    }
}
