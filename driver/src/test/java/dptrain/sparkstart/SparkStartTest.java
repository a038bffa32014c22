package dptrain.sparkstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.cli.Dptrain;
import dptrain.driver.files.InputException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import javax.security.sasl.SaslException;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * The parts of {@link SparkStart} that need no cluster: its setting, master URLs, and what Spark's logged failures
 * tell, in the shapes Spark 4.2 logged them against the local standalone cluster (StandaloneClusterIT runs the
 * whole).
 */
class SparkStartTest {
    private static final String CLIENT_LOGGER = "org.apache.spark.deploy.client.StandaloneAppClient$ClientEndpoint";

    @Test
    void theTimeoutIsASparkDurationAboveZeroAndABareNumberCountsSeconds() {
        assertEquals(Duration.ofSeconds(60), SparkStart.timeout(new SparkConf(false)));
        assertEquals(Duration.ofSeconds(90), SparkStart.timeout(conf("90")));
        assertEquals(Duration.ofMillis(500), SparkStart.timeout(conf("500ms")));
        assertEquals(Duration.ofMinutes(2), SparkStart.timeout(conf(" 2min ")));
        for (String bad : List.of("soon", "0", "0s", "-5s", "", "1.5s")) {
            InputException e = assertThrows(InputException.class, () -> SparkStart.timeout(conf(bad)), bad);
            assertEquals("spark.dptrain.masterTimeout=" + bad.trim() + ": expected a duration above 0, e.g. 60s, 500ms "
                    + "or 5min (a bare number counts seconds)", e.getMessage());
        }
    }

    @Test
    void standaloneMasterUrlsNameOneOrMoreHostsWithTheirPorts() {
        CommandLine cli = new CommandLine(new Dptrain());
        assertEquals(List.of(new SparkStart.Address("127.0.0.1", 7077)),
                SparkStart.standaloneMasters("spark://127.0.0.1:7077", cli));
        assertEquals(List.of(new SparkStart.Address("m1", 7077), new SparkStart.Address("m2.example.com", 7078)),
                SparkStart.standaloneMasters("spark://m1:7077,m2.example.com:7078", cli));
        for (String bad : List.of("spark://127.0.0.1", "spark://:7077", "spark://h:7077/path", "spark://h:x", "spark://")) {
            CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
                    () -> SparkStart.standaloneMasters(bad, cli), bad);
            assertEquals("--master: '" + bad + "' is not a Spark master; expected local[N], spark://HOST:PORT, yarn or "
                    + "k8s://HOST:PORT", e.getMessage());
        }
    }

    @Test
    void executorsAreAwaitedUnlessDynamicAllocationStartsWithNone() {
        assertTrue(SparkStart.awaitsExecutors(new SparkConf(false)));
        SparkConf dynamic = new SparkConf(false).set("spark.dynamicAllocation.enabled", "true");
        assertFalse(SparkStart.awaitsExecutors(dynamic));
        assertTrue(SparkStart.awaitsExecutors(dynamic.clone().set("spark.dynamicAllocation.minExecutors", "1")));
        assertTrue(SparkStart.awaitsExecutors(dynamic.clone().set("spark.dynamicAllocation.initialExecutors", "2")));
        assertTrue(SparkStart.awaitsExecutors(dynamic.clone().set("spark.executor.instances", "2")));
    }

    @Test
    void spark4FailuresToReachAMasterAreToldApart() {
        // No secret, against a master with authentication: the master's answer to Spark's endpoint lookup.
        Throwable noSecret = new SparkException("Exception thrown in awaitResult: ", new RuntimeException(
                "java.lang.IllegalStateException: Expected SaslMessage, received something else (maybe your client does "
                        + "not have SASL enabled?)\n\tat org.apache.spark.network.sasl.SaslMessage.decode(SaslMessage.java:70)"));
        // A wrong secret: Spark's network layer logs the failed SASL handshake on its own.
        Throwable wrongSecret = new RuntimeException(new SaslException(
                "DIGEST-MD5: digest response format violation. Mismatched response."));
        // The master's web UI port, and a worker's RPC port.
        Throwable webUi = new IOException("java.lang.IllegalArgumentException: Too large frame: 5211883372140375593");
        Throwable worker = new SparkException("Exception thrown in awaitResult: ", new SparkException(
                "Cannot find endpoint: spark://Master@127.0.0.1:44513"));
        Throwable dropped = new SparkException("Exception thrown in awaitResult: ",
                new SparkException("Message is dropped because Outbox is stopped"));

        assertEquals(ClusterFailures.Refusal.Kind.AUTHENTICATION, ClusterFailures.Refusal.of(noSecret).kind());
        assertEquals(ClusterFailures.Refusal.Kind.AUTHENTICATION, ClusterFailures.Refusal.of(wrongSecret).kind());
        assertEquals(new ClusterFailures.Refusal(ClusterFailures.Refusal.Kind.NOT_A_MASTER,
                "Too large frame: 5211883372140375593"), ClusterFailures.Refusal.of(webUi));
        assertEquals(new ClusterFailures.Refusal(ClusterFailures.Refusal.Kind.NOT_A_MASTER,
                "Cannot find endpoint: spark://Master@127.0.0.1:44513"), ClusterFailures.Refusal.of(worker));
        assertEquals(new ClusterFailures.Refusal(ClusterFailures.Refusal.Kind.OTHER, "Message is dropped because Outbox is stopped"),
                ClusterFailures.Refusal.of(dropped));
    }

    @Test
    void theClusterLogSeesWhatSparkLogsAboutItsMastersWhileItIsOpen() {
        Throwable refusal = new SparkException("Exception thrown in awaitResult: ", new RuntimeException("refused"));
        try (ClusterLog log = ClusterLog.watch()) {
            LoggerFactory.getLogger(CLIENT_LOGGER).warn("Failed to connect to master 127.0.0.1:7077", refusal);
            LoggerFactory.getLogger(CLIENT_LOGGER).warn("Could not connect to 127.0.0.1:7078: "
                    + "java.lang.IllegalArgumentException: Too large frame: 5211883372140375593");
            LoggerFactory.getLogger("org.apache.spark.scheduler.cluster.StandaloneSchedulerBackend")
                    .error("Application has been killed. Reason: Master removed our application: KILLED");
            LoggerFactory.getLogger("some.other.Library").warn("Failed to connect to master 10.0.0.1:7077", refusal);

            List<ClusterLog.Failure> failures = log.failures();
            assertEquals(2, failures.size(), failures.toString());
            assertEquals("127.0.0.1:7077", failures.get(0).address().orElseThrow());
            assertEquals(refusal, failures.get(0).thrown());
            assertEquals("127.0.0.1:7078", failures.get(1).address().orElseThrow());
            assertEquals(ClusterFailures.Refusal.Kind.NOT_A_MASTER, ClusterFailures.Refusal.of(failures.get(1).thrown()).kind());
            assertEquals("Master removed our application: KILLED", log.applicationEnded().orElseThrow());

            log.close();
            LoggerFactory.getLogger(CLIENT_LOGGER).warn("Failed to connect to master 127.0.0.2:7077", refusal);
            assertEquals(2, log.failures().size(), "nothing is seen after close");
        }
    }

    private static SparkConf conf(String timeout) {
        return new SparkConf(false).set(SparkStart.TIMEOUT_KEY, timeout);
    }
}
