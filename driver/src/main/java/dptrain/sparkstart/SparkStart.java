package dptrain.sparkstart;

import dptrain.driver.files.EnvironmentException;
import dptrain.driver.files.InputException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.network.util.JavaUtils;
import picocli.CommandLine;

/**
 * Starts Spark for a command and, for a cluster master, makes sure the cluster takes the
 * application before any work starts: the master answers, registers the application and starts at
 * least one executor for it, all within {@value #TIMEOUT_KEY} (default {@value #DEFAULT_TIMEOUT}).
 *
 * <p>Without this, Spark's SparkContext returns before any executor exists, a standalone client
 * retries an unreachable or refusing master for a minute before it stops the context, and the
 * command fails later with whatever touched the stopped context first (a NullPointerException
 * inside a read, "Cannot call methods on a stopped SparkContext"), or waits for executors forever.
 * Here each failure becomes one sentence naming the master and the likely cause, as an
 * {@link EnvironmentException}:
 * <ul>
 *   <li>a {@code spark://} master whose host is unknown, on whose port nothing listens, or that does
 *       not accept a TCP connection: checked before Spark starts, retrying refused connections until
 *       the timeout in case the master is just starting;</li>
 *   <li>a master that refuses the application's authentication, or that is no Spark master (a web
 *       UI's port, a worker's): from the failure Spark logs ({@link ClusterLog}), as soon as every
 *       master refused;</li>
 *   <li>a master that takes connections but never registers the application, and a cluster that
 *       starts no executor (no worker with enough free cores or memory): at the timeout.</li>
 * </ul>
 * With dynamic allocation and no initial executors, Spark starts executors only for a job, so only
 * the registration is awaited.
 */
public final class SparkStart {
    static final String TIMEOUT_KEY = "spark.dptrain.masterTimeout";
    static final String DEFAULT_TIMEOUT = "60s";
    private static final long POLL_MILLIS = 100;
    private static final long RECONNECT_MILLIS = 500;
    /** How long one TCP connection attempt may take; a refused one returns at once. */
    private static final long CONNECT_MILLIS = 2_000;

    private SparkStart() {
    }

    /**
     * {@value #TIMEOUT_KEY} from {@code conf}: a Spark duration above 0 ({@code 60s}, {@code 500ms},
     * {@code 2min}; a bare number counts seconds).
     */
    public static Duration timeout(SparkConf conf) {
        String value = conf.get(TIMEOUT_KEY, DEFAULT_TIMEOUT).trim();
        long millis;
        try {
            millis = JavaUtils.timeStringAsMs(value.matches("\\d+") ? value + "s" : value);
        } catch (NumberFormatException e) {
            millis = -1;
        }
        if (millis <= 0) {
            throw new InputException(TIMEOUT_KEY + "=" + value + ": expected a duration above 0, e.g. 60s, 500ms or "
                    + "5min (a bare number counts seconds)");
        }
        return Duration.ofMillis(millis);
    }

    /**
     * A started SparkContext; for a cluster master, one whose application the cluster has taken and
     * given an executor.
     *
     * @param log Spark's log while it starts, for the causes Spark reports only there
     * @throws CommandLine.ParameterException for a master URL Spark cannot parse
     * @throws EnvironmentException when the master refuses, does not answer or starts no executor in time
     */
    public static JavaSparkContext start(SparkConf conf, ClusterLog log, CommandLine cli) {
        Duration timeout = timeout(conf);
        String master = conf.get("spark.master", "local[*]");
        if (master.startsWith("local")) {
            try {
                return new JavaSparkContext(conf);
            } catch (RuntimeException e) {
                throw notAMasterUrl(e, master, cli);
            }
        }
        Instant deadline = Instant.now().plus(timeout);
        List<Address> masters = master.startsWith("spark://") ? standaloneMasters(master, cli) : List.of();
        if (!masters.isEmpty()) {
            awaitConnection(master, masters, timeout, deadline);
        }
        CompletableFuture<JavaSparkContext> starting = new CompletableFuture<>();
        Thread starter = new Thread(() -> {
            try {
                starting.complete(new JavaSparkContext(conf));
            } catch (Throwable e) {
                starting.completeExceptionally(e);
            }
        }, "dptrain-spark-start");
        starter.setDaemon(true);
        starter.start();
        boolean awaitExecutors = awaitsExecutors(conf);
        while (true) {
            if (starting.isDone()) {
                JavaSparkContext jsc;
                try {
                    jsc = starting.join();
                } catch (CompletionException e) {
                    throw startFailed(e.getCause(), conf, masters, log, cli);
                }
                if (jsc.sc().isStopped()) {
                    throw ClusterFailures.endedWhileStarting(conf, masters, log, null);
                }
                if (!awaitExecutors || !jsc.sc().getExecutorIds().isEmpty()) {
                    return jsc;
                }
                if (!Instant.now().isBefore(deadline)) {
                    EnvironmentException failure = ClusterFailures.noExecutor(master, jsc, timeout);
                    jsc.stop();
                    throw failure;
                }
            } else {
                Optional<String> refused = ClusterFailures.refusedByEveryMaster(master, masters, conf, log);
                if (refused.isPresent()) {
                    abandon(starting);
                    throw new EnvironmentException(refused.get());
                }
                if (!Instant.now().isBefore(deadline)) {
                    abandon(starting);
                    throw ClusterFailures.notRegistered(conf, masters, timeout, log);
                }
            }
            sleep(POLL_MILLIS);
        }
    }

    /** A host and port of a master. */
    record Address(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    /** The masters of a {@code spark://HOST:PORT[,HOST:PORT...]} URL, as Spark reads it. */
    static List<Address> standaloneMasters(String master, CommandLine cli) {
        List<Address> addresses = new ArrayList<>();
        for (String hostPort : master.substring("spark://".length()).split(",", -1)) {
            try {
                URI uri = new URI("spark://" + hostPort.trim());
                if (uri.getHost() == null || uri.getPort() <= 0 || !uri.getRawPath().isEmpty() || uri.getRawQuery() != null
                        || uri.getRawFragment() != null || uri.getUserInfo() != null) {
                    throw new URISyntaxException(hostPort, "not HOST:PORT");
                }
                addresses.add(new Address(uri.getHost(), uri.getPort()));
            } catch (URISyntaxException e) {
                throw notAMaster(master, cli);
            }
        }
        return addresses;
    }

    /**
     * Returns once a TCP connection to one of the masters succeeds. Refused connections and
     * connections that time out are retried until the deadline (a master may be starting); a host
     * that does not resolve fails at once.
     */
    private static void awaitConnection(String master, List<Address> masters, Duration timeout, Instant deadline) {
        Map<Address, String> why = new LinkedHashMap<>();
        Map<Address, InetAddress> resolved = new LinkedHashMap<>();
        boolean lookupUnanswered = false;
        while (true) {
            for (Address a : masters) {
                InetAddress ip = resolved.get(a);
                if (ip == null) {
                    Optional<InetAddress> found;
                    try {
                        found = resolve(a.host(), deadline);
                    } catch (UnknownHostException e) {
                        why.put(a, "the host '" + a.host() + "' is unknown");
                        continue;
                    }
                    if (found.isEmpty()) {
                        lookupUnanswered = true;
                        why.put(a, "the host '" + a.host() + "' could not be looked up (no answer from DNS)");
                        continue;
                    }
                    ip = found.get();
                    resolved.put(a, ip);
                }
                long left = Duration.between(Instant.now(), deadline).toMillis();
                int attempt = (int) Math.max(1, Math.min(left, CONNECT_MILLIS));
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress(ip, a.port()), attempt);
                    return;
                } catch (ConnectException e) {
                    why.put(a, String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("refused")
                            ? "nothing listens on " + a + " (connection refused)"
                            : a + " cannot be reached (" + e.getMessage() + ")");
                } catch (SocketTimeoutException e) {
                    if (attempt == CONNECT_MILLIS || !why.containsKey(a)) { // one cut short by the deadline tells less
                        why.put(a, a + " does not answer (no connection within " + ClusterFailures.seconds(Duration.ofMillis(attempt))
                                + ")");
                    }
                } catch (IOException e) {
                    why.put(a, a + " cannot be reached (" + e.getMessage() + ")");
                }
            }
            boolean allUnknown = resolved.isEmpty() && !lookupUnanswered;
            if (allUnknown || !Instant.now().isBefore(deadline)) {
                String causes = String.join("; ", why.values());
                String advice = allUnknown ? "check the master URL's host"
                        : "check the master URL and that the master is running";
                throw new EnvironmentException("the Spark master " + master + " cannot be reached"
                        + (allUnknown ? "" : " within " + ClusterFailures.seconds(timeout) + " (" + TIMEOUT_KEY + ")") + ": " + causes
                        + "; " + advice);
            }
            sleep(Math.min(RECONNECT_MILLIS, Math.max(1, Duration.between(Instant.now(), deadline).toMillis())));
        }
    }

    /**
     * {@code host}'s address, or empty when the lookup did not finish before the deadline.
     *
     * @throws UnknownHostException when {@code host} is unknown
     */
    private static Optional<InetAddress> resolve(String host, Instant deadline) throws UnknownHostException {
        CompletableFuture<InetAddress> lookup = new CompletableFuture<>();
        Thread resolver = new Thread(() -> {
            try {
                lookup.complete(InetAddress.getByName(host));
            } catch (UnknownHostException | RuntimeException e) {
                lookup.completeExceptionally(e);
            }
        }, "dptrain-master-lookup");
        resolver.setDaemon(true);
        resolver.start();
        try {
            long left = Math.max(1, Duration.between(Instant.now(), deadline).toMillis());
            return Optional.of(lookup.get(left, TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownHostException unknown) {
                throw unknown;
            }
            UnknownHostException unknown = new UnknownHostException(host + ": " + e.getCause());
            unknown.initCause(e.getCause());
            throw unknown;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** The context could not be built; for a cluster master, usually because Spark stopped it meanwhile. */
    private static RuntimeException startFailed(Throwable failure, SparkConf conf, List<Address> masters,
            ClusterLog log, CommandLine cli) {
        String master = conf.get("spark.master");
        if (failure instanceof Error error) {
            throw error;
        }
        RuntimeException e = failure instanceof RuntimeException runtime ? runtime : new IllegalStateException(failure);
        RuntimeException usage = notAMasterUrl(e, master, cli);
        if (usage != e) {
            return usage;
        }
        if (log.applicationEnded().isPresent() || stoppedContext(e)) {
            return ClusterFailures.endedWhileStarting(conf, masters, log, e);
        }
        return e;
    }

    private static boolean stoppedContext(Throwable e) {
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            String message = String.valueOf(t.getMessage());
            if (message.contains("stopped SparkContext") || message.contains("SparkContext was shut down")
                    || message.contains("SparkEnv")) {
                return true;
            }
        }
        return false;
    }

    /** Whether the application should have an executor before any job: not with dynamic allocation starting from none. */
    static boolean awaitsExecutors(SparkConf conf) {
        if (!conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
            return true;
        }
        int min = conf.getInt("spark.dynamicAllocation.minExecutors", 0);
        int initial = conf.getInt("spark.dynamicAllocation.initialExecutors", min);
        return Math.max(Math.max(min, initial), conf.getInt("spark.executor.instances", 0)) > 0;
    }

    /** Lets a context that is still starting finish on its own, and stops it then. */
    private static void abandon(CompletableFuture<JavaSparkContext> starting) {
        starting.thenAccept(JavaSparkContext::stop);
    }

    /** Spark's "Could not parse Master URL" as the usage error for --master, else {@code e} itself. */
    private static RuntimeException notAMasterUrl(RuntimeException e, String master, CommandLine cli) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("Master URL") || message.contains("master URL")) {
            return notAMaster(master, cli);
        }
        return e;
    }

    private static CommandLine.ParameterException notAMaster(String master, CommandLine cli) {
        return new CommandLine.ParameterException(cli, "--master: '" + master + "' is not a Spark master; expected "
                + "local[N], spark://HOST:PORT, yarn or k8s://HOST:PORT");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EnvironmentException("interrupted while waiting for the Spark master");
        }
    }
}
