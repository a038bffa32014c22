package dptrain.sparkstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class ExecutorMemoryCheckTest {
    private static final long BOOK_NETWORK = 407_050;
    private static final String SUBMIT_DEFAULTS = "-Dorg.bytedeco.javacpp.maxphysicalbytes=1792m "
            + "-Dorg.bytedeco.javacpp.maxbytes=768m -Dorg.bytedeco.javacpp.cachedir=/tmp/dptrain-javacpp";

    private static SparkConf conf(String master) {
        return new SparkConf(false).setMaster(master);
    }

    @Test
    void localModeNeedsNoCheckBecauseThereAreNoExecutors() {
        SparkConf conf = conf("local[2]").set("spark.executor.memoryOverhead", "1m");
        assertEquals(List.of(), ExecutorMemoryCheck.warnings(conf, 100_000_000));
    }

    @Test
    void dptrainSubmitDefaultsOnYarnFitTheBookNetwork() {
        SparkConf conf = conf("yarn").set("spark.executor.memoryOverhead", "768m")
                .set("spark.executor.extraJavaOptions", SUBMIT_DEFAULTS);
        assertEquals(List.of(), ExecutorMemoryCheck.warnings(conf, BOOK_NETWORK));
    }

    @Test
    void sparksDefaultOverheadIsTooSmallForFourReplicasOfATenMillionParameterModel() {
        SparkConf conf = conf("yarn").set("spark.executor.memory", "4g").set("spark.executor.cores", "4")
                .set("spark.executor.extraJavaOptions", "-Dorg.bytedeco.javacpp.maxphysicalbytes=4480m");
        List<String> warnings = ExecutorMemoryCheck.warnings(conf, 10_000_000);
        assertEquals(1, warnings.size(), warnings.toString());
        String w = warnings.get(0);
        // 160 + 5% of 4096 = 364 MiB for the JVM, 96 for ND4J, 4 x (306 + 16) for the replicas: 1748 MiB.
        assertTrue(w.startsWith("spark.executor.memoryOverhead is 409 MiB (Spark's default for a 4096 MiB executor),"
                + " but ND4J needs about 1748 MiB"), w);
        assertTrue(w.contains("1288 MiB for 4 concurrent replicas of this 10,000,000-parameter model"), w);
        assertTrue(w.contains("--conf spark.executor.memoryOverhead=1792m"), w);
    }

    @Test
    void javacppsDefaultLimitLetsYarnKillTheExecutorFirst() {
        SparkConf conf = conf("k8s://https://example:6443").set("spark.executor.memoryOverhead", "1g");
        List<String> warnings = ExecutorMemoryCheck.warnings(conf, BOOK_NETWORK);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).startsWith("ND4J's limit on an executor's resident memory, "
                + "org.bytedeco.javacpp.maxphysicalbytes, is 4096 MiB (javacpp's default: maxbytes + 3 x the heap), "
                + "so it does not hold an executor within the 2048 MiB"), warnings.get(0));
        assertTrue(warnings.get(0).contains("-Dorg.bytedeco.javacpp.maxphysicalbytes=2048m"), warnings.get(0));
    }

    @Test
    void aMaxPhysicalBytesBelowHeapPlusNd4jsNeedIsReportedOnEveryClusterManager() {
        SparkConf conf = conf("spark://127.0.0.1:7077")
                .set("spark.executor.extraJavaOptions", "-XX:+UseG1GC -Dorg.bytedeco.javacpp.maxPhysicalBytes=1g");
        List<String> warnings = ExecutorMemoryCheck.warnings(conf, BOOK_NETWORK);
        assertEquals(List.of("org.bytedeco.javacpp.maxphysicalbytes on the executors is 1024 MiB, less than their "
                + "1024 MiB heap plus the about 336 MiB ND4J needs outside it; ND4J will fail with \"Physical memory "
                + "usage is too high\". Raise it to at least 1408m in spark.executor.extraJavaOptions."), warnings);
    }

    @Test
    void standaloneClustersDoNotEnforceTheOverheadSoASmallOneIsNotReported() {
        SparkConf conf = conf("spark://127.0.0.1:7077").set("spark.executor.memoryOverhead", "64m");
        assertEquals(List.of(), ExecutorMemoryCheck.warnings(conf, BOOK_NETWORK));
    }

    @Test
    void anUnreadableSizeIsReportedInsteadOfStoppingTheRun() {
        SparkConf conf = conf("yarn").set("spark.executor.memoryOverhead", "lots");
        List<String> warnings = ExecutorMemoryCheck.warnings(conf, BOOK_NETWORK);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).startsWith("cannot check the executors' memory for ND4J: "), warnings.get(0));
    }
}
