package dptrain.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.IUpdater;

class LearningRateScheduleTest {

    private static ModelSpec spec(String optimizer) {
        return ModelSpec.parse("input_shape: [4]\nlayers:\n  - dense: {units: 3, activation: relu}\n"
                + "  - dense: {units: 2, activation: softmax}\noptimizer: " + optimizer
                + "\nloss: categorical_crossentropy\n", "schedule.yaml");
    }

    private static IUpdater updaterOfLayer(ModelSpec spec, int layer) {
        return ((BaseLayer) spec.configuration().getConf(layer).getLayer()).getIUpdater();
    }

    @Test
    void exponentialDecayFollowsKerasFormula() {
        ModelSpec spec = spec("{rmsprop: {learning_rate: {exponential_decay: {initial_learning_rate: 0.01, "
                + "decay_steps: 100, decay_rate: 0.5}}}}");
        for (int layer = 0; layer < 2; layer++) {
            IUpdater updater = updaterOfLayer(spec, layer);
            for (int step : new int[] {0, 1, 50, 100, 250}) {
                double keras = 0.01 * Math.pow(0.5, step / 100.0);
                assertEquals(keras, updater.getLearningRate(step, 3), keras * 1e-12, "layer " + layer + " step " + step);
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> optimizer = (Map<String, Object>) spec.describe().get("optimizer");
        assertEquals(0.01, optimizer.get("learning_rate"));
        assertTrue(String.valueOf(optimizer.get("learning_rate_schedule")).contains("exponential_decay"), optimizer.toString());
    }

    @Test
    void staircaseDecaysInSteps() {
        IUpdater updater = updaterOfLayer(spec("{adam: {learning_rate: {exponential_decay: {initial_learning_rate: 0.1, "
                + "decay_steps: 10, decay_rate: 0.1, staircase: true}}}}"), 0);
        assertEquals(0.1, updater.getLearningRate(9, 0), 1e-15);
        assertEquals(0.01, updater.getLearningRate(10, 0), 1e-15);
        assertEquals(0.01, updater.getLearningRate(19, 0), 1e-15);
        assertEquals(0.001, updater.getLearningRate(20, 0), 1e-15);
    }

    @Test
    void stepDecayCountsEpochs() {
        IUpdater updater = updaterOfLayer(spec("{sgd: {learning_rate: {step_decay: {initial_learning_rate: 0.2, "
                + "decay_rate: 0.5, every_epochs: 2}}}}"), 1);
        assertEquals(0.2, updater.getLearningRate(1000, 0), 1e-15);
        assertEquals(0.2, updater.getLearningRate(1000, 1), 1e-15);
        assertEquals(0.1, updater.getLearningRate(0, 2), 1e-15);
        assertEquals(0.05, updater.getLearningRate(0, 5), 1e-15);
    }

    @Test
    void theInitialRateDefaultsToTheOptimizersDefault() {
        IUpdater updater = updaterOfLayer(spec("{rmsprop: {learning_rate: {step_decay: {decay_rate: 0.5, every_epochs: 1}}}}"), 0);
        assertEquals(0.001, updater.getLearningRate(0, 0), 1e-15);
    }

    @Test
    void badSchedulesNameTheKey() {
        SpecException unknown = assertThrows(SpecException.class,
                () -> spec("{rmsprop: {learning_rate: {cosine_decay: {decay_steps: 10}}}}"));
        assertTrue(unknown.getMessage().contains("cosine_decay"), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("exponential_decay"), unknown.getMessage());
        SpecException missing = assertThrows(SpecException.class,
                () -> spec("{rmsprop: {learning_rate: {exponential_decay: {decay_rate: 0.9}}}}"));
        assertTrue(missing.getMessage().contains("decay_steps"), missing.getMessage());
        SpecException extra = assertThrows(SpecException.class,
                () -> spec("{rmsprop: {learning_rate: {step_decay: {decay_rate: 0.9, every_epochs: 1, decay_steps: 3}}}}"));
        assertTrue(extra.getMessage().contains("decay_steps"), extra.getMessage());
        SpecException negative = assertThrows(SpecException.class,
                () -> spec("{rmsprop: {learning_rate: {step_decay: {decay_rate: -1, every_epochs: 1}}}}"));
        assertTrue(negative.getMessage().contains("decay_rate"), negative.getMessage());
    }
}
