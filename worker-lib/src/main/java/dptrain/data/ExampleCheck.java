package dptrain.data;

import dptrain.spec.ModelSpec;
import dptrain.spec.SequenceInput;
import dptrain.spec.TargetEncoding;
import java.io.Serializable;

/**
 * Checks a decoded example against the model it will train: feature count against the model's
 * input, finite feature values, label against the output's classes. Runs where the example is decoded, so a failure can
 * still name its file and line or record.
 */
public final class ExampleCheck implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int featureCount;
    /** The classes a label must fall in; -1 when labels are not checked (regression, or prediction). */
    private final int classes;
    private final TargetEncoding encoding;
    private final Targets targets;
    /** Whether the examples' labels or targets are used, so must be there and fit the model. */
    private final boolean labelsUsed;
    /** The sequence shape and vocabulary of a network that reads sequences, else SequenceInput.NONE. */
    private final SequenceInput sequence;

    public ExampleCheck(ModelSpec spec) {
        this(spec, true);
    }

    private ExampleCheck(ModelSpec spec, boolean labelsUsed) {
        this.featureCount = spec.inputSize();
        this.encoding = spec.targetEncoding();
        this.targets = Targets.of(spec);
        this.labelsUsed = labelsUsed;
        this.sequence = spec.sequenceInput();
        this.classes = !labelsUsed || spec.isRegression() ? -1
                : encoding == TargetEncoding.SCALAR ? 2 : spec.outputSize();
    }

    /** Checks features only: for prediction, where the data's labels (if any) are not used. */
    public static ExampleCheck featuresOnly(ModelSpec spec) {
        return new ExampleCheck(spec, false);
    }

    /** What the label fields of the model's records hold, so decoders know how to parse them. */
    public Targets targets() {
        return targets;
    }

    /** Returns {@code example} when it fits the model, else throws naming {@code source} and its 1-based {@code line}. */
    public Example checkLine(Example example, String source, long line) {
        String problem = problem(example);
        if (problem != null) {
            throw new DataFormatException(source, line, -1, problem);
        }
        return example;
    }

    /** Returns {@code example} when it fits the model, else throws naming {@code source} and its 1-based {@code record}. */
    public Example checkRecord(Example example, String source, long record) {
        String problem = problem(example);
        if (problem != null) {
            throw DataFormatException.inRecord(source, record, problem);
        }
        return example;
    }

    /**
     * The values of one sequence cell (a Parquet array or vector column) fitted to the model's input_shape timesteps
     * as {@code rule} says, with token ids checked against the embedding's input_dim; {@code values} unchanged for a
     * model that does not read sequences.
     *
     * @throws DataFormatException naming {@code source}, its 1-based {@code record} and {@code column}
     */
    public float[] fitSequence(float[] values, SequenceLength rule, String column, String source, long record) {
        if (!sequence.isSequence()) {
            return values;
        }
        int stepSize = sequence.stepSize();
        if (values.length % stepSize != 0) {
            throw DataFormatException.inRecord(source, record, "column '" + column + "' holds " + values.length
                    + " values, not a whole number of steps of " + stepSize + " features; expected input_shape's "
                    + "(timesteps, " + stepSize + ") flattened step by step");
        }
        String tokenProblem = tokenProblem(values, "column '" + column + "' holds token id ", " at step ");
        if (tokenProblem != null) {
            throw DataFormatException.inRecord(source, record, tokenProblem);
        }
        float[] fitted = rule.fit(values, sequence.timesteps(), stepSize);
        if (fitted == null) {
            int steps = values.length / stepSize;
            boolean shorter = steps < sequence.timesteps();
            throw DataFormatException.inRecord(source, record, "column '" + column + "' holds a sequence of " + steps
                    + (steps == 1 ? " step" : " steps") + "; expected " + sequence.timesteps() + ", input_shape's "
                    + "timesteps (" + (shorter ? "padding is off: --pad-sequences pre|post, or the Spark ML param "
                    + "padSequences, pads it with 0" : "truncating is off: --truncate-sequences pre|post, or the Spark "
                    + "ML param truncateSequences, truncates it") + " as Keras's pad_sequences does)");
        }
        return fitted;
    }

    /** The first token id outside [0, vocabulary) or not whole, as {@code what + id + where + position}, or null. */
    private String tokenProblem(float[] values, String what, String where) {
        if (!sequence.isTokens()) {
            return null;
        }
        for (int i = 0; i < values.length; i++) {
            float id = values[i];
            if (!(id >= 0 && id < sequence.vocabulary() && id == Math.rint(id))) {
                String shown = id == Math.rint(id) && Float.isFinite(id) ? String.valueOf((long) id) : String.valueOf(id);
                return what + shown + where + (i + 1) + "; expected a whole number in [0, " + sequence.vocabulary()
                        + "), the embedding's input_dim";
            }
        }
        return null;
    }

    /** What is wrong with {@code example} for this model, or null. */
    private String problem(Example example) {
        int found = example.features().length;
        if (found != featureCount) {
            return "the example has " + found + " features; expected " + featureCount
                    + " to match the model's input_shape";
        }
        float[] features = example.features();
        for (int i = 0; i < features.length; i++) {
            if (!Float.isFinite(features[i])) {
                return "feature " + (i + 1) + " is " + features[i] + "; expected a finite number (NaN and infinity are not allowed)";
            }
        }
        String tokenProblem = tokenProblem(features, "token id ", " at feature ");
        if (tokenProblem != null) {
            return tokenProblem;
        }
        if (labelsUsed && targets.real()) {
            float[] values = example.targets();
            if (values == null || values.length != targets.count()) {
                return "the example has " + (values == null ? "no real-valued target" : values.length + " targets")
                        + "; expected " + targets.describe() + " for the model's " + targets.count()
                        + " output unit" + (targets.count() == 1 ? "" : "s");
            }
            for (int i = 0; i < values.length; i++) {
                if (!Float.isFinite(values[i])) {
                    return "target " + (i + 1) + " is " + values[i] + "; expected a finite number";
                }
            }
            return null;
        }
        int label = example.label();
        if (classes > 0 && (label < 0 || label >= classes)) {
            String expected = encoding == TargetEncoding.SCALAR
                    ? "0 or 1 for the model's single output unit"
                    : "a class in [0, " + classes + ") for the model's " + classes + " output units";
            return "label " + label + " is out of range; expected " + expected;
        }
        return null;
    }
}
