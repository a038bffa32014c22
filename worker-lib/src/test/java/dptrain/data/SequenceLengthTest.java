package dptrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dptrain.data.SequenceLength.Side;
import dptrain.spec.ModelSpec;
import org.junit.jupiter.api.Test;

/** Sequences fitted to input_shape's timesteps as Keras's pad_sequences fits them, and the refusals that name the record. */
class SequenceLengthTest {

    private static final ModelSpec TOKENS = ModelSpec.parse(String.join("\n",
            "input_shape: [4]",
            "layers:",
            "  - embedding: {input_dim: 10, output_dim: 3}",
            "  - lstm: {units: 2}",
            "  - dense: {units: 2, activation: softmax}",
            "loss: categorical_crossentropy", ""), "tokens.yaml");

    private static final ModelSpec STEPS = ModelSpec.parse(String.join("\n",
            "input_shape: [3, 2]",
            "layers:",
            "  - lstm: {units: 2}",
            "  - dense: {units: 2, activation: softmax}",
            "loss: categorical_crossentropy", ""), "steps.yaml");

    private static float[] fit(ModelSpec spec, SequenceLength rule, float... values) {
        return new ExampleCheck(spec).fitSequence(values, rule, "features", "part-0.parquet", 7);
    }

    @Test
    void paddingAddsZerosBeforeOrAfterAsKerasPadSequencesDoes() {
        assertArrayEquals(new float[] {0, 0, 5, 6}, fit(TOKENS, new SequenceLength(Side.PRE, Side.NONE), 5, 6));
        assertArrayEquals(new float[] {5, 6, 0, 0}, fit(TOKENS, new SequenceLength(Side.POST, Side.NONE), 5, 6));
        // Float sequences are padded by whole steps of zeros.
        assertArrayEquals(new float[] {0, 0, 1, 2, 3, 4}, fit(STEPS, new SequenceLength(Side.PRE, Side.NONE), 1, 2, 3, 4));
        assertArrayEquals(new float[] {1, 2, 0, 0, 0, 0}, fit(STEPS, new SequenceLength(Side.POST, Side.NONE), 1, 2));
    }

    @Test
    void truncatingDropsTheFirstOrLastStepsAsKerasPadSequencesDoes() {
        assertArrayEquals(new float[] {3, 4, 5, 6}, fit(TOKENS, new SequenceLength(Side.NONE, Side.PRE), 1, 2, 3, 4, 5, 6));
        assertArrayEquals(new float[] {1, 2, 3, 4}, fit(TOKENS, new SequenceLength(Side.NONE, Side.POST), 1, 2, 3, 4, 5, 6));
        assertArrayEquals(new float[] {3, 4, 5, 6, 7, 8},
                fit(STEPS, new SequenceLength(Side.NONE, Side.PRE), 1, 2, 3, 4, 5, 6, 7, 8));
    }

    @Test
    void aSequenceOfTheRightLengthIsKeptAsItIs() {
        float[] values = {1, 2, 3, 4};
        assertSame(values, new ExampleCheck(TOKENS).fitSequence(values, SequenceLength.EXACT, "f", "x", 1));
    }

    @Test
    void aShorterSequenceWithoutPaddingIsRefusedNamingFileRecordColumnAndLengths() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> fit(TOKENS, new SequenceLength(Side.NONE, Side.PRE), 1, 2, 3));
        assertEquals("part-0.parquet record 7: column 'features' holds a sequence of 3 steps; expected 4, "
                + "input_shape's timesteps (padding is off: --pad-sequences pre|post, or the Spark ML param padSequences, pads it with 0 as Keras's "
                + "pad_sequences does)", e.getMessage());
        e = assertThrows(DataFormatException.class, () -> fit(STEPS, SequenceLength.EXACT, 1, 2, 3, 4, 5, 6, 7, 8));
        assertEquals("part-0.parquet record 7: column 'features' holds a sequence of 4 steps; expected 3, "
                + "input_shape's timesteps (truncating is off: --truncate-sequences pre|post, or the Spark ML param "
                + "truncateSequences, truncates it as Keras's pad_sequences does)", e.getMessage());
    }

    @Test
    void valuesThatAreNotWholeStepsAreRefused() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> fit(STEPS, new SequenceLength(Side.PRE, Side.PRE), 1, 2, 3));
        assertEquals("part-0.parquet record 7: column 'features' holds 3 values, not a whole number of steps of 2 "
                + "features; expected input_shape's (timesteps, 2) flattened step by step", e.getMessage());
    }

    @Test
    void tokenIdsOutsideTheEmbeddingsInputDimAreRefusedNamingTheValueAndTheRange() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> fit(TOKENS, SequenceLength.EXACT, 1, 2, 10, 3));
        assertEquals("part-0.parquet record 7: column 'features' holds token id 10 at step 3; expected a whole "
                + "number in [0, 10), the embedding's input_dim", e.getMessage());
        e = assertThrows(DataFormatException.class, () -> fit(TOKENS, SequenceLength.EXACT, -1, 2, 3, 4));
        assertEquals("part-0.parquet record 7: column 'features' holds token id -1 at step 1; expected a whole "
                + "number in [0, 10), the embedding's input_dim", e.getMessage());
        e = assertThrows(DataFormatException.class, () -> fit(TOKENS, SequenceLength.EXACT, 1, 2.5f, 3, 4));
        assertEquals("part-0.parquet record 7: column 'features' holds token id 2.5 at step 2; expected a whole "
                + "number in [0, 10), the embedding's input_dim", e.getMessage());
    }

    @Test
    void tokenIdsAreCheckedInRowsOfEveryFormatNamingTheFeature() {
        DataFormatException e = assertThrows(DataFormatException.class, () -> new ExampleCheck(TOKENS)
                .checkLine(new Example(new float[] {1, 2, 3, 12}, 0), "tokens.csv", 3));
        assertEquals("tokens.csv line 3: token id 12 at feature 4; expected a whole number in [0, 10), the "
                + "embedding's input_dim", e.getMessage());
    }

    @Test
    void aNetworkThatDoesNotReadSequencesLeavesTheValuesAlone() {
        ModelSpec dense = ModelSpec.parse("input_shape: [3]\nlayers:\n  - dense: {units: 2, activation: softmax}\n"
                + "loss: categorical_crossentropy\n", "dense.yaml");
        float[] values = {1, 2};
        assertSame(values, new ExampleCheck(dense).fitSequence(values, new SequenceLength(Side.PRE, Side.PRE), "f",
                "x", 1));
    }
}
