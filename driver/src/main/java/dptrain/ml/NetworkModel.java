package dptrain.ml;

import dptrain.driver.files.AtomicFiles;
import dptrain.driver.files.InputFiles;
import dptrain.driver.inference.ModelOnPartitions;
import dptrain.driver.rounds.EpochRecord;
import dptrain.replica.TrainingState;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.factory.Nd4j;
import scala.Option;

/**
 * What {@link DptrainClassificationModel} and {@link DptrainRegressionModel} share: a trained
 * network (its spec and flat parameters), the training summary of the fit that made it,
 * {@link #transform} (each partition builds the network once from the broadcast parameters and
 * predicts its rows in minibatches; no row passes through the driver), and persistence as Spark's
 * param metadata plus {@value #WEIGHTS}, a DL4J {@code ModelSerializer} zip. A subclass says which
 * columns a row's network output becomes.
 */
abstract class NetworkModel<M extends NetworkModel<M>> extends Model<M> implements MLWritable {
    private static final long serialVersionUID = 1L;
    /** The network's file under the model's path. */
    static final String WEIGHTS = "dl4j/model.zip";

    private final String uid;
    private final ModelSpec spec;
    private final float[] parameters;
    /** The per-epoch history of the fit that made this model; null for a loaded model (not saved, as in Spark). */
    private final transient List<EpochRecord> history;
    private final Param<String> featuresCol;
    private final Param<String> predictionCol;
    private final Param<String> padSequences;
    private final Param<String> truncateSequences;

    /** @param predictions what the prediction column holds, for its doc */
    NetworkModel(String uid, ModelSpec spec, float[] parameters, List<EpochRecord> history, String predictions) {
        this.uid = uid;
        this.spec = spec;
        this.parameters = parameters;
        this.history = history == null ? null : List.copyOf(history);
        featuresCol = ParamRules.featuresCol(this);
        padSequences = ParamRules.padSequences(this);
        truncateSequences = ParamRules.truncateSequences(this);
        setDefault(padSequences, ParamRules.NO_SEQUENCE_FITTING);
        setDefault(truncateSequences, ParamRules.NO_SEQUENCE_FITTING);
        predictionCol = ParamRules.predictionCol(this, predictions);
        setDefault(featuresCol, ParamRules.FEATURES_COL);
        setDefault(predictionCol, ParamRules.PREDICTION_COL);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> featuresCol() {
        return featuresCol;
    }

    /** Copied from the estimator by fit: transform fits ragged sequences as fit did. */
    public Param<String> padSequences() {
        return padSequences;
    }

    public Param<String> truncateSequences() {
        return truncateSequences;
    }

    public Param<String> predictionCol() {
        return predictionCol;
    }

    /** True for a model fresh from {@code fit}; a loaded model has no training summary. */
    public boolean hasSummary() {
        return history != null;
    }

    /**
     * The fit's history, one record per epoch: the training loss and the model's metrics, and the
     * validation loss and metrics when {@code validationFraction} was set (NaN and empty otherwise),
     * as {@code history.json} has them.
     *
     * @throws IllegalStateException for a loaded model
     */
    public List<EpochRecord> summary() {
        if (history == null) {
            throw new IllegalStateException(getClass().getSimpleName() + " " + uid + " has no training summary: it "
                    + "was loaded, and summaries are not saved; expected a model returned by fit (see hasSummary)");
        }
        return history;
    }

    /** Features the model takes per row. */
    public int numFeatures() {
        return spec.inputSize();
    }

    /** The trained network as a DL4J model, a new copy on each call. */
    public MultiLayerNetwork network() {
        MultiLayerNetwork net = new MultiLayerNetwork(spec.configuration());
        net.init(Nd4j.createFromArray(parameters.clone()).reshape(1, parameters.length), false);
        return net;
    }

    /** The network's description, for subclasses' facts such as the number of outputs. */
    ModelSpec spec() {
        return spec;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        ParamRules.checkFeatures(this, schema, "featuresCol", getOrDefault(featuresCol));
        return outputSchema(schema);
    }

    /** {@code schema} with the output columns added, after checking they are new. */
    abstract StructType outputSchema(StructType schema);

    /** What a row's network output becomes: the values of the columns appended to it. */
    abstract PartitionPredictions.OutputColumns outputColumns();

    /** A model of the subclass's type with this network and {@code history}. */
    abstract M withNetwork(String uid, ModelSpec spec, float[] parameters, List<EpochRecord> history);

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType output = transformSchema(dataset.schema());
        Dataset<Row> rows = dataset.toDF();
        String features = getOrDefault(featuresCol);
        int featuresAt = rows.schema().fieldIndex(features);
        boolean vector = rows.schema().apply(features).dataType() instanceof VectorUDT;
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
        ModelOnPartitions<float[]> weights = ModelOnPartitions.broadcast(jsc, parameters);
        // Only the broadcast handle, the configuration JSON, the output function and a few values travel in
        // the task closure.
        String configuration = spec.configurationJson();
        int inputs = spec.inputSize();
        String owner = getClass().getSimpleName();
        PartitionPredictions.OutputColumns columns = outputColumns();
        PartitionPredictions.Sequences sequences = new PartitionPredictions.Sequences(spec.sequenceInput(),
                ParamRules.sequenceLength(getOrDefault(padSequences), getOrDefault(truncateSequences)));
        return weights.mapRows(rows, (w, partition) -> new PartitionPredictions(partition, configuration, w, inputs,
                featuresAt, vector, features, owner, columns, sequences), Encoders.row(output));
    }

    @Override
    public M copy(ParamMap extra) {
        M copy = withNetwork(uid, spec, parameters, history);
        copyValues(copy, extra);
        return copy.setParent(parent());
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    /** Writes Spark's param metadata, then the network as a DL4J zip, replaced atomically. */
    private static final class Writer extends MLWriter {
        private final NetworkModel<?> model;

        Writer(NetworkModel<?> model) {
            this.model = model;
        }

        @Override
        public void saveImpl(String path) {
            DefaultParamsWriter.saveMetadata(model, path, sparkSession());
            Configuration hadoop = sparkSession().sparkContext().hadoopConfiguration();
            MultiLayerNetwork net = model.network();
            new AtomicFiles(hadoop).write(new Path(path, WEIGHTS), out -> ModelSerializer.writeModel(net, out, false));
        }
    }

    /** Makes a loaded model of a subclass's type, without a training summary. */
    @FunctionalInterface
    interface LoadedModel<M> {
        M create(String uid, ModelSpec spec, float[] parameters);
    }

    /**
     * Reads what {@link Writer} wrote. The metadata names the saved model's class, which must be
     * {@code type}, as Spark's own readers require.
     */
    static final class Reader<M extends NetworkModel<M>> extends MLReader<M> {
        private final Class<M> type;
        private final LoadedModel<M> loaded;

        Reader(Class<M> type, LoadedModel<M> loaded) {
            this.type = type;
            this.loaded = loaded;
        }

        @Override
        public M load(String path) {
            DefaultParamsReader.Metadata metadata = DefaultParamsReader.loadMetadata(path, sparkSession(),
                    type.getName());
            Configuration hadoop = sparkSession().sparkContext().hadoopConfiguration();
            String weights = new Path(path, WEIGHTS).toString();
            MultiLayerNetwork net;
            try (InputStream in = InputFiles.open(weights, hadoop)) {
                net = ModelSerializer.restoreMultiLayerNetwork(in, false);
            } catch (IOException e) {
                throw new IllegalArgumentException(weights + ": cannot be read as a DL4J model: " + e.getMessage(), e);
            }
            ModelSpec spec = ModelSpec.fromConfiguration(net.getLayerWiseConfigurations(), weights);
            M model = loaded.create(metadata.uid(), spec, TrainingState.of(net).copyParameters());
            metadata.getAndSetParams(model, Option.empty());
            return model;
        }
    }
}
