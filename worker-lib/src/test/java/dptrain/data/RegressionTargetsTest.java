package dptrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.spec.TargetEncoding;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Real-valued regression targets, from CSV columns and LibSVM's first token into minibatches. */
class RegressionTargetsTest {

    @Test
    void csvTargetsAreRealNumbersTakenFromTheirColumnsInTheGivenOrder() {
        CsvDecoder decoder = new CsvDecoder(new int[] {3, 0}, Targets.real(2), false, ',');
        Example example = decoder.decode("24.059, 1, 2, -0.5", "houses.csv", 1, -1);
        assertArrayEquals(new float[] {-0.5f, 24.059f}, example.targets());
        assertArrayEquals(new float[] {1f, 2f}, example.features());
        assertEquals(4, decoder.columnsFor(2));
    }

    @Test
    void aClassifiersFloatLabelStillGetsTheClassLabelMessage() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> new CsvDecoder().decode("24.059,1,2", "houses.csv", 1, -1));
        assertTrue(e.getMessage().contains("label '24.059' is not a whole number; expected an integer class label "
                + "0, 1, 2, ..."), e.getMessage());
    }

    @Test
    void aBadTargetNamesItsLineAndColumn() {
        CsvDecoder decoder = new CsvDecoder(new int[] {0}, Targets.real(1), false, ',');
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> decoder.decode("high,1,2", "houses.csv", 7, -1));
        assertEquals("houses.csv line 7, column 1: target 'high' is not a number; expected a real-valued "
                + "regression target", e.getMessage());
        DataFormatException nan = assertThrows(DataFormatException.class,
                () -> decoder.decode("NaN,1,2", "houses.csv", 8, -1));
        assertTrue(nan.getMessage().contains("target 'NaN' is not a finite number"), nan.getMessage());
    }

    @Test
    void csvLinesNeedEveryTargetColumn() {
        CsvDecoder decoder = new CsvDecoder(new int[] {0, 5}, Targets.real(2), false, ',');
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> decoder.decode("1,2,3", "houses.csv", 2, -1));
        assertTrue(e.getMessage().contains("no label column 6"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CsvDecoder(new int[] {0}, Targets.real(2), false, ','));
        assertThrows(IllegalArgumentException.class, () -> new CsvDecoder(new int[] {1, 1}, Targets.real(2), false,
                ','));
    }

    @Test
    void libsvmTargetsAreTheFirstTokenCommaSeparated() {
        LibSvmDecoder one = new LibSvmDecoder(3, Targets.real(1));
        assertArrayEquals(new float[] {-1.25f}, one.decode("-1.25 1:0.5 3:2", "h.libsvm", 1).targets());
        LibSvmDecoder two = new LibSvmDecoder(3, Targets.real(2));
        Example example = two.decode("3.5,0.25 2:1", "h.libsvm", 1);
        assertArrayEquals(new float[] {3.5f, 0.25f}, example.targets());
        assertArrayEquals(new float[] {0f, 1f, 0f}, example.features());
        DataFormatException e = assertThrows(DataFormatException.class, () -> two.decode("3.5 2:1", "h.libsvm", 4));
        assertEquals("h.libsvm line 4, column 1: '3.5' holds 1 target; expected 2 targets, comma-separated, for "
                + "the model's 2 output units", e.getMessage());
    }

    @Test
    void minibatchesCarryTheTargetsAsTheyAre() {
        MinibatchBuilder builder = new MinibatchBuilder(4, 2, 2, TargetEncoding.REAL, 1f);
        List<Example> examples = List.of(Example.regression(new float[] {1, 2}, new float[] {10.5f, -3f}),
                Example.regression(new float[] {3, 4}, new float[] {0.25f, 7f}),
                Example.unlabeled(new float[] {5, 6}));
        Minibatch batch = builder.batches(examples.iterator()).next();
        assertEquals(2, batch.targetCount());
        assertArrayEquals(new float[] {10.5f, -3f, 0.25f, 7f, 0f, 0f}, batch.targetsArray().data().asFloat());
        assertEquals(7f, batch.target(1, 1));
        assertNull(examples.get(2).targets(), "an unlabelled example has no targets; its row stays 0");
    }
}
