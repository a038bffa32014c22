package dptrain.ml;

import dptrain.driver.rounds.EpochRecord;
import dptrain.spec.ModelSpec;
import java.util.List;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A network trained by {@link DptrainRegressor}, as a Spark ML Transformer: {@link #transform}
 * adds the prediction ({@code predictionCol}): a double for a network with one output unit, which
 * is what {@code RegressionEvaluator} reads, or a Spark ML vector with one value per output unit
 * for several. Each partition builds the network once from the broadcast parameters and predicts
 * its rows in minibatches; no row passes through the driver.
 *
 * <p>Saved by Spark ML persistence as Spark's param metadata plus {@value #WEIGHTS}, a DL4J
 * {@code ModelSerializer} zip that {@code ModelSerializer.restoreMultiLayerNetwork} also reads.
 */
public final class DptrainRegressionModel extends NetworkModel<DptrainRegressionModel> {
    private static final long serialVersionUID = 1L;
    /** The network's file under the model's path. */
    public static final String WEIGHTS = NetworkModel.WEIGHTS;

    DptrainRegressionModel(String uid, ModelSpec spec, float[] parameters, List<EpochRecord> history) {
        super(uid, spec, parameters, history, ParamRules.PREDICTED_VALUES);
    }

    public DptrainRegressionModel setFeaturesCol(String value) {
        set(featuresCol(), value);
        return this;
    }

    public DptrainRegressionModel setPredictionCol(String value) {
        set(predictionCol(), value);
        return this;
    }

    /** Values the model predicts per row: its output units. */
    public int numOutputs() {
        return spec().outputSize();
    }

    @Override
    StructType outputSchema(StructType schema) {
        return addOutputColumn(this, schema, getOrDefault(predictionCol()), numOutputs());
    }

    /** {@code schema} with the prediction column added (a double for one output, else a vector), checked new. */
    static StructType addOutputColumn(Params owner, StructType schema, String prediction, int outputs) {
        ParamRules.checkNew(owner, schema, "predictionCol", prediction);
        return schema.add(prediction, outputs == 1 ? DataTypes.DoubleType : new VectorUDT(), false);
    }

    @Override
    PartitionPredictions.OutputColumns outputColumns() {
        return numOutputs() == 1
                ? output -> new Object[] {(double) output[0]}
                : output -> new Object[] {Vectors.dense(PartitionPredictions.toDoubles(output))};
    }

    @Override
    DptrainRegressionModel withNetwork(String uid, ModelSpec spec, float[] parameters, List<EpochRecord> history) {
        return new DptrainRegressionModel(uid, spec, parameters, history);
    }

    @Override
    public DptrainRegressionModel copy(ParamMap extra) {
        return super.copy(extra);
    }

    public static MLReader<DptrainRegressionModel> read() {
        return new NetworkModel.Reader<>(DptrainRegressionModel.class,
                (uid, spec, parameters) -> new DptrainRegressionModel(uid, spec, parameters, null));
    }

    public static DptrainRegressionModel load(String path) {
        return read().load(path);
    }
}
