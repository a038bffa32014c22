package dptrain.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A bad spec fails with one sentence naming the input, the key path, the offending value and what was expected. */
class SpecErrorMessageTest {

    private static SpecException failure(String yaml) {
        return assertThrows(SpecException.class, () -> ModelSpec.parse(yaml, "book.yaml"));
    }

    private static void assertMentions(SpecException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "message lacks [" + part + "]: " + e.getMessage());
        }
    }

    @Test
    void messageIsSourceKeyPathValueAndExpectation() {
        SpecException e = failure(Specs.book("{units: 10, activation: softmax}", "{units: -5, activation: softmax}"));
        assertEquals("book.yaml: layers[1].dense.units: -5 is not allowed; expected a whole number >= 1",
                e.getMessage());
        assertEquals("book.yaml", e.source());
        assertEquals("layers[1].dense.units", e.keyPath());
    }

    /** Each row replaces one piece of the book spec and names the key path and value the message must show. */
    @ParameterizedTest(name = "{3}")
    @CsvSource(delimiter = '|', textBlock = """
            units: 512,                           | units: 0,                      | layers[0].dense.units       | 0
            units: 512,                           | units: 512.5,                  | layers[0].dense.units       | 512.5
            units: 512,                           | units: abc,                    | layers[0].dense.units       | "abc"
            units: 512,                           | units: '512',                  | layers[0].dense.units       | "512"
            activation: relu                      | activation: relux              | layers[0].dense.activation  | "relux"
            activation: relu                      | activation: gelu               | layers[0].dense.activation  | "gelu"
            activation: relu                      | activation: relu, unit: 3      | layers[0].dense.unit        | did you mean "units"?
            '  - dense: {units: 512'              | '  - conv3d: {units: 512'      | layers[0]                   | "conv3d"
            '  - dense: {units: 512, activation: relu}' | '  - dense'              | layers[0]                   | "dense"
            'input_shape: [784]'                  | 'input_shape: [784]\nlayerz: []' | layerz                    | did you mean "layers"?
            'input_shape: [784]'                  | 'input_shape: [0]'             | input_shape[0]              | 0
            'input_shape: [784]'                  | 'input_shape: 784'             | input_shape                 | 784
            'input_shape: [784]'                  | 'input_shape: []'              | input_shape                 | []
            'input_shape: [784]'                  | ''                             | input_shape                 | is missing
            learning_rate: 0.001                  | learning_rate: -0.001          | optimizer.rmsprop.learning_rate | -0.001
            learning_rate: 0.001                  | learning_rate: 0.001, momentum: 0.9 | optimizer.rmsprop.momentum | unknown key
            {rmsprop: {learning_rate: 0.001}}     | {adamw: {learning_rate: 0.001}} | optimizer                  | "adamw"
            {rmsprop: {learning_rate: 0.001}}     | {sgd: {momentum: 0.9}}         | optimizer.sgd.momentum      | 0.9 with nesterov: false
            {rmsprop: {learning_rate: 0.001}}     | {adagrad: {initial_accumulator_value: 0.1}} | optimizer.adagrad.initial_accumulator_value | 0.1
            {rmsprop: {learning_rate: 0.001}}     | {adam: {beta_1: 1.0}}          | optimizer.adam.beta_1       | 1.0
            loss: categorical_crossentropy        | loss: hinge                    | loss                        | "hinge"
            loss: categorical_crossentropy        | loss: binary_crossentropy      | layers[1].dense.activation  | "softmax"
            loss: categorical_crossentropy        | lost: categorical_crossentropy | lost                        | did you mean "loss"?
            metrics: [accuracy]                   | metrics: [auc]                 | metrics[0]                  | "auc"
            seed: 12345                           | seed: 1.5                      | seed                        | 1.5
            seed: 12345                           | seed: abc                      | seed                        | "abc"
            'units: 10, activation: softmax'      | 'units: 1, activation: softmax' | layers[1].dense.units      | 1
            'units: 512, activation: relu}'       | 'units: 512, activation: relu, l2: -0.1}' | layers[0].dense.l2 | -0.1
            'units: 512, activation: relu}'       | 'units: 512, activation: relu, kernel_initializer: xavier}' | layers[0].dense.kernel_initializer | "xavier"
            """)
    void invalidValueIsReportedWithKeyPathAndValue(String from, String to, String keyPath, String shown) {
        SpecException e = failure(Specs.book(from, to.replace("\\n", "\n")));
        assertEquals(keyPath, e.keyPath(), e::getMessage);
        assertMentions(e, "book.yaml: " + keyPath + ": ", shown, "expected");
    }

    @Test
    void dropoutRateMustBeBelowOne() {
        SpecException e = failure(Specs.book("  - dense: {units: 10,", "  - dropout: {rate: 1.5}\n  - dense: {units: 10,"));
        assertEquals("layers[1].dropout.rate", e.keyPath());
        assertMentions(e, "1.5 is not allowed", ">= 0 and < 1");
    }

    @Test
    void emptyLayerListIsRejected() {
        SpecException e = failure(Specs.book(
                "  - dense: {units: 512, activation: relu}\n  - dense: {units: 10, activation: softmax}", "  []"));
        assertEquals("layers", e.keyPath());
        assertMentions(e, "[] is not allowed", "at least one dense layer");
    }

    @Test
    void lastLayerMustBeDense() {
        SpecException e = failure(Specs.book("  - dense: {units: 10, activation: softmax}",
                "  - dense: {units: 10, activation: softmax}\n  - dropout: {rate: 0.5}"));
        assertEquals("layers[2]", e.keyPath());
        assertMentions(e, "last layer is dropout", "expected dense");
    }

    @Test
    void classicalMomentumIsRejectedRatherThanSilentlyMadeNesterov() {
        SpecException e = failure(Specs.book("{rmsprop: {learning_rate: 0.001}}", "{sgd: {momentum: 0.9}}"));
        assertMentions(e, "DL4J", "nesterov: true", "momentum: 0.0");
    }

    @Test
    void duplicateKeyIsRejected() {
        SpecException e = failure(Specs.BOOK + "seed: 7\n");
        assertMentions(e, "line 9", "Duplicate field 'seed'");
    }

    @Test
    void malformedYamlNamesLineAndColumn() {
        SpecException e = failure(Specs.book("{units: 512, activation: relu}", "{units: 512, activation: relu"));
        assertEquals("", e.keyPath());
        assertMentions(e, "book.yaml: line ", ", column ", "not valid YAML", "flow mapping that starts at line 3, column 12");
    }

    @Test
    void badIndentationNamesItsLine() {
        SpecException e = failure("input_shape: [784]\n  layers: []\n");
        assertMentions(e, "book.yaml: line 2, column 3: this is not valid YAML");
    }

    @Test
    void malformedJsonNamesLineAndColumn() {
        SpecException e = failure("{\"input_shape\": [784],\n \"layers\": [}");
        assertMentions(e, "book.yaml: line 2, column ", "not valid JSON");
    }

    @Test
    void emptySpecIsRejected() {
        assertMentions(failure("# nothing here\n"), "book.yaml: the spec is empty");
        assertMentions(failure("- 784\n"), "book.yaml: [784] is not allowed; expected a mapping");
    }

    @Test
    void missingFileIsNamed(@TempDir Path dir) {
        Path missing = dir.resolve("no-such-spec.yaml");
        SpecException e = assertThrows(SpecException.class, () -> ModelSpec.read(missing));
        assertEquals(missing.toString(), e.source());
        assertMentions(e, missing.toString(), "no such file");
    }

    @Test
    void aKerasModelJsonIsLeftToTheDriver() {
        // worker-lib has no Keras import; dptrain-driver's ModelFile reads Keras model files.
        SpecException e = assertThrows(SpecException.class, () -> ModelSpec.parse(
                "{\"class_name\": \"Sequential\", \"config\": {\"layers\": []}}", "model.json"));
        assertEquals("model.json", e.source());
        assertMentions(e, "Keras model JSON", "on the driver only", "dptrain.spec.ModelFile");
    }

    @Test
    void softmaxWithCategoricalCrossEntropyNeedNotMatchAnyLabelCount() {
        ModelSpec spec = Specs.parse(Specs.book("units: 10, activation: softmax", "units: 7, activation: softmax"));
        assertEquals(7, spec.outputSize());
    }
}
