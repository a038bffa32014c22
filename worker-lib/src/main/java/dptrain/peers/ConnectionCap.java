package dptrain.peers;

import io.netty.channel.Channel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.network.server.RpcHandler;
import org.apache.spark.network.server.TransportServerBootstrap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cap on the connections to one end of the exchange that have not yet delivered a message: with
 * {@code spark.authenticate} on, those that have not proven they know the secret. Spark's transport
 * has no such cap of its own; Netty holds no thread for a silent connection, but each holds a
 * socket until Spark's idle timeout ({@code spark.network.timeout}) closes it, so a stranger opening
 * connections faster than that could exhaust the end's file descriptors. Past the cap a new
 * connection is closed at once, with one log line. A peer's connection delivers its first message
 * right after the handshake, so a run's own connections leave the count within milliseconds.
 *
 * <p>Installed as the first server bootstrap, so it sees every accepted connection before Spark's
 * authentication does.
 */
final class ConnectionCap implements TransportServerBootstrap {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionCap.class);
    /** The setting, and its default: far above the peers a replica talks to, far below a process's descriptors. */
    static final String KEY = "spark.dptrain.roundExchange.maxSilentConnections";
    static final int DEFAULT = 256;

    private final int cap;
    private final Set<Channel> silent = ConcurrentHashMap.newKeySet();

    ConnectionCap(int cap) {
        if (cap < 1) {
            throw new IllegalArgumentException(KEY + "=" + cap + ": expected at least 1");
        }
        this.cap = cap;
    }

    @Override
    public RpcHandler doBootstrap(Channel channel, RpcHandler rpcHandler) {
        if (silent.size() >= cap) {
            LOG.warn("Refused a connection from {}: {} connections to the replicas' exchange have not delivered a "
                    + "message yet ({}={})", channel.remoteAddress(), silent.size(), KEY, cap);
            channel.close();
            return rpcHandler;
        }
        silent.add(channel);
        channel.closeFuture().addListener(f -> silent.remove(channel));
        return rpcHandler;
    }

    /** The connection {@code channel} delivered a message (so it has authenticated, if that is on). */
    void delivered(Channel channel) {
        silent.remove(channel);
    }

    /** Connections open that have not delivered a message yet. */
    int silent() {
        return silent.size();
    }
}
