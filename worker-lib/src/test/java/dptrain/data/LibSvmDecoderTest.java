package dptrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LibSvmDecoderTest {
    private final LibSvmDecoder decoder = new LibSvmDecoder(5);

    @Test
    void decodesSparseFeaturesIntoADenseVector() {
        Example example = decoder.decode("2 1:0.5\t4:-1  5:3e2", "train.svm", 1);

        assertEquals(2, example.label());
        assertArrayEquals(new float[] {0.5f, 0, 0, -1, 300}, example.features());
    }

    @Test
    void acceptsAWholeDecimalLabelAndNoFeatures() {
        Example example = decoder.decode("3.0", "train.svm", 1);

        assertEquals(3, example.label());
        assertArrayEquals(new float[5], example.features());
    }

    @Test
    void ignoresCommentsAndBlankLines() {
        assertArrayEquals(new float[] {0, 7, 0, 0, 0}, decoder.decode("1 2:7 # 3:9 is commented out", "s", 1)
                .features());
        assertNull(decoder.decode("# a comment line", "train.svm", 2));
        assertNull(decoder.decode("   ", "train.svm", 3));

        List<Example> examples = new ArrayList<>();
        decoder.read(new BufferedReader(new StringReader("# header comment\n1 1:1\n\n0 5:2\n")), "train.svm")
                .forEachRemaining(examples::add);
        assertEquals(List.of(new Example(new float[] {1, 0, 0, 0, 0}, 1), new Example(new float[] {0, 0, 0, 0, 2}, 0)),
                examples);
    }

    @Test
    void anIndexOutOfOrderNamesItsToken() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> decoder.decode("1 3:1 2:1", "train.svm", 12));

        assertEquals("train.svm line 12, column 3: '2:1' has index 2, lower than index 3 of the previous token"
                + " '3:1'; expected feature indices in strictly ascending order", e.getMessage());
    }

    @Test
    void aRepeatedIndexIsReported() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> decoder.decode("1 3:1 3:2", "train.svm", 12));

        assertEquals(3, e.column());
        assertTrue(e.getMessage().contains("repeats index 3"), e.getMessage());
    }

    @Test
    void anIndexBeyondNumFeaturesIsReported() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> decoder.decode("1 2:1 6:1", "train.svm", 4));

        assertEquals("train.svm line 4, column 3: in '6:1' the index 6 is beyond the 5 features configured;"
                + " expected an integer index from 1 to 5 before the ':'", e.getMessage());
    }

    @Test
    void indexZeroSuggestsAZeroBasedFile() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> decoder.decode("1 0:1", "train.svm", 4));

        assertTrue(e.getMessage().contains("LibSVM indices start at 1"), e.getMessage());
    }

    @Test
    void aTokenWithoutColonIsReported() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> decoder.decode("1 2:1 4", "train.svm", 9));

        assertEquals("train.svm line 9, column 3: '4' has no ':'; expected a feature written index:value",
                e.getMessage());
    }

    @Test
    void aBadValueIsReportedWithItsToken() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> decoder.decode("1 2:x", "train.svm", 9));

        assertEquals("train.svm line 9, column 2: in '2:x' the value 'x' is not a number; expected a numeric"
                + " feature value", e.getMessage());
        assertThrows(DataFormatException.class, () -> decoder.decode("1 2:nan", "train.svm", 9));
        assertThrows(DataFormatException.class, () -> decoder.decode("1 2:", "train.svm", 9));
        assertThrows(DataFormatException.class, () -> decoder.decode("1 a:1", "train.svm", 9));
    }

    @Test
    void aMinusOneLabelExplainsBinaryLabels() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> decoder.decode("-1 1:1", "train.svm", 2));

        assertTrue(e.getMessage().contains("-1/+1 must be mapped to 0/1"), e.getMessage());
        assertEquals(1, decoder.decode("+1 1:1", "train.svm", 2).label());
    }

    @Test
    void withoutLabelsEveryTokenIsAFeature() {
        LibSvmDecoder unlabeled = LibSvmDecoder.unlabeled(5);

        Example example = unlabeled.decode("1:0.5\t4:-1  5:3e2 # a comment", "new.svm", 1);

        assertArrayEquals(new float[] {0.5f, 0, 0, -1, 300}, example.features());
        assertEquals(Example.UNLABELED, example.label());
        assertArrayEquals(decoder.decode("2 1:0.5\t4:-1  5:3e2", "train.svm", 1).features(), example.features());
        assertNull(unlabeled.decode("  # nothing", "new.svm", 2));
    }

    @Test
    void withoutLabelsALineThatStartsWithALabelIsNamed() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> LibSvmDecoder.unlabeled(5).decode("2 1:0.5", "new.svm", 4));

        assertEquals("new.svm line 4, column 1: '2' has no ':'; expected a feature written index:value "
                + "(--no-label says the lines have no label; does this one start with one?)", e.getMessage());
    }

    @Test
    void withoutLabelsIndicesAreCheckedAsWithLabels() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> LibSvmDecoder.unlabeled(5).decode("3:1 2:1", "new.svm", 1));

        assertEquals("new.svm line 1, column 2: '2:1' has index 2, lower than index 3 of the previous token '3:1'; "
                + "expected feature indices in strictly ascending order", e.getMessage());
    }

    @Test
    void aLabelledLineWithoutItsLabelIsNamed() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> decoder.decode("1:0.5 3:1", "new.svm", 1));

        assertEquals("new.svm line 1, column 1: '1:0.5' is a feature, not a label; expected the line to start with "
                + "a whole-number class label (data without labels can only be predicted, with --no-label)",
                e.getMessage());
    }

    /**
     * Plain lines take a path without a string per token; a trailing comment sends the same line down the general
     * path. Both must give the same bits, for values of every plain shape and for lines that are not plain.
     */
    @Test
    void plainLinesDecodeToTheBitsOfTheGeneralPath() {
        java.util.Random random = new java.util.Random(3);
        LibSvmDecoder wide = new LibSvmDecoder(40);
        LibSvmDecoder unlabeled = LibSvmDecoder.unlabeled(40);
        for (int line = 0; line < 2000; line++) {
            StringBuilder features = new StringBuilder();
            for (int index = 1; index <= 40; index++) {
                if (random.nextInt(3) == 0) {
                    continue;
                }
                long mantissa = random.nextInt(random.nextBoolean() ? 10_000_000 : 1000);
                int decimals = random.nextInt(12);
                String digits = String.valueOf(mantissa);
                int point = digits.length() - decimals;
                String value = decimals == 0 || point <= 0 ? digits
                        : digits.substring(0, point) + "." + digits.substring(point);
                features.append(features.length() == 0 ? "" : " ").append(index).append(':')
                        .append(random.nextBoolean() ? "-" : "").append(value);
            }
            String labeled = random.nextInt(10) + (features.length() == 0 ? "" : " " + features);
            assertEquals(wide.decode(labeled + " # general", "f", 1), wide.decode(labeled, "f", 1), labeled);
            if (features.length() > 0) {
                assertEquals(unlabeled.decode(features + " #", "f", 1), unlabeled.decode(features.toString(), "f", 1),
                        features.toString());
            }
        }
        for (String notPlain : List.of("1 2:0.5 ", "1\t2:0.5", "3.0 2:-0", "1 2:1e3", "1 2:.5", "1 3:1 2:1", "+1 2:1",
                "1 2:12345678.9", "1 41:1", "1 0:1")) {
            String text = notPlain;
            Object general;
            try {
                general = wide.decode(text + " #", "f", 1);
            } catch (DataFormatException e) {
                general = e.getMessage();
            }
            Object plain;
            try {
                plain = wide.decode(text, "f", 1);
            } catch (DataFormatException e) {
                plain = e.getMessage();
            }
            assertEquals(general, plain, text);
        }
    }
}
