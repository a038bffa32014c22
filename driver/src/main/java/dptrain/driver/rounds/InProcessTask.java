package dptrain.driver.rounds;

import dptrain.exchange.RoundAssignment;
import dptrain.exchange.RoundProtocol;
import dptrain.replica.ReplicaResult;
import dptrain.replica.TrainingState;
import java.io.Closeable;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A training task's end of an in-process connection: what {@link dptrain.exchange.RoundClient}
 * is over TCP, with states and results passed as objects. Not thread-safe: the task's own thread
 * alternates {@link #next} and {@link #send}.
 */
final class InProcessTask implements Closeable {
    /** How often a waiting in-process task checks whether it is still wanted, as a TCP task does. */
    private static final long TASK_POLL_MILLIS = 500;

    private final RoundExchange exchange;
    private final ExchangeConnection.InProcess connection;
    private TrainingState start;

    InProcessTask(RoundExchange exchange, ExchangeConnection.InProcess connection) {
        this.exchange = exchange;
        this.connection = connection;
    }

    /**
     * Waits for the next assignment; empty when the epoch is done. While waiting it calls {@code
     * stillWanted} every {@value #TASK_POLL_MILLIS} ms, which throws to give up (a killed task).
     */
    Optional<RoundAssignment> next(Runnable stillWanted) throws IOException {
        while (true) {
            ExchangeConnection.InProcess.Message m;
            try {
                m = connection.inbox.poll(TASK_POLL_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stillWanted.run();
                throw new IOException("interrupted while waiting for the driver's next round", e);
            }
            if (m == null) {
                stillWanted.run();
            } else if (m.closed()) {
                throw new IOException("the driver's round exchange closed this task's connection (the exchange "
                        + "closed, or a newer attempt of partition " + connection.partition + " joined)");
            } else {
                start = m.start();
                return Optional.ofNullable(m.assignment());
            }
        }
    }

    /** The starting state of the assignment {@link #next} returned last. */
    TrainingState start() {
        return start;
    }

    /** Hands this partition's result of round {@code sequence} to the driver. */
    void send(int sequence, ReplicaResult result) {
        exchange.arrive(connection.partition,
                new RoundProtocol.Result(sequence, result.forPartition(connection.partition)));
    }

    @Override
    public void close() {
        connection.close();
    }
}
