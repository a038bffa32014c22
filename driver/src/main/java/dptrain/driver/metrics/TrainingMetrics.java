package dptrain.driver.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingProgress;
import dptrain.driver.rounds.RoundRecord;
import dptrain.driver.rounds.RoundTraffic;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.apache.spark.SparkEnv;
import org.apache.spark.metrics.MetricsSystem;
import org.apache.spark.metrics.source.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The figures of the run under way as a Spark metrics source, {@value #SOURCE_NAME}, in the
 * driver's metrics system: whatever sinks Spark is configured with (Prometheus servlet, JMX, CSV,
 * Graphite, ...) show them as {@code <application id>.driver.dptrain.<metric>}. Gauges hold the
 * last finished round's values; counters count from the run's start. Open one per run with
 * {@link #register} and close it when the run ends, which takes the source out again.
 *
 * <p>One source per SparkContext at a time: a second run while one is publishing (two threads
 * training in one application) is trained as usual but not published, and says so in the log.
 */
public final class TrainingMetrics implements Source, AutoCloseable {
    /** The source's name: the metrics' prefix after {@code <application id>.driver.}. */
    public static final String SOURCE_NAME = "dptrain";

    private static final Logger LOG = LoggerFactory.getLogger(TrainingMetrics.class);
    private static final Object REGISTRATION = new Object();

    private final MetricRegistry registry = new MetricRegistry();
    private final MetricsSystem system;
    private final boolean published;
    private boolean closed;
    private final Counter roundsDone = registry.counter("roundsCompleted");
    private final Counter epochsDone = registry.counter("epochsCompleted");
    private final Counter checkpoints = registry.counter("checkpoints");
    private final Counter rejectedReplicas = registry.counter("rejectedReplicas");
    // Written by the training thread, read by the sinks' threads.
    private volatile RoundRecord lastRound;
    private volatile RoundTraffic lastTraffic;

    TrainingMetrics(MetricsSystem system) {
        this.system = system;
        gauge("epoch", RoundRecord::epoch, 0);
        gauge("round", RoundRecord::round, 0);
        gauge("loss", RoundRecord::loss, Double.NaN);
        gauge("examplesPerSecond", RoundRecord::examplesPerSecond, 0.0);
        gauge("roundSeconds.total", RoundRecord::seconds, 0.0);
        gauge("roundSeconds.broadcast", RoundRecord::broadcastSeconds, 0.0);
        gauge("roundSeconds.compute", RoundRecord::computeSeconds, 0.0);
        gauge("roundSeconds.combine", RoundRecord::combineSeconds, 0.0);
        gauge("roundSeconds.job", RoundRecord::jobSeconds, 0.0);
        gauge("roundSeconds.update", RoundRecord::updateSeconds, 0.0);
        traffic("roundBytes.driverSent", RoundTraffic::driverSent);
        traffic("roundBytes.driverReceived", RoundTraffic::driverReceived);
        traffic("roundBytes.replicaSent", RoundTraffic::replicaSent);
        traffic("roundBytes.replicaReceived", RoundTraffic::replicaReceived);
        synchronized (REGISTRATION) {
            published = system.getSourcesByName(SOURCE_NAME).isEmpty();
            if (published) {
                system.registerSource(this);
            }
        }
        if (!published) {
            LOG.warn("Another training run in this SparkContext is publishing the '{}' metrics; this run's are "
                    + "not published", SOURCE_NAME);
        }
    }

    /**
     * A new source in the metrics system of the driver's SparkEnv, which must be running (a
     * SparkContext started and not stopped).
     */
    public static TrainingMetrics register() {
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            throw new IllegalStateException("training metrics need a running SparkContext on this driver, whose "
                    + "metrics system they go to; there is none (not started, or stopped)");
        }
        return new TrainingMetrics(env.metricsSystem());
    }

    /**
     * A listener that records the run's progress here, then hands every call on to {@code next}
     * (fold calls too, when {@code next} listens to folds).
     */
    public DistributedTrainer.FoldProgress recordingThen(TrainingProgress next) {
        return new RecordingProgress(this, next);
    }

    void roundEnded(RoundRecord record) {
        lastRound = record;
        roundsDone.inc();
    }

    /** Counted by the transport for a round; cleared for a round whose transport does not count. */
    void roundTraffic(RoundTraffic traffic) {
        lastTraffic = traffic;
    }

    void epochEnded() {
        epochsDone.inc();
    }

    void checkpointWritten() {
        checkpoints.inc();
    }

    void replicasRejected(int count) {
        rejectedReplicas.inc(count);
    }

    /** Whether this run's metrics are in the metrics system (false when another run's are). */
    public boolean published() {
        return published;
    }

    @Override
    public String sourceName() {
        return SOURCE_NAME;
    }

    @Override
    public MetricRegistry metricRegistry() {
        return registry;
    }

    /**
     * Takes the source out of the metrics system: a finished run publishes nothing. Only once, as
     * Spark removes a source's metrics by name, which by then may be another run's.
     */
    @Override
    public void close() {
        synchronized (REGISTRATION) {
            if (published && !closed) {
                system.removeSource(this);
            }
            closed = true;
        }
    }

    private void gauge(String name, Function<RoundRecord, Number> of, Number before) {
        registry.register(name, (Gauge<Number>) () -> {
            RoundRecord r = lastRound;
            return r == null ? before : of.apply(r);
        });
    }

    private void traffic(String name, ToLongFunction<RoundTraffic> of) {
        registry.register(name, (Gauge<Long>) () -> {
            RoundTraffic t = lastTraffic;
            return t == null ? 0L : of.applyAsLong(t);
        });
    }
}
