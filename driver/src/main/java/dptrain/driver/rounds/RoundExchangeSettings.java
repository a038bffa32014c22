package dptrain.driver.rounds;

import dptrain.data.Minibatch;

import dptrain.driver.files.EnvironmentException;
import dptrain.driver.files.InputException;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.OptimizerStateScope;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the {@link RoundTransport} from the Spark configuration:
 * <ul>
 *   <li>{@value #MODE_KEY} = {@code auto} (default), {@code jobs}, {@code peers} or {@code socket}.
 *       {@code auto} runs an epoch's rounds in one job when the cluster has a task slot for every
 *       worker and neither dynamic allocation nor speculation is on (Spark speculates no barrier
 *       task), otherwise one job per round ({@code jobs}). In one job, the replicas average among
 *       themselves over Spark's network layer ({@code peers}, {@link PeerRounds}), except in local
 *       mode, where the driver averages states handed over in memory ({@code socket} in process).
 *       {@code socket} over TCP (the driver averaging, states over its own plain sockets) is refused
 *       when Spark authenticates or encrypts its traffic. A thread can override the mode for its
 *       runs with {@code sparkContext.setLocalProperty}.</li>
 *   <li>With {@code --optimizer-state local} {@code auto} never picks {@code socket} (its exchange
 *       sends every replica the same state), and {@code socket} is refused.</li>
 *   <li>{@value #PORT_KEY}: the driver's TCP port for the round exchange (default 0: any free port);
 *       set it where a firewall only opens known ports. Executors' ends of {@code peers} take any
 *       free port, as Spark's block managers do.</li>
 *   <li>{@value #IN_PROCESS_KEY} = {@code true} (default) or {@code false}: tasks running in the
 *       driver's JVM (local mode) take each round's state and hand back their results in memory
 *       instead of over TCP; {@code false} sends them over TCP as on a cluster (to measure that
 *       cost). Like the mode, also a thread's local property.</li>
 *   <li>{@value #SLOT_WAIT_KEY} (a Spark duration, default {@code 30s}): how long an epoch of one
 *       job waits for a task slot per worker when it starts short of them (an executor lost, its
 *       replacement not registered yet). In {@code auto} mode an epoch still short of slots then runs
 *       a job per round; in {@code socket} mode it starts its job anyway, and Spark waits.</li>
 * </ul>
 * The exchange listens on {@code spark.driver.bindAddress} (else {@code spark.driver.host}) and
 * executors reach it at {@code spark.driver.host}, as they reach the driver's RPC endpoint.
 */
public final class RoundExchangeSettings {
    public static final String MODE_KEY = "spark.dptrain.roundExchange";
    static final String PORT_KEY = "spark.dptrain.roundExchange.port";
    public static final String IN_PROCESS_KEY = "spark.dptrain.roundExchange.inProcess";
    static final String SLOT_WAIT_KEY = "spark.dptrain.roundExchange.slotWait";
    private static final Logger LOG = LoggerFactory.getLogger(RoundExchangeSettings.class);

    enum Mode { AUTO, JOBS, SOCKET, PEERS }

    private RoundExchangeSettings() {
    }

    /** The mode: this thread's Spark local property {@value #MODE_KEY} if set, else the configuration's. */
    static Mode mode(JavaSparkContext jsc) {
        String local = jsc.getLocalProperty(MODE_KEY);
        String value = (local != null ? local : jsc.getConf().get(MODE_KEY, "auto")).trim();
        try {
            return Mode.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InputException(MODE_KEY + "=" + value + ": expected auto, jobs, peers or socket");
        }
    }

    /** Whether tasks in the driver's JVM may exchange states in memory: {@value #IN_PROCESS_KEY}, local property first. */
    static boolean inProcess(JavaSparkContext jsc) {
        String local = jsc.getLocalProperty(IN_PROCESS_KEY);
        String value = (local != null ? local : jsc.getConf().get(IN_PROCESS_KEY, "true")).trim();
        if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(value);
        }
        throw new InputException(IN_PROCESS_KEY + "=" + value + ": expected true or false");
    }

    static java.time.Duration slotWait(SparkConf conf) {
        String value = conf.get(SLOT_WAIT_KEY, "30s").trim();
        try {
            long millis = conf.getTimeAsMs(SLOT_WAIT_KEY, "30s");
            if (millis >= 0) {
                return java.time.Duration.ofMillis(millis);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InputException(SLOT_WAIT_KEY + "=" + value + ": expected a duration such as 30s or 2min");
    }

    /** True when this Spark authenticates or encrypts its own traffic. */
    static boolean secured(SparkConf conf) {
        return !securityKeys(conf).isEmpty();
    }

    /** The security settings that are on, e.g. "spark.authenticate=true". */
    private static String securityKeys(SparkConf conf) {
        return java.util.stream.Stream.of("spark.authenticate", "spark.network.crypto.enabled", "spark.ssl.rpc.enabled",
                "spark.ssl.enabled").filter(key -> conf.getBoolean(key, false)).map(key -> key + "=true")
                .collect(java.util.stream.Collectors.joining(", "));
    }

    static int port(SparkConf conf) {
        String value = conf.get(PORT_KEY, "0").trim();
        try {
            int port = Integer.parseInt(value);
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InputException(PORT_KEY + "=" + value + ": expected a TCP port from 0 (any free port) to 65535");
    }

    /** The transport for a run of {@code workers} replicas with {@code roundsPerEpoch} rounds per epoch (for the log). */
    public static RoundTransport open(JavaSparkContext jsc, JavaRDD<Minibatch> batches, Broadcast<ModelSpec> spec,
            String jobId, int workers, int roundsPerEpoch, int epochs, BlockMomentum momentum, DeltaPrecision deltas,
            OptimizerStateScope optimizerState) {
        SparkConf conf = jsc.getConf();
        Mode mode = mode(jsc);
        int port = port(conf);
        java.time.Duration slotWait = slotWait(conf);
        boolean inProcess = inProcess(jsc);
        int slots = taskSlots(jsc);
        boolean dynamic = conf.getBoolean("spark.dynamicAllocation.enabled", false);
        // Spark never speculates a barrier stage's tasks: whoever turned speculation on wants stragglers copied.
        boolean speculation = conf.getBoolean("spark.speculation", false);
        if ((mode == Mode.SOCKET || mode == Mode.PEERS) && (slots < workers || dynamic)) {
            throw new InputException(MODE_KEY + "=" + mode.name().toLowerCase(Locale.ROOT) + " needs a task slot per "
                    + "worker at once and no dynamic allocation, but --workers is " + workers + ", the cluster has "
                    + slots + " task slots" + (dynamic ? " and spark.dynamicAllocation.enabled=true" : "") + "; use "
                    + MODE_KEY + "=jobs (or auto), or fewer workers");
        }
        boolean overTcp = !(jsc.isLocal() && inProcess);
        if (mode == Mode.SOCKET && overTcp && secured(conf)) {
            throw new InputException(MODE_KEY + "=socket sends states over its own unencrypted TCP connections, but "
                    + "this Spark authenticates or encrypts its traffic (" + securityKeys(conf) + "); use " + MODE_KEY
                    + "=peers (the default on a cluster), which moves states over Spark's own network layer with "
                    + "its authentication and encryption, or jobs");
        }
        boolean local = optimizerState == OptimizerStateScope.LOCAL;
        if (mode == Mode.SOCKET && local) {
            throw new InputException(MODE_KEY + "=socket sends every replica the same state each round, so it "
                    + "cannot keep each replica's own optimizer state (--optimizer-state local); use " + MODE_KEY
                    + "=peers, jobs or auto");
        }
        boolean oneJob = slots >= workers && !dynamic && !speculation;
        // socket's exchange sends one state to all: a local optimizer state takes a job per round instead.
        Mode chosen = mode != Mode.AUTO ? mode : !oneJob ? Mode.JOBS : overTcp ? Mode.PEERS
                : local ? Mode.JOBS : Mode.SOCKET;
        SlotWait waitForSlots = new SlotWait(slotWait, mode == Mode.AUTO);
        String host = conf.get("spark.driver.host", "localhost");
        String bind = conf.get("spark.driver.bindAddress", host);
        RoundTransport transport;
        try {
            transport = switch (chosen) {
                case PEERS -> new SlotWaitingRounds(new PeerRounds(jsc, batches, spec, jobId, epochs, workers, momentum,
                        deltas, optimizerState, bind, host, port), new JobPerRound(jsc, batches, spec, jobId, momentum,
                        deltas, optimizerState), waitForSlots, jsc, workers);
                case SOCKET -> new SlotWaitingRounds(new EpochJobRounds(jsc, batches, spec, jobId,
                        new RoundExchange(workers, bind, host, port, inProcess), epochs, momentum, deltas),
                        new JobPerRound(jsc, batches, spec, jobId, momentum, deltas, optimizerState), waitForSlots,
                        jsc, workers);
                default -> new JobPerRound(jsc, batches, spec, jobId, momentum, deltas, optimizerState);
            };
        } catch (IOException | RuntimeException e) {
            if (e instanceof InputException) {
                throw (InputException) e;
            }
            throw new EnvironmentException("cannot open the round exchange on " + bind + ":" + port + " (" + PORT_KEY
                    + "): " + e.getMessage(), e);
        }
        LOG.info("Averaging rounds: {} ({} workers, {} task slots, {} rounds per epoch, {}={})", transport.describe(),
                workers, slots, roundsPerEpoch, MODE_KEY, mode.name().toLowerCase(Locale.ROOT));
        return transport;
    }

    /**
     * Tasks the cluster can run at once, as Spark's barrier scheduling counts them (registered
     * executors' cores divided by {@code spark.task.cpus}); 0 when this Spark does not say.
     */
    static int taskSlots(JavaSparkContext jsc) {
        try {
            return jsc.sc().maxNumConcurrentTasks(jsc.sc().resourceProfileManager().defaultResourceProfile());
        } catch (LinkageError e) {
            return 0;
        }
    }
}
