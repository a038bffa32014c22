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
        assertEquals(expected, EngineSpeed.flopsPerExample(net, 784));
        assertEquals(1.636e6, EngineSpeed.flopsPerExample(net, 784), 1e3);
    }

    @Test
    void theBookConvnetCosts16point4MegaflopPerTrainingExample() {
        MultiLayerNetwork net = new MultiLayerNetwork(ModelSpec.read(Path.of("../src/examples/mnist-convnet.yaml"))
                .configuration());
        net.init();
        // Each layer's weights times the positions it is applied at: 26x26, 11x11 and 3x3 for the convolutions.
        double conv1 = 2.0 * 32 * 9 * 26 * 26;
        double rest = 2.0 * (64 * 32 * 9 * 11 * 11 + 64 * 64 * 9 * 3 * 3 + 576 * 64 + 64 * 10);
        assertEquals(2 * conv1 + 3 * rest, EngineSpeed.flopsPerExample(net, 784));
        assertEquals(16.38e6, EngineSpeed.flopsPerExample(net, 784), 0.01e6);
    }

    @Test
    void gemmPeakMeasuresAPositiveThroughputAndRejectsEmptyShapes() {
        double gflops = GemmPeak.gflops(16, 32, 8, 2);
        assertTrue(gflops > 0 && Double.isFinite(gflops), "GFLOP/s " + gflops);
        assertThrows(IllegalArgumentException.class, () -> GemmPeak.gflops(0, 32, 8, 2));
        assertThrows(IllegalArgumentException.class, () -> GemmPeak.gflops(16, 32, 8, 0));
    }
}
