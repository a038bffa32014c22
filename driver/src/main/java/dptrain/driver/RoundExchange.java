package dptrain.driver;

import dptrain.exchange.ExchangeAddress;
import dptrain.exchange.RoundAssignment;
import dptrain.exchange.RoundProtocol;
import dptrain.replica.ReplicaResult;
import dptrain.replica.TrainingState;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's end of the round exchange: a TCP server that long-lived training tasks (one per
 * partition, see {@link dptrain.exchange.RoundClient}) connect to. Each round the driver sends every
 * task the same assignment and waits for one result per partition.
 *
 * <p>A task that connects while a round is under way (a retried stage's task) is sent that round's
 * assignment at once; a newer connection for a partition replaces the older one. Only results for the
 * current round count, once per partition: replicas are deterministic, so any attempt's result for a
 * round is the same. Waiting ends with the job's own failure when the Spark job fails.
 */
final class RoundExchange implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(RoundExchange.class);
    private static final int BUFFER_BYTES = 1 << 20;
    private static final long POLL_MILLIS = 20;

    private final int workers;
    private final ServerSocket server;
    private final ExchangeAddress address;
    private final Thread acceptor;
    private final BlockingQueue<Arrival> arrivals = new LinkedBlockingQueue<>();
    private final Connection[] connections;
    private final ExecutorService senders;
    private volatile boolean closed;

    // The round under way, sent to every connection that has not had it yet; or, once the epoch's
    // rounds are done, the news that they are (for a task of a retried stage). Guarded by this.
    private RoundAssignment current;
    private byte[] currentState;
    private boolean epochDone;
    private int sequence;

    /** A result from one task. */
    private record Arrival(int partition, RoundProtocol.Result result) {
    }

    /**
     * Listens on {@code bindHost}:{@code port} (0: any free port); tasks reach it as {@code advertisedHost}.
     */
    RoundExchange(int workers, String bindHost, String advertisedHost, int port) throws IOException {
        this.workers = workers;
        this.connections = new Connection[workers];
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(bindHost), port), workers * 2);
        this.address = new ExchangeAddress(advertisedHost, server.getLocalPort(), new SecureRandom().nextLong());
        this.senders = Executors.newFixedThreadPool(workers, runnable -> {
            Thread t = new Thread(runnable, "dptrain-round-exchange-send");
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::acceptLoop, "dptrain-round-exchange-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    ExchangeAddress address() {
        return address;
    }

    /** The replicas' results of one round, in partition order, and where the driver's time went. */
    record RoundResults(ReplicaResult[] byPartition, double sendSeconds, double waitSeconds) {
    }

    /**
     * Sends a round to every task and waits for one result per partition. {@code job} is the Spark job
     * the tasks run in: if it fails, so does this call, with the job's error.
     */
    RoundResults runRound(int epoch, int round, int firstBatch, int count, long roundSeed,
            TrainingState start, Future<?> job) {
        long began = System.nanoTime();
        byte[] encoded = start.encode();
        Connection[] sendTo;
        RoundAssignment assignment;
        synchronized (this) {
            sequence++;
            assignment = new RoundAssignment(sequence, epoch, round, firstBatch, count, roundSeed, start);
            current = assignment;
            currentState = encoded;
            sendTo = connections.clone();
        }
        sendToAll(sendTo, assignment, encoded);
        long sent = System.nanoTime();
        ReplicaResult[] results = new ReplicaResult[workers];
        int received = 0;
        while (received < workers) {
            Arrival arrival;
            try {
                arrival = arrivals.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for round " + round + " of epoch " + epoch,
                        e);
            }
            if (arrival == null) {
                failIfEnded(job, epoch, round);
                continue;
            }
            if (arrival.result().sequence() == assignment.sequence() && results[arrival.partition()] == null) {
                results[arrival.partition()] = arrival.result().result();
                received++;
            }
        }
        return new RoundResults(results, (sent - began) / 1e9, (System.nanoTime() - sent) / 1e9);
    }

    /** Writes the round to every connection at once (each write is a few MB: in turn they would add up). */
    private void sendToAll(Connection[] sendTo, RoundAssignment assignment, byte[] encoded) {
        List<Future<?>> sends = new ArrayList<>();
        for (Connection c : sendTo) {
            if (c != null) {
                sends.add(senders.submit(() -> c.sendIfNew(assignment, encoded)));
            }
        }
        for (Future<?> send : sends) {
            try {
                send.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("sending round " + assignment.round() + " failed", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while sending round " + assignment.round(), e);
            }
        }
    }

    /** A new epoch's job is about to start: its tasks wait for the first round. */
    synchronized void beginEpoch() {
        current = null;
        currentState = null;
        epochDone = false;
    }

    /**
     * Tells every task the epoch is done; their job then ends. A task that connects after this (its
     * stage restarted after the last round) is told the same at once.
     */
    void finishEpoch() {
        Connection[] sendTo;
        synchronized (this) {
            current = null;
            currentState = null;
            epochDone = true;
            sendTo = connections.clone();
            Arrays.fill(connections, null);
        }
        for (Connection c : sendTo) {
            if (c != null) {
                c.sendDone();
            }
        }
    }

    private static void failIfEnded(Future<?> job, int epoch, int round) {
        if (!job.isDone()) {
            return;
        }
        try {
            job.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("the training job of epoch " + epoch + " failed: " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (CancellationException e) {
            throw new IllegalStateException("the training job of epoch " + epoch + " was cancelled", e);
        }
        throw new IllegalStateException("the training job of epoch " + epoch + " ended before round " + round
                + " had every replica's result");
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("Round exchange stopped accepting connections: {}", e.toString());
                }
                return;
            }
            Thread reader = new Thread(() -> serve(socket), "dptrain-round-exchange-" + socket.getPort());
            reader.setDaemon(true);
            reader.start();
        }
    }

    /** One connection's life: the hello, then its results until it closes. */
    private void serve(Socket socket) {
        Connection connection = null;
        try (socket) {
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), BUFFER_BYTES));
            RoundProtocol.Hello hello = RoundProtocol.readHello(in);
            if (hello.token() != address.token() || hello.partition() < 0 || hello.partition() >= workers) {
                LOG.warn("Round exchange refused a connection from {}: wrong token or partition {}",
                        socket.getRemoteSocketAddress(), hello.partition());
                return;
            }
            connection = new Connection(hello.partition(), socket);
            register(connection, hello.stageAttempt());
            while (!closed) {
                arrivals.add(new Arrival(hello.partition(), RoundProtocol.readResult(in)));
            }
        } catch (IOException e) {
            // The task ended, failed or was killed; a retried stage's task connects anew.
            if (!closed && connection != null && !(e instanceof EOFException)
                    && !(e instanceof SocketException)) {
                LOG.warn("Round exchange connection of partition {} broke: {}", connection.partition, e.toString());
            }
        }
    }

    private void register(Connection connection, int stageAttempt) {
        Connection replaced;
        RoundAssignment round;
        byte[] state;
        boolean done;
        synchronized (this) {
            replaced = connections[connection.partition];
            connections[connection.partition] = connection;
            round = current;
            state = currentState;
            done = epochDone;
        }
        LOG.debug("Partition {} (stage attempt {}) joined the round exchange", connection.partition, stageAttempt);
        if (replaced != null) {
            replaced.close();
        }
        if (round != null) {
            connection.sendIfNew(round, state);
        } else if (done) {
            connection.sendDone();
        }
    }

    @Override
    public void close() {
        closed = true;
        senders.shutdownNow();
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing the round exchange: {}", e.toString());
        }
        synchronized (this) {
            for (Connection c : connections) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }

    /** The driver's side of one task's connection; sends are serialized per connection. */
    private static final class Connection {
        private final int partition;
        private final Socket socket;
        private final DataOutputStream out;
        private int lastSent;

        Connection(int partition, Socket socket) throws IOException {
            this.partition = partition;
            this.socket = socket;
            this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), BUFFER_BYTES));
        }

        /** Sends {@code round} unless this connection already has it; a broken connection is left to its task's retry. */
        synchronized void sendIfNew(RoundAssignment round, byte[] state) {
            if (lastSent == round.sequence()) {
                return;
            }
            lastSent = round.sequence();
            try {
                RoundProtocol.writeAssignment(out, round, state);
            } catch (IOException e) {
                LOG.debug("sending round {} to partition {} failed: {}", round.round(), partition, e.toString());
            }
        }

        synchronized void sendDone() {
            try {
                RoundProtocol.writeDone(out);
            } catch (IOException e) {
                LOG.debug("telling partition {} the epoch is done failed: {}", partition, e.toString());
            }
        }

        void close() {
            try {
                socket.close();
            } catch (IOException e) {
                LOG.debug("closing partition {}'s connection: {}", partition, e.toString());
            }
        }
    }
}
