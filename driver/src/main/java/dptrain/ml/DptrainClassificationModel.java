package dptrain.ml;

import dptrain.driver.rounds.EpochRecord;
import dptrain.spec.ModelSpec;
import java.util.List;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A network trained by {@link DptrainClassifier}, as a Spark ML Transformer: {@link #transform}
 * adds the predicted class index ({@code predictionCol}, a double) and the output layer's class
 * probabilities ({@code probabilityCol}, a vector; for a single sigmoid unit p, the vector
 * [1 - p, p]). Each partition builds the network once from the broadcast parameters and predicts
 * its rows in minibatches; no row passes through the driver.
 *
 * <p>Saved by Spark ML persistence as Spark's param metadata plus {@value #WEIGHTS}, a DL4J
 * {@code ModelSerializer} zip that {@code ModelSerializer.restoreMultiLayerNetwork} also reads.
 */
public final class DptrainClassificationModel extends NetworkModel<DptrainClassificationModel> {
    private static final long serialVersionUID = 1L;
    /** The network's file under the model's path. */
    public static final String WEIGHTS = NetworkModel.WEIGHTS;

    private final Param<String> probabilityCol;

    DptrainClassificationModel(String uid, ModelSpec spec, float[] parameters, List<EpochRecord> history) {
        super(uid, spec, parameters, history, ParamRules.PREDICTED_CLASS);
        probabilityCol = ParamRules.probabilityCol(this);
        setDefault(probabilityCol, ParamRules.PROBABILITY_COL);
    }

    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    public DptrainClassificationModel setFeaturesCol(String value) {
        set(featuresCol(), value);
        return this;
    }

    public DptrainClassificationModel setPredictionCol(String value) {
        set(predictionCol(), value);
        return this;
    }

    public DptrainClassificationModel setProbabilityCol(String value) {
        set(probabilityCol, value);
        return this;
    }

    /** Classes the model tells apart: its output units, or 2 for a single sigmoid unit. */
    public int numClasses() {
        return Math.max(2, spec().outputSize());
    }

    @Override
    StructType outputSchema(StructType schema) {
        return addOutputColumns(this, schema, getOrDefault(predictionCol()), getOrDefault(probabilityCol));
    }

    /** {@code schema} with the prediction and probability columns added, after checking they are new. */
    static StructType addOutputColumns(Params owner, StructType schema, String prediction, String probability) {
        ParamRules.checkNew(owner, schema, "predictionCol", prediction);
        ParamRules.checkNew(owner, schema, "probabilityCol", probability);
        if (prediction.equals(probability)) {
            throw new IllegalArgumentException(owner.getClass().getSimpleName() + " probabilityCol: '" + probability
                    + "' is also the predictionCol; expected two different column names");
        }
        return schema.add(prediction, DataTypes.DoubleType, false).add(probability, new VectorUDT(), false);
    }

    @Override
    PartitionPredictions.OutputColumns outputColumns() {
        return DptrainClassificationModel::classColumns;
    }

    /** The most probable class and the class probabilities, from the output layer's activations. */
    private static Object[] classColumns(float[] output) {
        double[] classes = output.length == 1 ? new double[] {1 - output[0], output[0]}
                : PartitionPredictions.toDoubles(output);
        int best = 0;
        for (int i = 1; i < classes.length; i++) {
            if (classes[i] > classes[best]) {
                best = i;
            }
        }
        return new Object[] {(double) best, Vectors.dense(classes)};
    }

    @Override
    DptrainClassificationModel withNetwork(String uid, ModelSpec spec, float[] parameters,
            List<EpochRecord> history) {
        return new DptrainClassificationModel(uid, spec, parameters, history);
    }

    @Override
    public DptrainClassificationModel copy(ParamMap extra) {
        return super.copy(extra);
    }

    public static MLReader<DptrainClassificationModel> read() {
        return new NetworkModel.Reader<>(DptrainClassificationModel.class,
                (uid, spec, parameters) -> new DptrainClassificationModel(uid, spec, parameters, null));
    }

    public static DptrainClassificationModel load(String path) {
        return read().load(path);
    }
}
