package dptrain.ml;

import dptrain.data.SequenceLength;
import java.io.Serializable;
import java.util.Arrays;
import java.util.function.Predicate;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Function1;
import scala.runtime.AbstractFunction1;

/**
 * The column parameters the estimators and their models share (each declared here once, with its
 * default and doc), the validators of every parameter, and the schema checks. Every failure is an
 * {@link IllegalArgumentException} naming the class, the parameter and the value.
 */
final class ParamRules {
    static final String FEATURES_COL = "features";
    static final String LABEL_COL = "label";
    static final String PREDICTION_COL = "prediction";
    static final String PROBABILITY_COL = "probability";

    /** What a classifier's label column holds, for its doc. */
    static final String CLASS_LABELS = "numeric class indices 0..C-1 for the spec's C output units";
    /** What a regressor's label column holds, for its doc. */
    static final String REAL_TARGETS = "real-valued targets: a number for a spec with one output unit, an array "
            + "or Spark ML vector of numbers (one per output unit) for several";
    /** What a classifier's prediction column holds, for its doc. */
    static final String PREDICTED_CLASS = "the predicted class index, a double";
    /** What a regressor's prediction column holds, for its doc. */
    static final String PREDICTED_VALUES = "the predicted value: a double for a spec with one output unit, a "
            + "Spark ML vector of one value per output unit for several";

    private ParamRules() {
    }

    static Param<String> featuresCol(Params owner) {
        return new Param<>(owner, "featuresCol", "features column: a Spark ML vector or an array of numbers, as many "
                + "as the spec's input_shape (default: " + FEATURES_COL + ")", columnName(owner, "featuresCol"));
    }

    /** @param holds what the column holds, e.g. {@link #CLASS_LABELS} */
    static Param<String> labelCol(Params owner, String holds) {
        return new Param<>(owner, "labelCol", "label column: " + holds + " (default: " + LABEL_COL + ")",
                columnName(owner, "labelCol"));
    }

    /** @param holds what the column holds, e.g. {@link #PREDICTED_CLASS} */
    static Param<String> predictionCol(Params owner, String holds) {
        return new Param<>(owner, "predictionCol", "output column of " + holds + " (default: " + PREDICTION_COL
                + ")", columnName(owner, "predictionCol"));
    }

    static Param<String> probabilityCol(Params owner) {
        return new Param<>(owner, "probabilityCol", "output column of the class probabilities, a Spark ML vector "
                + "(default: " + PROBABILITY_COL + ")", columnName(owner, "probabilityCol"));
    }

    static final String NO_SEQUENCE_FITTING = "none";

    /** Shared by the estimators and their models: fit and transform fit ragged sequences the same way. */
    static Param<String> padSequences(Params owner) {
        return new Param<>(owner, "padSequences", "pads a sequence shorter than the spec's input_shape timesteps "
                + "with steps of 0 before ('pre') or after ('post') it, as Keras's pad_sequences does; 'none' (the "
                + "default) refuses such a row", rule(owner, "padSequences", ParamRules::isSide, "none, pre or post"));
    }

    static Param<String> truncateSequences(Params owner) {
        return new Param<>(owner, "truncateSequences", "drops the first ('pre') or last ('post') steps of a sequence "
                + "longer than the spec's input_shape timesteps, as Keras's pad_sequences does; 'none' (the default) "
                + "refuses such a row", rule(owner, "truncateSequences", ParamRules::isSide, "none, pre or post"));
    }

    private static boolean isSide(String text) {
        return java.util.Arrays.stream(SequenceLength.Side.values()).anyMatch(side -> side.cliName().equals(text));
    }

    /** The rule the two Params' values say. */
    static SequenceLength sequenceLength(String padding, String truncating) {
        return new SequenceLength(SequenceLength.Side.valueOf(padding.toUpperCase(java.util.Locale.ROOT)),
                SequenceLength.Side.valueOf(truncating.toUpperCase(java.util.Locale.ROOT)));
    }

    /** A condition on a parameter value; serializable, since Spark may serialize the params that hold it. */
    @FunctionalInterface
    interface Condition<T> extends Predicate<T>, Serializable {
    }

    /** A validator that throws, naming {@code owner}'s class, {@code param} and the value, unless {@code ok}. */
    @SuppressWarnings("unchecked")
    static <T, V> Function1<V, Object> rule(Params owner, String param, Condition<T> ok, String expected) {
        // V is what the Param type declares: T itself, or Object for Spark's IntParam, DoubleParam and LongParam.
        return (Function1<V, Object>) (Function1<?, Object>) new Rule<>(owner.getClass().getSimpleName(), param, ok,
                expected);
    }

    private static final class Rule<T> extends AbstractFunction1<T, Object> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final String className;
        private final String param;
        private final Condition<T> ok;
        private final String expected;

        Rule(String className, String param, Condition<T> ok, String expected) {
            this.className = className;
            this.param = param;
            this.ok = ok;
            this.expected = expected;
        }

        @Override
        public Object apply(T value) {
            if (value == null || !ok.test(value)) {
                throw new IllegalArgumentException(className + " " + param + ": " + quoted(value)
                        + " is not allowed; expected " + expected);
            }
            return Boolean.TRUE;
        }
    }

    private static Function1<String, Object> columnName(Params owner, String param) {
        return rule(owner, param, (String name) -> !name.isBlank(), "a column name");
    }

    /** Fails unless {@code schema} has {@code column} holding a Spark ML vector or an array of numbers. */
    static void checkFeatures(Params owner, StructType schema, String param, String column) {
        DataType type = column(owner, schema, param, column).dataType();
        boolean numericArray = type instanceof ArrayType array && array.elementType() instanceof NumericType;
        if (!(type instanceof VectorUDT) && !numericArray) {
            throw wrongType(owner, param, column, type, "a Spark ML vector or an array of numbers");
        }
    }

    /** Fails unless {@code schema} has a numeric {@code column}. */
    static void checkLabel(Params owner, StructType schema, String param, String column) {
        DataType type = column(owner, schema, param, column).dataType();
        if (!(type instanceof NumericType)) {
            throw wrongType(owner, param, column, type, "numeric class indices 0..C-1");
        }
    }

    /** Fails unless {@code schema} has {@code column} holding a number, an array of numbers or a Spark ML vector. */
    static void checkTargets(Params owner, StructType schema, String param, String column) {
        DataType type = column(owner, schema, param, column).dataType();
        boolean numericArray = type instanceof ArrayType array && array.elementType() instanceof NumericType;
        if (!(type instanceof NumericType) && !numericArray && !(type instanceof VectorUDT)) {
            throw wrongType(owner, param, column, type, "real-valued targets: a number, or an array or Spark ML "
                    + "vector of numbers for several output units");
        }
    }

    /** Fails if {@code schema} already has the output {@code column}. */
    static void checkNew(Params owner, StructType schema, String param, String column) {
        if (Arrays.asList(schema.fieldNames()).contains(column)) {
            throw new IllegalArgumentException(owner.getClass().getSimpleName() + " " + param + ": column '" + column
                    + "' already exists; expected the name of a new column");
        }
    }

    private static StructField column(Params owner, StructType schema, String param, String column) {
        if (!Arrays.asList(schema.fieldNames()).contains(column)) {
            throw new IllegalArgumentException(owner.getClass().getSimpleName() + " " + param + ": the DataFrame has no "
                    + "column '" + column + "'; its columns are " + String.join(", ", schema.fieldNames()));
        }
        return schema.apply(column);
    }

    private static IllegalArgumentException wrongType(Params owner, String param, String column, DataType type,
            String expected) {
        return new IllegalArgumentException(owner.getClass().getSimpleName() + " " + param + ": column '" + column
                + "' holds " + type.simpleString() + "; expected " + expected);
    }

    /** A training parameter's key as a Param name: {@code batch_size} is {@code batchSize}. */
    static String camelCase(String key) {
        StringBuilder name = new StringBuilder();
        boolean upper = false;
        for (char c : key.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                name.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return name.toString();
    }

    private static String quoted(Object value) {
        return value instanceof String s ? "'" + s + "'" : String.valueOf(value);
    }
}
