package dptrain.peers;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.spark.SecurityManager;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.network.TransportContext;
import org.apache.spark.network.client.RpcResponseCallback;
import org.apache.spark.network.client.TransportClient;
import org.apache.spark.network.client.TransportClientBootstrap;
import org.apache.spark.network.client.TransportClientFactory;
import org.apache.spark.network.crypto.AuthClientBootstrap;
import org.apache.spark.network.crypto.AuthServerBootstrap;
import org.apache.spark.network.netty.SparkTransportConf;
import org.apache.spark.network.server.OneForOneStreamManager;
import org.apache.spark.network.server.RpcHandler;
import org.apache.spark.network.server.StreamManager;
import org.apache.spark.network.server.TransportServer;
import org.apache.spark.network.server.TransportServerBootstrap;
import org.apache.spark.network.util.TransportConf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * One end of averaging among the replicas: a server that takes {@link PeerMessage}s into a mailbox,
 * and clients that send them to other ends. Both are Spark's own network layer (the Netty transport
 * Spark's RPC and shuffle use), set up as Spark sets up its RPC: with {@code spark.authenticate} on,
 * every connection first proves it knows the application's secret (Spark's {@code AuthEngine}
 * handshake; the secret never travels), and with {@code spark.network.crypto.enabled} or
 * {@code spark.ssl.rpc.enabled} the bytes are encrypted. So the states move exactly as securely as
 * Spark's own traffic. A connection that fails the handshake is closed by Spark and logged here once.
 * A connection that has delivered no message within {@code spark.network.timeout} is closed, and
 * past {@value ConnectionCap#DEFAULT} such connections ({@code spark.dptrain.roundExchange.maxSilentConnections})
 * new ones are closed at once ({@link ConnectionCap}); a connection that has delivered stays open
 * however long it is quiet.
 *
 * <p>Messages are one-way: Spark keeps no outstanding request for them, so a quiet connection (the
 * driver checkpointing between rounds, a round of long compute) is never timed out.
 */
public final class PeerNetwork implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(PeerNetwork.class);
    /** How a failure to connect begins, so the driver can tell it from other task failures. */
    public static final String UNREACHABLE = "cannot reach the replicas' exchange at ";
    /** Netty threads per end: replicas run one thread each, and the states are a few MB. */
    private static final int THREADS = 2;

    private final long token;
    private final TransportContext context;
    private final TransportServer server;
    private final TransportClientFactory clients;
    private final String host;
    private final boolean encrypted;
    private final ConnectionCap cap;
    private final Map<String, TransportClient> connected = new ConcurrentHashMap<>();
    private final List<PeerMessage> mailbox = new ArrayList<>();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong bytesReceived = new AtomicLong();
    /** Bytes received per round (by sequence number), whenever they arrived; taken by {@link #takeBytesReceived}. */
    private final Map<Integer, Long> receivedByRound = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private PeerNetwork(SparkConf conf, SecurityManager security, String bindHost, String host, int port, long token) {
        this.token = token;
        this.host = host;
        int maxSilent = silentConnectionCap(conf);
        TransportConf transport = SparkTransportConf.fromSparkConf(conf, "rpc", THREADS, Option.empty(),
                Option.apply(security.getRpcSSLOptions()));
        this.cap = new ConnectionCap(maxSilent, transport.connectionTimeoutMs());
        // Not Spark's idle close (closeIdleConnections): it would drop a message sent as it closed.
        // ConnectionCap closes connections that never delivered one instead.
        this.context = new TransportContext(transport, new Mailbox(), false);
        List<TransportServerBootstrap> serverBootstraps = new ArrayList<>();
        List<TransportClientBootstrap> clientBootstraps = new ArrayList<>();
        serverBootstraps.add(cap);
        if (security.isAuthenticationEnabled()) {
            serverBootstraps.add(new AuthServerBootstrap(transport, security));
            clientBootstraps.add(new AuthClientBootstrap(transport, security.getSaslUser(), security));
        }
        this.server = context.createServer(bindHost, port, serverBootstraps);
        // Spark's AES encryption is negotiated by its authentication handshake, so it needs both.
        this.encrypted = security.isAuthenticationEnabled() && transport.encryptionEnabled()
                || context.sslEncryptionEnabled();
        this.clients = context.createClientFactory(clientBootstraps);
    }

    private static int silentConnectionCap(SparkConf conf) {
        String value = conf.get(ConnectionCap.KEY, String.valueOf(ConnectionCap.DEFAULT)).trim();
        try {
            int cap = Integer.parseInt(value);
            if (cap >= 1) {
                return cap;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(ConnectionCap.KEY + "=" + value + ": expected a whole number of at least 1");
    }

    /** Whether this end's connection to {@code toHost}:{@code toPort} is open (tests: idle connections stay). */
    boolean connectionOpen(String toHost, int toPort) {
        TransportClient client = connected.get(toHost + ":" + toPort);
        return client != null && client.isActive();
    }

    /** Connections to this end that have not delivered a message yet (see {@link ConnectionCap}). */
    int silentConnections() {
        return cap.silent();
    }

    /**
     * An end listening on {@code bindHost}:{@code port} (0: any free port), reached by others at {@code host}, with
     * the Spark configuration and security of this JVM's Spark (the driver's or the executor's).
     * Only messages carrying {@code token} are taken.
     */
    public static PeerNetwork open(String bindHost, String host, int port, long token) {
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            throw new IllegalStateException("averaging among the replicas needs a running Spark in this JVM");
        }
        return new PeerNetwork(env.conf(), env.securityManager(), bindHost, host, port, token);
    }

    /** An end with the given configuration and security (tests: a wrong secret). */
    public static PeerNetwork open(SparkConf conf, SecurityManager security, String host, long token) {
        return new PeerNetwork(conf, security, host, host, 0, token);
    }

    /** Whether connections must prove they know the application's secret ({@code spark.authenticate}). */
    public static boolean authenticated() {
        SparkEnv env = SparkEnv.get();
        return env != null && env.securityManager().isAuthenticationEnabled();
    }

    /** Where others reach this end. */
    public String host() {
        return host;
    }

    public int port() {
        return server.getPort();
    }

    /** True when the bytes of this end's connections are encrypted (Spark's AES or TLS). */
    public boolean encrypted() {
        return encrypted;
    }

    /** Sends {@code message} to the end at {@code host}:{@code port}, connecting first if needed. */
    public void send(String toHost, int toPort, PeerMessage message) throws IOException {
        ByteBuffer bytes = PeerMessage.encode(message);
        bytesSent.addAndGet(bytes.remaining());
        clientFor(toHost, toPort).send(bytes);
    }

    private TransportClient clientFor(String toHost, int toPort) throws IOException {
        String key = toHost + ":" + toPort;
        TransportClient client = connected.get(key);
        if (client != null && client.isActive()) {
            return client;
        }
        try {
            client = clients.createClient(toHost, toPort);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while connecting to " + key, e);
        } catch (IOException | RuntimeException e) {
            // Spark's handshake fails with a RuntimeException (e.g. the other end refused our secret).
            throw new IOException(UNREACHABLE + key + ": " + rootMessage(e), e);
        }
        connected.put(key, client);
        return client;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.toString() : root.getMessage();
    }

    /** Bytes of messages sent from this end so far. */
    public long bytesSent() {
        return bytesSent.get();
    }

    /** Bytes of messages taken into this end's mailbox so far. */
    public long bytesReceived() {
        return bytesReceived.get();
    }

    /**
     * Bytes of the messages of round {@code sequence} received so far, including those that arrived
     * before this end began the round (a faster peer's); forgets them.
     */
    public long takeBytesReceived(int sequence) {
        Long bytes = receivedByRound.remove(sequence);
        return bytes == null ? 0 : bytes;
    }

    /** Thrown by {@link #take}'s {@code stillWanted} to give up waiting. */
    @FunctionalInterface
    public interface StillWanted {
        void check() throws IOException;
    }

    /**
     * The first message in the mailbox that {@code wanted} accepts, removed; waits for one, calling
     * {@code stillWanted} every {@code pollMillis} (a killed task or a failed job throws from it).
     * Messages not wanted yet stay, in arrival order.
     */
    public <T extends PeerMessage> T take(Class<T> kind, Predicate<T> wanted, long pollMillis, StillWanted stillWanted)
            throws IOException {
        while (true) {
            synchronized (mailbox) {
                for (Iterator<PeerMessage> it = mailbox.iterator(); it.hasNext();) {
                    PeerMessage m = it.next();
                    if (kind.isInstance(m) && wanted.test(kind.cast(m))) {
                        it.remove();
                        return kind.cast(m);
                    }
                }
                if (closed) {
                    throw new IOException("this end of the replicas' exchange is closed");
                }
                try {
                    mailbox.wait(pollMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting for a " + kind.getSimpleName(), e);
                }
            }
            stillWanted.check();
        }
    }

    /** Drops every message {@code stale} accepts (e.g. those of an earlier stage attempt). */
    public void drop(Predicate<PeerMessage> stale) {
        synchronized (mailbox) {
            mailbox.removeIf(stale);
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (mailbox) {
            mailbox.notifyAll();
        }
        clients.close();
        server.close();
        context.close();
    }

    /** Takes messages off Spark's network threads into the mailbox; never blocks them. */
    private final class Mailbox extends RpcHandler {
        private final StreamManager streams = new OneForOneStreamManager();

        @Override
        public void receive(TransportClient client, ByteBuffer message) {
            cap.delivered(client.getChannel());
            int size = message.remaining();
            PeerMessage m;
            try {
                m = PeerMessage.decode(message);
            } catch (IOException | RuntimeException e) {
                LOG.warn("Refused a message of {} bytes from {}: {}", size, client.getSocketAddress(), e.toString());
                client.close();
                return;
            }
            if (m.envelope().token() != token) {
                LOG.warn("Refused a message from {}: it belongs to another run (wrong token)",
                        client.getSocketAddress());
                client.close();
                return;
            }
            bytesReceived.addAndGet(size);
            receivedByRound.merge(m.envelope().sequence(), (long) size, Long::sum);
            synchronized (mailbox) {
                mailbox.add(m);
                mailbox.notifyAll();
            }
        }

        @Override
        public void receive(TransportClient client, ByteBuffer message, RpcResponseCallback callback) {
            callback.onFailure(new UnsupportedOperationException("the replicas' exchange takes one-way messages only"));
        }

        @Override
        public StreamManager getStreamManager() {
            return streams;
        }

        @Override
        public void exceptionCaught(Throwable cause, TransportClient client) {
            if (!closed) {
                LOG.warn("Connection {} of the replicas' exchange failed: {}", client.getSocketAddress(),
                        cause.toString());
            }
        }
    }

}
