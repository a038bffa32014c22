package dptrain.driver.rounds;

import dptrain.driver.files.EnvironmentException;
import dptrain.exchange.ExchangeAddress;
import dptrain.exchange.RoundAssignment;
import dptrain.exchange.RoundClient;
import dptrain.exchange.RoundProtocol;
import dptrain.replica.ReplicaResult;
import dptrain.replica.TrainingState;
import dptrain.timing.Seconds;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.DataInputStream;
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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
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
 * <p>A task running in the driver's own JVM (local mode) can instead join {@linkplain #joinInProcess
 * in process}: it is handed the round's immutable state snapshot and hands back its result object,
 * with the same rounds, order and retries as over TCP but without encoding, copying through the
 * kernel and decoding 2 × the state per task per round.
 *
 * <p>A task that connects while a round is under way (a retried stage's task) is sent that round's
 * assignment at once; a newer connection for a partition replaces the older one. Only results for the
 * current round count, once per partition: replicas are deterministic, so any attempt's result for a
 * round is the same. Waiting ends with the job's own failure when the Spark job fails.
 */
final class RoundExchange implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(RoundExchange.class);
    /**
     * As large as the state's chunks (see TrainingState), so they bypass the buffer instead of being
     * copied through it.
     */
    static final int BUFFER_BYTES = 1 << 16;
    private static final long POLL_MILLIS = 20;

    private final int workers;
    private final ServerSocket server;
    private final ExchangeAddress address;
    private final Thread acceptor;
    private final BlockingQueue<Arrival> arrivals = new LinkedBlockingQueue<>();
    private final ExchangeConnection[] connections;
    private final ExecutorService senders;
    private final boolean inProcess;
    private volatile boolean closed;

    /** Open exchanges that tasks in this JVM may join in process, by token. */
    private static final Map<Long, RoundExchange> IN_THIS_JVM = new ConcurrentHashMap<>();

    // The round under way, sent to every connection that has not had it yet; or, once the epoch's
    // rounds are done, the news that they are (for a task of a retried stage). Guarded by this.
    private PendingRound current;
    private boolean epochDone;
    private int sequence;

    /** A result from one task. */
    private record Arrival(int partition, RoundProtocol.Result result) {
    }

    /**
     * Listens on {@code bindHost}:{@code port} (0: any free port); tasks reach it as {@code
     * advertisedHost}. With {@code inProcess}, tasks in this JVM may {@linkplain #joinInProcess join
     * in process}.
     */
    RoundExchange(int workers, String bindHost, String advertisedHost, int port, boolean inProcess)
            throws IOException {
        this.workers = workers;
        this.inProcess = inProcess;
        this.connections = new ExchangeConnection[workers];
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
        if (inProcess) {
            IN_THIS_JVM.put(address.token(), this);
        }
    }

    /** True when tasks in the driver's JVM exchange states in memory. */
    boolean inProcess() {
        return inProcess;
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
    RoundResults runRound(int epoch, int round, int firstBatch, int minibatchesPerRound, long roundSeed,
            TrainingState start, Future<?> job) {
        long began = System.nanoTime();
        ExchangeConnection[] sendTo;
        PendingRound pending;
        synchronized (this) {
            sequence++;
            pending = new PendingRound(new RoundAssignment(sequence, epoch, round, firstBatch, minibatchesPerRound, roundSeed), start);
            current = pending;
            sendTo = connections.clone();
        }
        RoundAssignment assignment = pending.assignment;
        sendToAll(sendTo, pending);
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
        return new RoundResults(results, Seconds.between(began, sent), Seconds.since(sent));
    }

    /**
     * Sends the round to every connection: in process at once, over TCP all at once from the sender
     * threads (each write is a few MB: in turn they would add up).
     */
    private void sendToAll(ExchangeConnection[] sendTo, PendingRound round) {
        List<Future<?>> sends = new ArrayList<>();
        for (ExchangeConnection c : sendTo) {
            if (c instanceof ExchangeConnection.InProcess) {
                c.sendIfNew(round);
            } else if (c != null) {
                sends.add(senders.submit(() -> c.sendIfNew(round)));
            }
        }
        for (Future<?> send : sends) {
            try {
                send.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("sending round " + round.assignment.round() + " failed", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while sending round " + round.assignment.round(), e);
            }
        }
    }

    /** A new epoch's job is about to start: its tasks wait for the first round. */
    synchronized void beginEpoch() {
        current = null;
        epochDone = false;
    }

    /**
     * Tells every task the epoch is done; their job then ends. A task that connects after this (its
     * stage restarted after the last round) is told the same at once.
     */
    void finishEpoch() {
        ExchangeConnection[] sendTo;
        synchronized (this) {
            current = null;
            epochDone = true;
            sendTo = connections.clone();
            Arrays.fill(connections, null);
        }
        for (ExchangeConnection c : sendTo) {
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
            unreachable(cause).ifPresent(why -> {
                throw new EnvironmentException("the executors " + why + "; open that port from the executors to "
                        + "the driver (spark.dptrain.roundExchange.port fixes it), or set "
                        + "spark.dptrain.roundExchange=jobs to send rounds as Spark jobs", cause);
            });
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

    /**
     * Why tasks could not connect ("cannot reach the driver's round exchange at HOST:PORT (…): reason"),
     * when that is what ended the job: Spark hands the task's failure back as text in the job's.
     */
    private static Optional<String> unreachable(Throwable failure) {
        // Keep the address and the reason; the hint in parentheses is replaced by the full advice.
        return TaskFailures.lineFrom(failure, RoundClient.UNREACHABLE)
                .map(line -> line.replaceFirst(" \\(set spark\\.dptrain\\.roundExchange=jobs[^)]*\\)", ""));
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
        ExchangeConnection connection = null;
        try (socket) {
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), BUFFER_BYTES));
            RoundProtocol.Hello hello = RoundProtocol.readHello(in);
            if (hello.token() != address.token() || hello.partition() < 0 || hello.partition() >= workers) {
                LOG.warn("Round exchange refused a connection from {}: wrong token or partition {}",
                        socket.getRemoteSocketAddress(), hello.partition());
                return;
            }
            connection = new ExchangeConnection.OverSocket(hello.partition(), socket);
            register(connection, hello.stageAttempt());
            while (!closed) {
                arrivals.add(new Arrival(hello.partition(), RoundProtocol.readResult(in)));
            }
        } catch (IOException e) {
            // The task ended, failed or was killed; a retried stage's task connects anew.
            if (!closed && connection != null && !(e instanceof EOFException)
                    && !(e instanceof SocketException)) {
                LOG.warn("Round exchange connection of partition {} broke: {}", connection.partition(), e.toString());
            }
        }
    }

    private void register(ExchangeConnection connection, int stageAttempt) {
        ExchangeConnection replaced;
        PendingRound round;
        boolean done;
        synchronized (this) {
            replaced = connections[connection.partition()];
            connections[connection.partition()] = connection;
            round = current;
            done = epochDone;
        }
        LOG.debug("Partition {} (stage attempt {}) joined the round exchange{}", connection.partition(), stageAttempt,
                connection instanceof ExchangeConnection.InProcess ? " in process" : "");
        if (replaced != null) {
            replaced.close();
        }
        if (round != null) {
            connection.sendIfNew(round);
        } else if (done) {
            connection.sendDone();
        }
    }

    /**
     * Joins the exchange at {@code address} in process, as partition {@code partition} of stage
     * attempt {@code stageAttempt}: possible for a task in the driver's JVM when the exchange allows it
     * (see {@link RoundExchangeSettings}); empty otherwise (the task connects over TCP).
     */
    static Optional<InProcessTask> joinInProcess(ExchangeAddress address, int partition, int stageAttempt) {
        RoundExchange exchange = IN_THIS_JVM.get(address.token());
        if (exchange == null || exchange.closed || partition < 0 || partition >= exchange.workers) {
            return Optional.empty();
        }
        ExchangeConnection.InProcess connection = new ExchangeConnection.InProcess(partition);
        exchange.register(connection, stageAttempt);
        return Optional.of(new InProcessTask(exchange, connection));
    }

    /** Takes a result handed over by a task in this JVM. */
    void arrive(int partition, RoundProtocol.Result result) {
        arrivals.add(new Arrival(partition, result));
    }

    @Override
    public void close() {
        closed = true;
        IN_THIS_JVM.remove(address.token(), this);
        senders.shutdownNow();
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing the round exchange: {}", e.toString());
        }
        synchronized (this) {
            for (ExchangeConnection c : connections) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }
}
