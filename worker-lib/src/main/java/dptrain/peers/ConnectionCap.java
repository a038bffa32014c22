package dptrain.peers;

import io.netty.channel.Channel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.spark.network.server.RpcHandler;
import org.apache.spark.network.server.TransportServerBootstrap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read timeout and the cap on connections to one end of the exchange that have not yet
 * delivered a message: with {@code spark.authenticate} on, those that have not proven they know the
 * secret. A silent connection is closed once {@code spark.network.timeout} has passed, and past the
 * cap a new connection is closed at once, each with one log line: Spark's transport has no such cap
 * of its own, and Netty holds no thread for a silent connection but a socket each, so a stranger
 * opening connections fast could otherwise exhaust the end's file descriptors. A peer's connection
 * delivers its first message right after the handshake, so a run's own connections leave the count
 * within milliseconds, and from then on are never closed for being idle: Spark's one-way send
 * reports no failure, so a message written as an idle connection closed would be lost and its
 * round would wait for it forever.
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
    private final long timeoutMillis;
    private final Set<Channel> silent = ConcurrentHashMap.newKeySet();

    ConnectionCap(int cap, long timeoutMillis) {
        if (cap < 1) {
            throw new IllegalArgumentException(KEY + "=" + cap + ": expected at least 1");
        }
        this.cap = cap;
        this.timeoutMillis = timeoutMillis;
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
        channel.eventLoop().schedule(() -> {
            if (silent.contains(channel)) {
                LOG.warn("Closed a connection from {} to the replicas' exchange: it delivered no message within {} ms "
                        + "(spark.network.timeout)", channel.remoteAddress(), timeoutMillis);
                channel.close();
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
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
