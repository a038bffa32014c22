package dptrain.driver.rounds;

import dptrain.exchange.RoundAssignment;
import dptrain.exchange.RoundProtocol;
import dptrain.replica.TrainingState;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The driver's side of one task's connection. */
interface ExchangeConnection {
    int partition();

    /**
     * Sends {@code round} unless this connection already has it; a broken connection is left to its
     * task's retry.
     */
    void sendIfNew(PendingRound round);

    void sendDone();

    void close();

    /** A task's TCP connection; sends are serialized per connection. */
    final class OverSocket implements ExchangeConnection {
        private static final Logger LOG = LoggerFactory.getLogger(OverSocket.class);
        private final int partition;
        private final Socket socket;
        private final DataOutputStream out;
        private int lastSent;

        OverSocket(int partition, Socket socket) throws IOException {
            this.partition = partition;
            this.socket = socket;
            this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), RoundExchange.BUFFER_BYTES));
        }

        @Override
        public int partition() {
            return partition;
        }

        @Override
        public synchronized void sendIfNew(PendingRound round) {
            if (lastSent == round.assignment.sequence()) {
                return;
            }
            lastSent = round.assignment.sequence();
            try {
                RoundProtocol.writeAssignment(out, round.assignment, round.encoded());
            } catch (IOException e) {
                LOG.debug("sending round {} to partition {} failed: {}", round.assignment.round(), partition,
                        e.toString());
            }
        }

        @Override
        public synchronized void sendDone() {
            try {
                RoundProtocol.writeDone(out);
            } catch (IOException e) {
                LOG.debug("telling partition {} the epoch is done failed: {}", partition, e.toString());
            }
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException e) {
                LOG.debug("closing partition {}'s connection: {}", partition, e.toString());
            }
        }
    }

    /** A task in the driver's JVM: its rounds wait in a queue, their states as immutable snapshots. */
    final class InProcess implements ExchangeConnection {
        /** What a task is told: a round, or (start null) that the epoch is done or the connection closed. */
        record Message(RoundAssignment assignment, TrainingState start, boolean closed) {
        }

        final int partition;
        final BlockingQueue<Message> inbox = new LinkedBlockingQueue<>();
        private int lastSent;
        private boolean closed;

        InProcess(int partition) {
            this.partition = partition;
        }

        @Override
        public int partition() {
            return partition;
        }

        @Override
        public synchronized void sendIfNew(PendingRound round) {
            if (closed || lastSent == round.assignment.sequence()) {
                return;
            }
            lastSent = round.assignment.sequence();
            inbox.add(new Message(round.assignment, round.start, false));
        }

        @Override
        public synchronized void sendDone() {
            if (!closed) {
                inbox.add(new Message(null, null, false));
            }
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                inbox.add(new Message(null, null, true));
            }
        }
    }
}
