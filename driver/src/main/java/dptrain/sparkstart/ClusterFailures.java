package dptrain.sparkstart;

import dptrain.driver.files.EnvironmentException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The sentences of {@link SparkStart}'s failures: what Spark's failed attempts to reach the
 * master ({@link ClusterLog}) and the state of the application tell about the likely cause, each
 * naming the master URL.
 */
final class ClusterFailures {
    private ClusterFailures() {
    }

    /**
     * The sentence for a master that refused the application, once Spark logged a refusal that
     * holds for every master: authentication (a cluster's masters share its secret), or, from each
     * master, an answer that is not a Spark master's.
     */
    static Optional<String> refusedByEveryMaster(String master, List<SparkStart.Address> masters, SparkConf conf,
            ClusterLog log) {
        if (masters.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Refusal> notMasters = new LinkedHashMap<>();
        for (ClusterLog.Failure f : log.failures()) {
            Refusal r = Refusal.of(f.thrown());
            if (r.kind() == Refusal.Kind.AUTHENTICATION) {
                return Optional.of(refusalSentence(master, r, conf));
            }
            if (r.kind() == Refusal.Kind.NOT_A_MASTER && (f.address().isPresent() || masters.size() == 1)) {
                // While Spark starts, its only connections are to the masters.
                notMasters.put(f.address().orElse(masters.get(0).toString()), r);
            }
        }
        return notMasters.size() < masters.size() ? Optional.empty()
                : Optional.of(refusalSentence(master, notMasters.values().iterator().next(), conf));
    }

    /** The most telling of Spark's failures to reach the master: the newest of the most specific kind. */
    private static Optional<Refusal> mostTelling(ClusterLog log) {
        Refusal best = null;
        for (ClusterLog.Failure f : log.failures()) {
            Refusal r = Refusal.of(f.thrown());
            if (best == null || r.kind().ordinal() <= best.kind().ordinal()) {
                best = r;
            }
        }
        return Optional.ofNullable(best);
    }

    /** What a failed attempt to reach the master tells about it. */
    record Refusal(Kind kind, String detail) {
        private static final Pattern CLASS_PREFIX = Pattern.compile("^(?:(?:[a-z_][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*: )+");

        /** From most to least specific. */
        enum Kind { AUTHENTICATION, NOT_A_MASTER, REFUSED, UNKNOWN_HOST, OTHER }

        static Refusal of(Throwable thrown) {
            Kind kind = Kind.OTHER;
            String detail = thrown.getClass().getSimpleName();
            for (Throwable t = thrown; t != null && t.getCause() != t; t = t.getCause()) {
                String message = String.valueOf(t.getMessage());
                String lower = message.toLowerCase(Locale.ROOT);
                Kind k = t instanceof javax.security.sasl.SaslException || message.contains("SaslMessage")
                        || lower.contains("sasl") || lower.contains("authenticat") ? Kind.AUTHENTICATION
                        : message.contains("Cannot find endpoint") || lower.contains("too large frame")
                                || lower.contains("frame length") || lower.contains("invalid frame") ? Kind.NOT_A_MASTER
                        : t instanceof ConnectException || lower.contains("connection refused") ? Kind.REFUSED
                        : t instanceof UnknownHostException ? Kind.UNKNOWN_HOST : Kind.OTHER;
                kind = k.ordinal() < kind.ordinal() ? k : kind;
                if (t.getMessage() != null && !t.getMessage().isBlank()) {
                    // The innermost message says most; Spark's wrappers repeat the class names of the causes.
                    detail = CLASS_PREFIX.matcher(firstLine(t.getMessage())).replaceFirst("");
                }
            }
            return new Refusal(kind, detail);
        }
    }

    private static String refusalSentence(String master, Refusal refusal, SparkConf conf) {
        return switch (refusal.kind()) {
            case AUTHENTICATION -> conf.getBoolean("spark.authenticate", false)
                    ? "the Spark master " + master + " refused this application's authentication: its secret "
                            + "(spark.authenticate.secret) is not the cluster's, or the cluster does not use "
                            + "authentication; submit with the cluster's secret (dptrain-submit --cluster-dir DIR for a "
                            + "cluster started by deploy/local-cluster/start)"
                    : "the Spark master " + master + " refused this application: the cluster requires authentication "
                            + "and the application has no secret; submit with spark.authenticate=true and the cluster's "
                            + "spark.authenticate.secret (dptrain-submit --cluster-dir DIR for a cluster started by "
                            + "deploy/local-cluster/start)";
            case NOT_A_MASTER -> "the Spark master " + master + " does not answer as a Spark master (Spark says: "
                    + refusal.detail() + "); check the URL's port: a master listens on 7077 unless configured "
                    + "otherwise, and 8080 is its web UI";
            case REFUSED -> "the Spark master " + master + " cannot be reached: nothing listens on its port any more "
                    + "(Spark says: " + refusal.detail() + "); check that the master is running";
            case UNKNOWN_HOST -> "the Spark master " + master + " cannot be reached: its host is unknown (Spark says: "
                    + refusal.detail() + "); check the master URL's host";
            case OTHER -> "the Spark master " + master + " did not register the application (Spark says: "
                    + refusal.detail() + "); check the master URL and the master's log";
        };
    }

    /** The master took connections but had not registered the application by the deadline. */
    static EnvironmentException notRegistered(SparkConf conf, List<SparkStart.Address> masters, Duration timeout,
            ClusterLog log) {
        String master = conf.get("spark.master");
        if (masters.isEmpty()) {
            return new EnvironmentException("the cluster manager " + master + " did not start the application within "
                    + seconds(timeout) + " (" + SparkStart.TIMEOUT_KEY + "); check its UI or logs for the application, or raise "
                    + SparkStart.TIMEOUT_KEY + " if it is only slow");
        }
        Optional<Refusal> refusal = mostTelling(log);
        if (refusal.isPresent()) {
            // E.g. a master that went away after the connection check, or that answers with errors.
            return new EnvironmentException(refusalSentence(master, refusal.get(), conf));
        }
        return new EnvironmentException("the Spark master " + master + " did not register the application within "
                + seconds(timeout) + " (" + SparkStart.TIMEOUT_KEY + "): " + (masters.size() == 1 ? masters.get(0)
                        + " takes connections but does not answer" : "its hosts take connections but do not answer")
                + "; check that the URL names a Spark master of a compatible version, or raise " + SparkStart.TIMEOUT_KEY
                + " if it is only slow");
    }

    /** Spark stopped the context while it was starting: the cluster manager ended the application. */
    static EnvironmentException endedWhileStarting(SparkConf conf, List<SparkStart.Address> masters, ClusterLog log,
            Throwable cause) {
        String master = conf.get("spark.master");
        Optional<String> reason = log.applicationEnded();
        Optional<Refusal> refusal = masters.isEmpty() ? Optional.empty() : mostTelling(log);
        if (refusal.isPresent()) {
            return new EnvironmentException(refusalSentence(master, refusal.get(), conf), cause);
        }
        return new EnvironmentException((masters.isEmpty() ? "the cluster manager " : "the Spark master ") + master
                + " ended the application while it started" + reason.map(r -> " (" + r + ")").orElse("")
                + "; see the cluster manager's and the workers' logs for why", cause);
    }

    /** Registered, but no executor by the deadline: the cluster has no room for one. */
    static EnvironmentException noExecutor(String master, JavaSparkContext jsc, Duration timeout) {
        SparkConf conf = jsc.getConf();
        String registered = " registered the application (" + jsc.sc().applicationId() + ") but ";
        String within = " within " + seconds(timeout) + " (" + SparkStart.TIMEOUT_KEY + ")";
        String executorCores = conf.get("spark.executor.cores", "").trim();
        String asks = (executorCores.isEmpty() ? "at least 1 core" : executorCores + (executorCores.equals("1") ? " core"
                : " cores")) + " and " + jsc.sc().executorMemory() + " MiB; spark.executor.cores, spark.executor.memory";
        if (master.startsWith("spark://")) {
            String coresMax = conf.get("spark.cores.max", "").trim();
            if (!coresMax.isEmpty() && !executorCores.isEmpty() && parseInt(coresMax) < parseInt(executorCores)) {
                return new EnvironmentException("the Spark master " + master + registered + "started no executor for "
                        + "it" + within + ": spark.cores.max=" + coresMax + " is less than the " + executorCores
                        + " cores of one executor (spark.executor.cores); raise the one or lower the other");
            }
            return new EnvironmentException("the Spark master " + master + registered + "started no executor for it"
                    + within + ": no worker has the free cores and memory one executor asks for (" + asks + "), or "
                    + "other applications hold them; ask for less, add workers, or raise " + SparkStart.TIMEOUT_KEY + " to wait "
                    + "for them");
        }
        return new EnvironmentException("the cluster manager " + master + registered + "gave it no executor" + within
                + ": no node has room for one executor (" + asks + ", plus its memory overhead), or the executors fail "
                + "to start; see the cluster manager's UI or logs, ask for less, or raise " + SparkStart.TIMEOUT_KEY
                + " if the cluster is only slow");
    }

    static String seconds(Duration d) {
        long millis = d.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }

    private static int parseInt(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }
}
