package dptrain.driver.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingProgress;
import dptrain.driver.checkpoint.Checkpointing;
import dptrain.driver.input.DataInput;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.RoundRecord;
import dptrain.driver.run.TrainingRun;
import dptrain.spec.ModelSpec;
import dptrain.testing.FashionMnist;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training run's metrics, read as a monitoring system reads them: over HTTP from the driver's
 * Prometheus endpoint, configured only through Spark's own settings.
 */
class PrometheusMetricsTest {
    private static final String PATH = "/metrics/prometheus";
    private static final List<String> METRICS = List.of("epoch", "round", "loss", "examplesPerSecond",
            "roundSeconds_total", "roundSeconds_broadcast", "roundSeconds_compute", "roundSeconds_combine",
            "roundSeconds_job", "roundSeconds_update", "roundBytes_driverSent", "roundBytes_driverReceived",
            "roundBytes_replicaSent", "roundBytes_replicaReceived", "roundsCompleted", "epochsCompleted",
            "checkpoints", "rejectedReplicas");

    @TempDir
    static Path dir;
    private static JavaSparkContext jsc;
    private static Path train;

    @BeforeAll
    static void start() throws IOException {
        train = FashionMnist.writeSlice(dir, "train", "train", 0, 512);
        SparkConf conf = new SparkConf()
                .setMaster("local[2]")
                .setAppName("dptrain-metrics-test")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.ui.enabled", "true")
                .set("spark.ui.port", "0")
                .set("spark.ui.prometheus.enabled", "true")
                .set("spark.metrics.conf.*.sink.prometheusServlet.class",
                        "org.apache.spark.metrics.sink.PrometheusServlet")
                .set("spark.metrics.conf.*.sink.prometheusServlet.path", PATH)
                // The replicas average among themselves, so the transport counts each round's bytes.
                .set("spark.dptrain.roundExchange", "peers");
        jsc = new JavaSparkContext(conf);
        jsc.setLogLevel("WARN");
    }

    @AfterAll
    static void stop() {
        jsc.close();
    }

    @Test
    void theRunsFiguresAreOnTheDriversPrometheusEndpointAndMoveOnFromRoundToRound() throws IOException {
        // Jetty answers the path without its final slash with a redirect to it.
        String url = jsc.sc().uiWebUrl().get() + PATH + "/";
        ModelSpec spec = ModelSpec.read(Path.of("../src/examples/mnist-mlp.yaml"));
        String out = dir.resolve("out").toString();
        // 256 examples per replica in minibatches of 32 (a global 64), averaged every 2: 4 rounds an epoch.
        TrainingConfig config = TrainingConfig.builder(spec, DataInput.idx(train.toString()))
                .epochs(2).batchSize(64).workers(2).averaging(AveragingSchedule.everyMinibatches(2))
                .output(out).checkpointing(Checkpointing.under(out, 0, 3, Checkpointing.Resume.IF_PRESENT)).build();
        Map<String, Map<String, Double>> scrapes = new TreeMap<>();
        new TrainingRun(jsc).train(config, new TrainingProgress() {
            @Override
            public void roundEnded(RoundRecord record) {
                // The run's own listener hears of a round after the metrics have it.
                if (record.epoch() == 1 && record.round() == 1 || record.epoch() == 2 && record.round() == 3) {
                    scrapes.put("epoch " + record.epoch() + " round " + record.round(), scrape(url));
                }
            }
        });
        Map<String, Double> first = scrapes.get("epoch 1 round 1");
        Map<String, Double> later = scrapes.get("epoch 2 round 3");
        for (String metric : METRICS) {
            assertTrue(first.containsKey(metric) && later.containsKey(metric), "no dptrain metric " + metric + " in "
                    + url + "; its dptrain metrics were " + first.keySet());
        }
        String[] positions = {"epoch", "round", "roundsCompleted", "epochsCompleted", "checkpoints"};
        assertEquals(Map.of("epoch", 1.0, "round", 1.0, "roundsCompleted", 1.0, "epochsCompleted", 0.0,
                "checkpoints", 0.0), pick(first, positions));
        assertEquals(Map.of("epoch", 2.0, "round", 3.0, "roundsCompleted", 7.0, "epochsCompleted", 1.0,
                "checkpoints", 1.0), pick(later, positions), "a checkpoint an epoch: one at the end of epoch 1");
        assertEquals(0.0, later.get("rejectedReplicas"));
        for (Map<String, Double> scrape : List.of(first, later)) {
            assertTrue(scrape.get("loss") > 0 && scrape.get("loss") < 10, "loss " + scrape.get("loss"));
            assertTrue(scrape.get("examplesPerSecond") > 0, "examples/s " + scrape.get("examplesPerSecond"));
            assertTrue(scrape.get("roundSeconds_compute") > 0, "compute " + scrape.get("roundSeconds_compute"));
            assertTrue(scrape.get("roundSeconds_total") >= scrape.get("roundSeconds_compute"), scrape.toString());
            assertTrue(scrape.get("roundBytes_driverSent") > 0, "the driver's orders: " + scrape);
            assertTrue(scrape.get("roundBytes_replicaSent") > 1_000_000, "with 2 replicas, each sends the state's "
                    + "size a round (parameters and RMSprop's state, 3.2 MB for the book's network): " + scrape);
        }
        assertNotEquals(first.get("loss"), later.get("loss"), "the loss moved on");
        assertTrue(SparkEnv.get().metricsSystem().getSourcesByName(TrainingMetrics.SOURCE_NAME).isEmpty(),
                "the source is taken out when the run ends");
        assertEquals(Map.of(), scrape(url), "nothing of dptrain's is published after the run");
    }

    private static Map<String, Double> pick(Map<String, Double> scrape, String... names) {
        Map<String, Double> picked = new TreeMap<>();
        for (String name : names) {
            picked.put(name, scrape.get(name));
        }
        return picked;
    }

    /**
     * The dptrain metrics of one scrape, by name after the source's ({@code epoch},
     * {@code roundSeconds_compute}, ...): Spark writes a gauge as
     * {@code metrics_<app id>_driver_dptrain_<name>_Value{type="gauges"} <value>} (and, for a number,
     * the same again as {@code _Number}) and a counter with {@code _Count{type="counters"}}.
     */
    private static Map<String, Double> scrape(String url) {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), url + " answered " + response.body());
            Map<String, Double> metrics = new TreeMap<>();
            String marker = "_driver_" + TrainingMetrics.SOURCE_NAME + "_";
            for (String line : response.body().split("\n")) {
                int at = line.indexOf(marker);
                int labels = line.indexOf('{');
                boolean repeat = labels > 0 && line.substring(0, labels).endsWith("_Number");
                if (line.startsWith("#") || at < 0 || labels < at || repeat) {
                    continue;
                }
                String name = line.substring(at + marker.length(), labels).replaceAll("_(Value|Count)$", "");
                metrics.put(name, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
            }
            return metrics;
        } catch (IOException e) {
            throw new UncheckedIOException(url, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
