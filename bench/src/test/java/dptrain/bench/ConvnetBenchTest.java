package dptrain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The convnet rows' arithmetic and their refusals; the timings themselves are not tested. */
class ConvnetBenchTest {

    @Test
    void eachRowIsReportedAgainstSingleProcessDl4jAndAgainstIssue16sPyTorchFigure() {
        List<ConvnetBench.Row> rows = List.of(new ConvnetBench.Row("single", 6_400, new double[] {2.0}),
                new ConvnetBench.Row("replica", 6_400, new double[] {5.0, 4.0, 3.0}));
        String table = ConvnetBench.table(rows, 6_400, 3, 1.0, 2.0);
        assertTrue(table.contains("| single | 2.00 | 3,200 | 1.00× | 1.067× |"), table);
        // The median timed epoch, 4 s: 1,600 examples/s, half the single-process rate, 0.533 of PyTorch's 3,000.
        assertTrue(table.contains("| replica | 4.00 | 1,600 | 0.50× | 0.533× |"), table);
        assertTrue(table.contains("not measured in this run"), table);
        assertEquals(3_000, ConvnetBench.PYTORCH_EXAMPLES_PER_SECOND);
    }

    @Test
    void aSliceWithoutAFullMinibatchPerWorkerOrNoTimedEpochIsRefused() {
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> ConvnetBench.checkSize(127, 1));
        assertEquals("EXAMPLES: 127 is not allowed; expected a whole number from 128 (a minibatch of 64 for each of 2 "
                + "workers) to 60000", small.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConvnetBench.checkSize(6_400, 0));
        ConvnetBench.checkSize(128, 1);
    }
}
