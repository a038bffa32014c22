package dptrain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.spec.ModelSpec;
import java.nio.file.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

/** The figures the speed report is built from. */
class EngineSpeedTest {

    @Test
    void theBookNetworkCosts1point64MegaflopPerTrainingExample() {
        MultiLayerNetwork net = new MultiLayerNetwork(ModelSpec.read(Path.of("../src/examples/mnist-mlp.yaml"))
                .configuration());
        net.init();
        // Forward and weight gradients of both layers, input gradient of the second only.
        double expected = 2.0 * (784 * 512 + 512 * 10) * 2 + 2.0 * 512 * 10;
        assertEquals(expected, EngineSpeed.flopsPerExample(net));
        assertEquals(1.636e6, EngineSpeed.flopsPerExample(net), 1e3);
    }

    @Test
    void gemmPeakMeasuresAPositiveThroughputAndRejectsEmptyShapes() {
        double gflops = GemmPeak.gflops(16, 32, 8, 2);
        assertTrue(gflops > 0 && Double.isFinite(gflops), "GFLOP/s " + gflops);
        assertThrows(IllegalArgumentException.class, () -> GemmPeak.gflops(0, 32, 8, 2));
        assertThrows(IllegalArgumentException.class, () -> GemmPeak.gflops(16, 32, 8, 0));
    }
}
