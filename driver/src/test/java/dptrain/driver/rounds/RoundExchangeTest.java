package dptrain.driver.rounds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.exchange.ExchangeAddress;
import dptrain.exchange.RoundAssignment;
import dptrain.exchange.RoundClient;
import dptrain.replica.ReplicaResult;
import dptrain.replica.ReplicaResultAccess;
import dptrain.replica.ReplicaStats;
import dptrain.replica.TrainingState;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The driver's round exchange with plain threads as tasks: no Spark. A lost message would hang: timeouts. */
@Timeout(60)
class RoundExchangeTest {
    private final ExecutorService tasks = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        tasks.shutdownNow();
    }

    private static TrainingState state(float value) {
        return TrainingState.restore(new float[] {value, value}, new float[] {value}, 0, 0);
    }

    /** A task that answers each round with its assignment's state, counted as {@code examples} examples. */
    private Future<Integer> task(ExchangeAddress address, int partition, int examples) {
        return tasks.submit(() -> {
            int rounds = 0;
            try (RoundClient client = RoundClient.connect(address, partition, 0)) {
                Optional<RoundAssignment> next;
                while ((next = client.next(() -> { })).isPresent()) {
                    RoundAssignment a = next.get();
                    TrainingState[] start = new TrainingState[1];
                    client.receiveState(in -> start[0] = TrainingState.readFrom(in));
                    ReplicaStats stats = new ReplicaStats(examples, 1, 1, examples, 0, 0.0, 0.0, 0.0, 0.0);
                    ReplicaResult result = resultFor(start[0], stats, partition);
                    client.send(a.sequence(), (out, p) -> result.forPartition(p).writeTo(out));
                    rounds++;
                }
            }
            return rounds;
        });
    }

    /** The same task as {@link #task}, in the driver's JVM: it joins in process. */
    private Future<Integer> inProcessTask(ExchangeAddress address, int partition, int examples) {
        return tasks.submit(() -> {
            int rounds = 0;
            try (InProcessTask task = RoundExchange.joinInProcess(address, partition, 0).orElseThrow()) {
                Optional<RoundAssignment> next;
                while ((next = task.next(() -> { })).isPresent()) {
                    RoundAssignment a = next.get();
                    ReplicaStats stats = new ReplicaStats(examples, 1, 1, examples, 0, 0.0, 0.0, 0.0, 0.0);
                    task.send(a.sequence(), resultFor(task.start(), stats, partition));
                    rounds++;
                }
            }
            return rounds;
        });
    }

    private static ReplicaResult resultFor(TrainingState start, ReplicaStats stats, int partition) {
        float[] params = start.copyParameters();
        params[0] += partition + 1; // partition 0 adds 1, partition 1 adds 2
        return ReplicaResultAccess.of(
                TrainingState.restore(params, start.copyOptimizerState(), start.iteration() + 1, 0), stats);
    }

    @Test
    void roundsGoOutToEveryTaskAndComeBackInPartitionOrder() throws Exception {
        try (RoundExchange exchange = new RoundExchange(2, "127.0.0.1", "127.0.0.1", 0, false)) {
            CompletableFuture<Void> job = new CompletableFuture<>();
            Future<Integer> second = task(exchange.address(), 1, 30);
            Future<Integer> first = task(exchange.address(), 0, 10);
            TrainingState s = state(5f);
            for (int round = 1; round <= 3; round++) {
                float start = s.copyParameters()[0];
                RoundExchange.RoundResults results = exchange.runRound(1, round, 0, 1, 0, s, job);
                assertEquals(0, results.byPartition()[0].partition());
                assertEquals(1, results.byPartition()[1].partition());
                assertEquals(start + 1, ReplicaResultAccess.state(results.byPartition()[0]).copyParameters()[0]);
                assertEquals(start + 2, ReplicaResultAccess.state(results.byPartition()[1]).copyParameters()[0]);
                assertEquals(10, results.byPartition()[0].stats().examples());
                s = ReplicaResultAccess.state(results.byPartition()[1]);
            }
            assertEquals(11f, s.copyParameters()[0]);
            exchange.finishEpoch();
            assertEquals(3, first.get());
            assertEquals(3, second.get());
        }
    }

    @Test
    void aReconnectingTaskGetsTheRoundUnderWay() throws Exception {
        try (RoundExchange exchange = new RoundExchange(1, "127.0.0.1", "127.0.0.1", 0, false)) {
            CompletableFuture<Void> job = new CompletableFuture<>();
            // The first attempt takes the round and dies without answering.
            Future<Void> dying = tasks.submit(() -> {
                try (RoundClient client = RoundClient.connect(exchange.address(), 0, 0)) {
                    assertEquals(1, client.next(() -> { }).orElseThrow().round());
                }
                return null;
            });
            Future<RoundExchange.RoundResults> round = tasks.submit(
                    () -> exchange.runRound(1, 1, 4, 2, 9, state(1f), job));
            dying.get();
            Future<Integer> retried = task(exchange.address(), 0, 10);
            RoundExchange.RoundResults results = round.get();
            assertEquals(2f, ReplicaResultAccess.state(results.byPartition()[0]).copyParameters()[0]);
            exchange.finishEpoch();
            assertEquals(1, retried.get());
        }
    }

    @Test
    void aTaskThatConnectsAfterTheLastRoundIsToldTheEpochIsDone() throws Exception {
        try (RoundExchange exchange = new RoundExchange(1, "127.0.0.1", "127.0.0.1", 0, false)) {
            Future<Integer> first = task(exchange.address(), 0, 10);
            exchange.runRound(1, 1, 0, 1, 0, state(1f), new CompletableFuture<Void>());
            exchange.finishEpoch();
            assertEquals(1, first.get());
            // A retried stage's task, after the last round: nothing left to train.
            assertEquals(0, task(exchange.address(), 0, 10).get());
            // The next epoch's tasks wait for its first round.
            exchange.beginEpoch();
            Future<Integer> next = task(exchange.address(), 0, 10);
            exchange.runRound(2, 1, 0, 1, 0, state(2f), new CompletableFuture<Void>());
            exchange.finishEpoch();
            assertEquals(1, next.get());
        }
    }

    @Test
    void aWaitingTaskGivesUpWhenNoLongerWanted() throws Exception {
        try (RoundExchange exchange = new RoundExchange(1, "127.0.0.1", "127.0.0.1", 0, false);
                RoundClient client = RoundClient.connect(exchange.address(), 0, 0)) {
            IllegalStateException killed = new IllegalStateException("task killed");
            assertSame(killed, assertThrows(IllegalStateException.class, () -> client.next(() -> {
                throw killed;
            })));
        }
    }

    @Test
    void aFailedJobEndsTheWaitWithItsError() throws Exception {
        try (RoundExchange exchange = new RoundExchange(2, "127.0.0.1", "127.0.0.1", 0, false)) {
            CompletableFuture<Void> job = new CompletableFuture<>();
            IllegalStateException failure = new IllegalStateException("stage failed 4 times");
            tasks.submit(() -> {
                Thread.sleep(100);
                return job.completeExceptionally(failure);
            });
            IllegalStateException thrown = assertThrows(IllegalStateException.class,
                    () -> exchange.runRound(1, 1, 0, 1, 0, state(0f), job));
            assertSame(failure, thrown);
        }
    }

    @Test
    void aStrangerWithoutTheTokenIsRefused() throws Exception {
        try (RoundExchange exchange = new RoundExchange(1, "127.0.0.1", "127.0.0.1", 0, false)) {
            ExchangeAddress address = exchange.address();
            ExchangeAddress forged = new ExchangeAddress(address.host(), address.port(), address.token() + 1);
            try (RoundClient stranger = RoundClient.connect(forged, 0, 0)) {
                Future<Optional<RoundAssignment>> next = tasks.submit(() -> stranger.next(() -> { }));
                Future<Integer> real = task(address, 0, 10);
                RoundExchange.RoundResults results = exchange.runRound(1, 1, 0, 1, 0, state(3f),
                        new CompletableFuture<Void>());
                assertEquals(4f, ReplicaResultAccess.state(results.byPartition()[0]).copyParameters()[0]);
                exchange.finishEpoch();
                assertEquals(1, real.get());
                IOException refused = assertThrows(java.util.concurrent.ExecutionException.class, next::get)
                        .getCause() instanceof IOException io ? io : null;
                assertTrue(refused != null && refused.getMessage().contains("lost the driver's round exchange"));
            }
            // Garbage is refused too, and the exchange keeps serving.
            try (Socket garbage = new Socket(address.host(), address.port());
                    DataOutputStream out = new DataOutputStream(garbage.getOutputStream())) {
                out.writeInt(12345);
                out.flush();
                assertEquals(-1, garbage.getInputStream().read());
            }
        }
    }

    @Test
    void tasksInTheDriversJvmJoinInProcessAlongsideTcpTasks() throws Exception {
        try (RoundExchange exchange = new RoundExchange(2, "127.0.0.1", "127.0.0.1", 0, true)) {
            CompletableFuture<Void> job = new CompletableFuture<>();
            Future<Integer> overTcp = task(exchange.address(), 1, 30);
            Future<Integer> inProcess = inProcessTask(exchange.address(), 0, 10);
            TrainingState s = state(5f);
            for (int round = 1; round <= 3; round++) {
                float start = s.copyParameters()[0];
                RoundExchange.RoundResults results = exchange.runRound(1, round, 0, 1, 0, s, job);
                assertEquals(start + 1, ReplicaResultAccess.state(results.byPartition()[0]).copyParameters()[0]);
                assertEquals(0, results.byPartition()[0].partition());
                assertEquals(start + 2, ReplicaResultAccess.state(results.byPartition()[1]).copyParameters()[0]);
                s = ReplicaResultAccess.state(results.byPartition()[0]);
            }
            assertEquals(8f, s.copyParameters()[0]);
            exchange.finishEpoch();
            assertEquals(3, inProcess.get());
            assertEquals(3, overTcp.get());
        }
    }

    @Test
    void aNewerInProcessAttemptReplacesTheOlderOneAndGetsTheRoundUnderWay() throws Exception {
        try (RoundExchange exchange = new RoundExchange(1, "127.0.0.1", "127.0.0.1", 0, true)) {
            CompletableFuture<Void> job = new CompletableFuture<>();
            InProcessTask older = RoundExchange.joinInProcess(exchange.address(), 0, 0).orElseThrow();
            Future<RoundExchange.RoundResults> round = tasks.submit(
                    () -> exchange.runRound(1, 1, 4, 2, 9, state(1f), job));
            RoundAssignment first = older.next(() -> { }).orElseThrow();
            assertEquals(1, first.round());
            assertEquals(4, first.firstBatch());
            // The stage restarts before the older attempt answers: the newer one is sent the same round.
            Future<Integer> newer = inProcessTask(exchange.address(), 0, 10);
            assertEquals(2f, ReplicaResultAccess.state(round.get().byPartition()[0]).copyParameters()[0]);
            IOException replaced = assertThrows(IOException.class, () -> older.next(() -> { }));
            assertTrue(replaced.getMessage().contains("a newer attempt of partition 0 joined"), replaced.getMessage());
            exchange.finishEpoch();
            assertEquals(1, newer.get());
            // After the last round a retried task is told the epoch is done.
            assertEquals(0, inProcessTask(exchange.address(), 0, 10).get());
        }
    }

    @Test
    void aWaitingInProcessTaskGivesUpWhenNoLongerWanted() throws Exception {
        try (RoundExchange exchange = new RoundExchange(1, "127.0.0.1", "127.0.0.1", 0, true);
                InProcessTask task = RoundExchange.joinInProcess(exchange.address(), 0, 0).orElseThrow()) {
            IllegalStateException killed = new IllegalStateException("task killed");
            assertSame(killed, assertThrows(IllegalStateException.class, () -> task.next(() -> {
                throw killed;
            })));
        }
    }

    @Test
    void tasksJoinInProcessOnlyWhenTheExchangeAllowsItAndIsOpen() throws Exception {
        try (RoundExchange overTcpOnly = new RoundExchange(1, "127.0.0.1", "127.0.0.1", 0, false)) {
            assertTrue(RoundExchange.joinInProcess(overTcpOnly.address(), 0, 0).isEmpty());
        }
        RoundExchange closed = new RoundExchange(2, "127.0.0.1", "127.0.0.1", 0, true);
        assertTrue(RoundExchange.joinInProcess(closed.address(), 2, 0).isEmpty(), "no partition 2 among 2 workers");
        closed.close();
        assertTrue(RoundExchange.joinInProcess(closed.address(), 0, 0).isEmpty());
    }
}
