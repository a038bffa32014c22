package dptrain.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.RmsProp;

/** A search over learning rates replaces the optimizer's rate in every layer and keeps everything else. */
class LearningRateOverrideTest {

    private final ModelSpec book = ModelSpec.read(Specs.bookExampleFile());

    @Test
    void everyLayerTrainsWithTheNewRateAndTheSameOptimizerSettings() {
        ModelSpec changed = book.withLearningRate(0.05);
        for (NeuralNetConfiguration layer : changed.configuration().getConfs()) {
            BaseLayer base = (BaseLayer) layer.getLayer();
            RmsProp weights = assertInstanceOf(RmsProp.class, base.getIUpdater());
            assertEquals(0.05, weights.getLearningRate());
            assertEquals(0.9, weights.getRmsDecay(), 1e-12, "rho is kept");
            if (base.getBiasUpdater() != null) { // null: biases use the weights' updater
                assertEquals(0.05, base.getBiasUpdater().getLearningRate(0, 0));
            }
        }
        assertEquals(0.05, ((Map<?, ?>) changed.describe().get("optimizer")).get("learning_rate"));
        assertEquals(book.parameterCount(), changed.parameterCount());
        assertEquals(0.001, ((RmsProp) ((BaseLayer) book.configuration().getConf(0).getLayer()).getIUpdater())
                .getLearningRate(), "the original spec is unchanged");
    }

    @Test
    void aRateThatIsNotPositiveIsRefusedNamingTheKey() {
        SpecException e = assertThrows(SpecException.class, () -> book.withLearningRate(0));
        assertEquals(Specs.bookExampleFile() + ": optimizer.learning_rate: 0.0 is not allowed; expected a number > 0",
                e.getMessage());
    }
}
