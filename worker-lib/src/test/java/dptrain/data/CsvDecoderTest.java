package dptrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CsvDecoderTest {
    private final CsvDecoder comma = new CsvDecoder();

    @Test
    void decodesTheLabelAndFeaturesTrimmingSpacesAndQuotes() {
        Example example = comma.decode(" 3, 0.5 ,\"1.0\", -2e-1,7", "train.csv", 2, -1);

        assertEquals(3, example.label());
        assertArrayEquals(new float[] {0.5f, 1.0f, -0.2f, 7f}, example.features());
    }

    @Test
    void blankLinesHoldNoExample() {
        assertNull(comma.decode("", "train.csv", 4, 3));
        assertNull(comma.decode("  \t", "train.csv", 4, 3));
    }

    @Test
    void takesTheLabelFromAnotherColumn() {
        Example example = new CsvDecoder(2, false, ',').decode("0.1,0.2,4,0.3", "train.csv", 1, -1);

        assertEquals(4, example.label());
        assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f}, example.features());
    }

    @Test
    void readSkipsTheHeaderAndBlankLines() {
        String file = "\uFEFFlabel;a;b\n1;2;3\n\n0;4.5;\"6\"\r\n";

        List<Example> examples = readAll(new CsvDecoder(0, true, ';'), file);

        assertEquals(List.of(new Example(new float[] {2, 3}, 1), new Example(new float[] {4.5f, 6}, 0)), examples);
    }

    @Test
    void aBadNumberIsReportedWithItsLineAndColumn() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> comma.decode("1,2,abc,4", "train.csv", 17, 4));

        assertEquals("train.csv line 17, column 3: 'abc' is not a number; expected a numeric feature value",
                e.getMessage());
        assertEquals(17, e.lineOrRecord());
        assertEquals(3, e.column());
        assertEquals("'abc' is not a number; expected a numeric feature value", e.problem());
    }

    @Test
    void javaOnlyNumberSyntaxIsNotANumber() {
        assertThrows(DataFormatException.class, () -> comma.decode("1,2f", "train.csv", 2, -1));
        assertThrows(DataFormatException.class, () -> comma.decode("1,0x10", "train.csv", 2, -1));
    }

    @Test
    void aLineWithTheWrongColumnCountIsRejected() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> comma.decode("1,2,3", "train.csv", 5, 4));

        assertEquals("train.csv line 5: the line has 3 columns; expected 4 columns separated by ',': a label and one"
                + " value per model input (is a value missing or extra?)", e.getMessage());
    }

    @Test
    void readTakesTheColumnCountFromTheFirstDataLine() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> readAll(comma, "1,2,3\n0,4,5\n2,6\n"));

        assertTrue(e.getMessage().startsWith("data.csv line 3: the line has 2 columns; expected 3"), e.getMessage());
    }

    @Test
    void aMissingValueIsReportedAsEmpty() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> comma.decode("1,2,,4", "train.csv", 9, 4));

        assertEquals("train.csv line 9, column 3: the value is empty; expected a numeric feature value",
                e.getMessage());
    }

    @Test
    void aFractionalLabelIsRejectedButAWholeDecimalIsAccepted() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> comma.decode("3.5,1,2", "train.csv", 8, 3));

        assertEquals("train.csv line 8, column 1: label '3.5' is not a whole number; expected an integer class"
                + " label 0, 1, 2, ...", e.getMessage());
        assertEquals(3, comma.decode("3.0,1,2", "train.csv", 8, 3).label());
    }

    @Test
    void aNegativeLabelIsRejected() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> comma.decode("-2,1,2", "train.csv", 8, 3));

        assertTrue(e.getMessage().contains("label '-2' is negative"), e.getMessage());
    }

    @Test
    void aClassNameAsLabelAsksForIndices() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> comma.decode("cat,1,2", "train.csv", 8, 3));

        assertTrue(e.getMessage().contains("class names must be mapped to indices"), e.getMessage());
    }

    @Test
    void nanAndInfinityAreNotFeatureValues() {
        DataFormatException nan = assertThrows(DataFormatException.class,
                () -> comma.decode("1,NaN,2", "train.csv", 3, 3));
        DataFormatException overflow = assertThrows(DataFormatException.class,
                () -> comma.decode("1,2,1e39", "train.csv", 3, 3));

        assertEquals("train.csv line 3, column 2: 'NaN' is not a finite number; expected a numeric feature value"
                + " (NaN and infinity are not allowed)", nan.getMessage());
        assertTrue(overflow.getMessage().contains("'1e39' is outside the range of a 32-bit float"),
                overflow.getMessage());
        assertThrows(DataFormatException.class, () -> comma.decode("1,-Infinity,2", "train.csv", 3, 3));
    }

    @Test
    void aLineThatDoesNotSplitSuggestsTheDelimiterItUses() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> comma.decode("1;2;3", "train.csv", 2, -1));

        assertTrue(e.getMessage().contains("the file may use ';' as its delimiter"), e.getMessage());
    }

    @Test
    void anUnexpectedHeaderOnLineOneSuggestsConfiguringIt() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> comma.decode("label,x1,x2", "train.csv", 1, -1));

        assertTrue(e.getMessage().startsWith("train.csv line 1, column 1: label 'label' is not a number"),
                e.getMessage());
        assertTrue(e.getMessage().contains("if line 1 is a header"), e.getMessage());
    }

    @Test
    void anUnclosedQuoteIsReported() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> comma.decode("1,\"2,3", "train.csv", 6, -1));

        assertEquals(2, e.column());
        assertTrue(e.getMessage().contains("has no closing quote"), e.getMessage());
    }

    @Test
    void splitsOnTabs() {
        Example example = new CsvDecoder(0, false, '\t').decode("1\t 2\t3 ", "train.tsv", 1, 3);

        assertArrayEquals(new float[] {2, 3}, example.features());
    }

    @Test
    void aLabelColumnBeyondTheLineIsReported() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> new CsvDecoder(5, false, ',').decode("1,2,3", "train.csv", 1, -1));

        assertTrue(e.getMessage().contains("no label column 6"), e.getMessage());
    }

    @Test
    void survivesJavaSerialization() throws Exception {
        CsvDecoder decoder = new CsvDecoder(1, true, ';');
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(decoder);
        }
        CsvDecoder copy;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (CsvDecoder) in.readObject();
        }

        assertEquals(1, copy.labelColumn());
        assertTrue(copy.hasHeader());
        assertEquals(';', copy.delimiter());
    }

    @Test
    void rejectsANegativeLabelColumn() {
        assertThrows(IllegalArgumentException.class, () -> new CsvDecoder(-1, false, ','));
    }

    @Test
    void withoutLabelsEveryColumnIsAFeatureAndTheLabelIsThePlaceholder() {
        CsvDecoder unlabeled = CsvDecoder.unlabeled(false, ',');

        Example example = unlabeled.decode(" 3, 0.5 ,\"1.0\", -2e-1", "new.csv", 1, 4);

        assertArrayEquals(new float[] {3f, 0.5f, 1.0f, -0.2f}, example.features());
        assertEquals(Example.UNLABELED, example.label());
        assertEquals(false, unlabeled.isLabeled());
        assertEquals(4, unlabeled.columnsFor(4));
        assertEquals(5, comma.columnsFor(4));
    }

    @Test
    void withoutLabelsTheSameRowsGiveTheLabelledRowsFeatures() {
        List<Example> labelled = readAll(new CsvDecoder(0, true, ';'), "y;a;b\n1;2;3\n0;4.5;6\n");
        List<Example> unlabelled = readAll(CsvDecoder.unlabeled(true, ';'), "a;b\n2;3\n\n4.5;6\n");

        assertEquals(labelled.size(), unlabelled.size());
        for (int i = 0; i < labelled.size(); i++) {
            assertArrayEquals(labelled.get(i).features(), unlabelled.get(i).features());
        }
    }

    @Test
    void withoutLabelsASingleColumnIsAFeature() {
        assertArrayEquals(new float[] {7f}, CsvDecoder.unlabeled(false, ',').decode("7", "one.csv", 1, -1).features());
    }

    @Test
    void withoutLabelsAShortLineNamesTheColumnsWithoutALabel() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> CsvDecoder.unlabeled(false, ',').decode("1,2", "new.csv", 3, 3));

        assertEquals("new.csv line 3: the line has 2 columns; expected 3 columns separated by ',': one value per "
                + "model input, no label (is a value missing or extra?)", e.getMessage());
    }

    @Test
    void withoutLabelsABadValueIsNamedLikeAFeature() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> CsvDecoder.unlabeled(false, ',').decode("cat,2", "new.csv", 2, 2));

        assertEquals("new.csv line 2, column 1: 'cat' is not a number; expected a numeric feature value",
                e.getMessage());
    }

    private static List<Example> readAll(CsvDecoder decoder, String file) {
        List<Example> examples = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new StringReader(file))) {
            decoder.read(reader, "data.csv").forEachRemaining(examples::add);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return examples;
    }

    @Test
    void plainLinesDecodeToTheBitsOfTheGeneralPath() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        CsvDecoder labelLast = new CsvDecoder(4, false, ';');
        CsvDecoder unlabeled = CsvDecoder.unlabeled(false, ',');
        List<String> edges = List.of("0", "-0", "-0.0", "0.5", "1234567", "12345678", "0.0000001", "9.999999",
                "0.1234567890", "1e5", "3.", ".5", "+1", "0007", "-9999999", "16777215", "1.1754944");
        for (int line = 0; line < 20_000; line++) {
            String[] values = new String[5];
            for (int v = 0; v < values.length; v++) {
                if (random.nextInt(10) == 0) {
                    values[v] = edges.get(random.nextInt(edges.size()));
                    continue;
                }
                StringBuilder value = new StringBuilder(random.nextBoolean() ? "-" : "");
                int digits = 1 + random.nextInt(8);
                int decimals = random.nextInt(Math.min(digits, 11));
                for (int d = 0; d < digits; d++) {
                    if (d == digits - decimals && decimals > 0) {
                        value.append(d == 0 ? "0." : ".");
                    }
                    value.append((char) ('0' + random.nextInt(10)));
                }
                values[v] = value.toString();
            }
            String commas = String.join(",", values);
            assertSameExample(unlabeled, commas, 5);
            String withLabel = random.nextInt(4) + "," + commas;
            assertSameExample(comma, withLabel, 6);
            String[] swapped = values.clone();
            swapped[4] = String.valueOf(random.nextInt(9));
            assertSameExample(labelLast, String.join(";", swapped), 5);
        }
    }

    /** The decoder's fast path (a column count known) gives what its general path (count unknown) gives. */
    private static void assertSameExample(CsvDecoder decoder, String line, int columns) {
        Example general;
        try {
            general = decoder.decode(line, "t.csv", 2, -1);
        } catch (DataFormatException e) {
            DataFormatException fast = assertThrows(DataFormatException.class,
                    () -> decoder.decode(line, "t.csv", 2, columns), line);
            assertEquals(e.getMessage(), fast.getMessage(), line);
            return;
        }
        Example fast = decoder.decode(line, "t.csv", 2, columns);
        assertEquals(general, fast, line);
        for (int f = 0; f < general.features().length; f++) {
            assertEquals(Float.floatToRawIntBits(general.features()[f]), Float.floatToRawIntBits(fast.features()[f]),
                    line);
        }
    }
}
