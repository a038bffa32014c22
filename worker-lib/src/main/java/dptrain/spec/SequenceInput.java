package dptrain.spec;

import java.io.Serializable;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.Layer;

/**
 * What a network that reads sequences expects of each row: {@code timesteps} steps of {@code stepSize} values, and
 * for an embedding, token ids below {@code vocabulary}. {@link #NONE} for a network that does not read sequences.
 *
 * @param timesteps  input_shape's first axis, 0 for no sequence
 * @param stepSize   values per step: input_shape's second axis, or 1 for token ids
 * @param vocabulary the embedding's input_dim (token ids are 0 … vocabulary − 1), or 0 without an embedding
 */
public record SequenceInput(int timesteps, int stepSize, int vocabulary) implements Serializable {

    public static final SequenceInput NONE = new SequenceInput(0, 1, 0);

    /** Whether the rows are sequences. */
    public boolean isSequence() {
        return timesteps > 0;
    }

    /** Whether the rows are token ids for an embedding. */
    public boolean isTokens() {
        return vocabulary > 0;
    }

    /**
     * The sequence input of {@code conf}: an embedding first (after any dropout or activation), or a preprocessor
     * that reshapes rows to (timesteps, features) before the first layer with parameters.
     */
    static SequenceInput of(MultiLayerConfiguration conf) {
        for (int i = 0; i < conf.getConfs().size(); i++) {
            InputPreProcessor preProcessor = conf.getInputPreProcess(i);
            long[] shape = preProcessor instanceof ChannelsLastRowsPreProcessor rows ? rows.getShape()
                    : preProcessor instanceof RowsAsKerasShapePreProcessor rows ? rows.getShape() : null;
            if (preProcessor != null) {
                return shape != null && shape.length == 2 ? new SequenceInput((int) shape[0], (int) shape[1], 0)
                        : NONE;
            }
            Layer layer = conf.getConf(i).getLayer();
            if (layer instanceof EmbeddingSequenceLayer embedding) {
                return new SequenceInput(embedding.getInputLength(), 1, (int) embedding.getNIn());
            }
            if (!(layer instanceof DropoutLayer || layer instanceof ActivationLayer)) {
                return NONE;
            }
        }
        return NONE;
    }
}
