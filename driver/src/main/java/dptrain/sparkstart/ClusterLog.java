package dptrain.sparkstart;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/**
 * What Spark says about its cluster manager only in its log: why it could not register with a
 * standalone master ({@code Failed to connect to master HOST:PORT}, with the exception), and why
 * the cluster manager ended the application ({@code Application has been killed. Reason: …}). Later
 * these surface only as a stopped SparkContext, so this is where dptrain learns the cause.
 *
 * <p>An appender in log4j2, Spark's logging, sees the warnings and errors of Spark's standalone
 * client, RPC, network and cluster-scheduler loggers while this is open ({@code Log4jHook} says
 * where it goes). Where Spark logs through another backend, or a logger configured for exactly
 * those names hides warnings, it sees less or nothing, and the messages built from it are less
 * specific.
 */
public final class ClusterLog implements AutoCloseable {
    private static final int MAX_EVENTS = 500;
    private static final String MASTER_FAILURE = "Failed to connect to master ";
    private static final String KILLED = "Application has been killed. Reason: ";
    private static final Pattern NETWORK_ERROR = Pattern.compile("Could not connect to (\\S+): (.+)", Pattern.DOTALL);
    /** The loggers of Spark's standalone client, RPC and network layers. */
    private static final Pattern CONNECTIONS = Pattern.compile("org\\.apache\\.spark\\.(deploy\\.client|rpc|network)\\.");

    /** One log event of Spark's. */
    record Event(String logger, String message, Throwable thrown) {
    }

    /**
     * A failure Spark logged with its exception while talking to the cluster manager: a failed attempt to
     * register with the standalone master at {@code address} ({@code host:port}), or, with no address, a
     * connection that failed below it (e.g. its authentication, which Spark's network layer logs on its own).
     */
    record Failure(Optional<String> address, Throwable thrown) {
    }

    private final ConcurrentLinkedDeque<Event> events = new ConcurrentLinkedDeque<>();
    private final Log4jHook hook;

    private ClusterLog(boolean attach) {
        Log4jHook attached = null;
        if (attach) {
            try {
                attached = new Log4jHook(this::add);
            } catch (LinkageError | ClassCastException e) {
                // Spark logs through another backend than log4j2's core: nothing to watch.
            }
        }
        this.hook = attached;
    }

    /** Starts watching Spark's log. */
    public static ClusterLog watch() {
        return new ClusterLog(true);
    }

    /** A log that sees nothing, and one that is fed by hand (tests). */
    static ClusterLog detached() {
        return new ClusterLog(false);
    }

    void add(Event event) {
        events.addLast(event);
        while (events.size() > MAX_EVENTS) {
            events.pollFirst();
        }
    }

    private List<Event> events() {
        if (hook != null) {
            hook.attach(); // again, should log4j2 have been reconfigured since
        }
        return new ArrayList<>(events);
    }

    /** Spark's failures to reach the cluster manager, oldest first. */
    List<Failure> failures() {
        List<Failure> failures = new ArrayList<>();
        for (Event e : events()) {
            if (!CONNECTIONS.matcher(e.logger()).lookingAt()) {
                continue;
            }
            Matcher network = NETWORK_ERROR.matcher(e.message());
            if (e.thrown() == null && network.find()) {
                // The standalone client's "Could not connect to HOST:PORT: <exception>" carries it as text.
                failures.add(new Failure(Optional.of(network.group(1)), new IOException(network.group(2))));
            } else if (e.thrown() != null) {
                int at = e.message().indexOf(MASTER_FAILURE);
                failures.add(new Failure(at < 0 ? Optional.empty()
                        : Optional.of(e.message().substring(at + MASTER_FAILURE.length()).trim()), e.thrown()));
            }
        }
        return failures;
    }

    /**
     * Why the cluster manager ended the application, when Spark logged it: the standalone scheduler's
     * reason ("Master removed our application: KILLED", "All masters are unresponsive! Giving up."),
     * or YARN's "application has exited unexpectedly".
     */
    public Optional<String> applicationEnded() {
        Optional<String> reason = Optional.empty();
        for (Event e : events()) {
            if (!e.logger().endsWith("SchedulerBackend")) {
                continue;
            }
            int at = e.message().indexOf(KILLED);
            if (at >= 0) {
                reason = Optional.of(e.message().substring(at + KILLED.length()).trim());
            } else if (e.message().contains("exited unexpectedly")) {
                reason = Optional.of(e.message().trim());
            }
        }
        return reason;
    }

    @Override
    public void close() {
        if (hook != null) {
            hook.detach();
        }
    }

    /** The log4j2-specific part, in a class of its own so that ClusterLog loads without log4j2's core. */
    private static final class Log4jHook {
        /** The loggers whose warnings and errors tell about the cluster manager. */
        private static final List<String> WATCHED = List.of("org.apache.spark.deploy.client", "org.apache.spark.rpc",
                "org.apache.spark.network", "org.apache.spark.scheduler.cluster");

        private final LoggerContext context;
        private final AbstractAppender appender;
        private Configuration attachedTo;
        private final List<LoggerConfig> attached = new ArrayList<>();
        private final List<String> created = new ArrayList<>();

        Log4jHook(Consumer<Event> sink) {
            context = (LoggerContext) LogManager.getContext(false);
            appender = new AbstractAppender("dptrain-cluster-log", null, null, true, Property.EMPTY_ARRAY) {
                @Override
                public void append(LogEvent event) {
                    String logger = event.getLoggerName();
                    if (logger != null && logger.startsWith("org.apache.spark.")) {
                        sink.accept(new Event(logger, event.getMessage().getFormattedMessage(), event.getThrown()));
                    }
                }
            };
            appender.start();
            attach();
        }

        /**
         * Adds the appender where the watched loggers' events go: the nearest configured logger. Where
         * that one's level hides warnings (log4j2's default configuration says ERROR), a logger of
         * their own at WARN lets them through, into the log as well.
         */
        synchronized void attach() {
            Configuration current = context.getConfiguration();
            if (current == attachedTo) {
                return;
            }
            detachFrom(attachedTo);
            for (String name : WATCHED) {
                LoggerConfig target = current.getLoggerConfig(name);
                if (!target.getName().equals(name) && target.getLevel().isMoreSpecificThan(Level.ERROR)) {
                    target = new LoggerConfig(name, Level.WARN, true);
                    current.addLogger(name, target);
                    created.add(name);
                }
                target.addAppender(appender, Level.WARN, null);
                attached.add(target);
            }
            context.updateLoggers();
            attachedTo = current;
        }

        synchronized void detach() {
            detachFrom(attachedTo);
            attachedTo = null;
            appender.stop();
        }

        private void detachFrom(Configuration config) {
            if (config == null) {
                return;
            }
            for (LoggerConfig target : attached) {
                target.removeAppender(appender.getName());
            }
            for (String name : created) {
                config.removeLogger(name);
            }
            attached.clear();
            created.clear();
            context.updateLoggers();
        }
    }
}
