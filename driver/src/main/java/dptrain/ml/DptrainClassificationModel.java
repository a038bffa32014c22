package dptrain.ml;

import dptrain.driver.files.AtomicFiles;
import dptrain.driver.files.InputFiles;
import dptrain.driver.inference.ModelOnPartitions;
import dptrain.driver.rounds.EpochRecord;
import dptrain.replica.TrainingState;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import scala.Option;

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
public final class DptrainClassificationModel extends Model<DptrainClassificationModel> implements MLWritable {
    private static final long serialVersionUID = 1L;
    /** The network's file under the model's path. */
    public static final String WEIGHTS = "dl4j/model.zip";
    /** Rows per forward pass in {@link #transform}. */
    private static final int ROWS_PER_BATCH = 256;

    private final String uid;
    private final ModelSpec spec;
    private final float[] parameters;
    /** The per-epoch history of the fit that made this model; null for a loaded model (not saved, as in Spark). */
    private final transient List<EpochRecord> history;
    private final Param<String> featuresCol;
    private final Param<String> predictionCol;
    private final Param<String> probabilityCol;

    DptrainClassificationModel(String uid, ModelSpec spec, float[] parameters, List<EpochRecord> history) {
        this.uid = uid;
        this.spec = spec;
        this.parameters = parameters;
        this.history = history == null ? null : List.copyOf(history);
        featuresCol = ParamRules.featuresCol(this);
        predictionCol = ParamRules.predictionCol(this);
        probabilityCol = ParamRules.probabilityCol(this);
        setDefault(featuresCol, ParamRules.FEATURES_COL);
        setDefault(predictionCol, ParamRules.PREDICTION_COL);
        setDefault(probabilityCol, ParamRules.PROBABILITY_COL);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> featuresCol() {
        return featuresCol;
    }

    public Param<String> predictionCol() {
        return predictionCol;
    }

    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    public DptrainClassificationModel setFeaturesCol(String value) {
        set(featuresCol, value);
        return this;
    }

    public DptrainClassificationModel setPredictionCol(String value) {
        set(predictionCol, value);
        return this;
    }

    public DptrainClassificationModel setProbabilityCol(String value) {
        set(probabilityCol, value);
        return this;
    }

    /** True for a model fresh from {@link DptrainClassifier#fit}; a loaded model has no training summary. */
    public boolean hasSummary() {
        return history != null;
    }

    /**
     * The fit's history, one record per epoch: training loss and accuracy, and validation loss and
     * accuracy when {@code validationFraction} was set (NaN otherwise), as {@code history.json} has them.
     *
     * @throws IllegalStateException for a loaded model
     */
    public List<EpochRecord> summary() {
        if (history == null) {
            throw new IllegalStateException("DptrainClassificationModel " + uid + " has no training summary: it "
                    + "was loaded, and summaries are not saved; expected a model returned by fit (see hasSummary)");
        }
        return history;
    }

    /** Classes the model tells apart: its output units, or 2 for a single sigmoid unit. */
    public int numClasses() {
        return Math.max(2, spec.outputSize());
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

    @Override
    public StructType transformSchema(StructType schema) {
        ParamRules.checkFeatures(this, schema, "featuresCol", getOrDefault(featuresCol));
        return outputSchema(this, schema, getOrDefault(predictionCol), getOrDefault(probabilityCol));
    }

    /** {@code schema} with the prediction and probability columns added, after checking they are new. */
    static StructType outputSchema(Params owner, StructType schema, String prediction, String probability) {
        ParamRules.checkNew(owner, schema, "predictionCol", prediction);
        ParamRules.checkNew(owner, schema, "probabilityCol", probability);
        if (prediction.equals(probability)) {
            throw new IllegalArgumentException(owner.getClass().getSimpleName() + " probabilityCol: '" + probability
                    + "' is also the predictionCol; expected two different column names");
        }
        return schema.add(prediction, DataTypes.DoubleType, false).add(probability, new VectorUDT(), false);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType output = transformSchema(dataset.schema());
        Dataset<Row> rows = dataset.toDF();
        String features = getOrDefault(featuresCol);
        int featuresAt = rows.schema().fieldIndex(features);
        boolean vector = rows.schema().apply(features).dataType() instanceof VectorUDT;
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
        ModelOnPartitions<float[]> weights = ModelOnPartitions.broadcast(jsc, parameters);
        // Only the broadcast handle, the configuration JSON and a few numbers travel in the task closure.
        String configuration = spec.configurationJson();
        int inputs = spec.inputSize();
        return weights.mapRows(rows, (w, partition) -> new Predictions(partition, configuration, w, inputs, featuresAt,
                vector, features), Encoders.row(output));
    }

    /** One partition's rows with their prediction and probabilities appended, predicted a minibatch at a time. */
    private static final class Predictions implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final String configuration;
        private final float[] weights;
        private final int inputs;
        private final int featuresAt;
        private final boolean vector;
        private final String features;
        private MultiLayerNetwork net;
        private final List<Row> batch = new ArrayList<>();
        private float[][] probabilities;
        private int next;

        Predictions(Iterator<Row> rows, String configuration, float[] weights, int inputs, int featuresAt,
                boolean vector, String features) {
            this.rows = rows;
            this.configuration = configuration;
            this.weights = weights;
            this.inputs = inputs;
            this.featuresAt = featuresAt;
            this.vector = vector;
            this.features = features;
        }

        @Override
        public boolean hasNext() {
            return next < batch.size() || rows.hasNext();
        }

        @Override
        public Row next() {
            if (next == batch.size()) {
                if (!rows.hasNext()) {
                    throw new NoSuchElementException();
                }
                predictNextBatch();
            }
            Row row = batch.get(next);
            float[] p = probabilities[next];
            next++;
            double[] classes = p.length == 1 ? new double[] {1 - p[0], p[0]} : toDoubles(p);
            Object[] values = new Object[row.length() + 2];
            for (int i = 0; i < row.length(); i++) {
                values[i] = row.get(i);
            }
            values[row.length()] = (double) argmax(classes);
            values[row.length() + 1] = Vectors.dense(classes);
            return RowFactory.create(values);
        }

        private void predictNextBatch() {
            batch.clear();
            next = 0;
            while (batch.size() < ROWS_PER_BATCH && rows.hasNext()) {
                batch.add(rows.next());
            }
            float[] x = new float[batch.size() * inputs];
            for (int r = 0; r < batch.size(); r++) {
                copyFeatures(batch.get(r), x, r * inputs);
            }
            if (net == null) {
                net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configuration));
                net.init(Nd4j.createFromArray(weights).reshape(1, weights.length), true);
            }
            INDArray out = net.output(Nd4j.create(x, new long[] {batch.size(), inputs}, 'c'), false);
            probabilities = out.toFloatMatrix();
        }

        private void copyFeatures(Row row, float[] x, int offset) {
            if (row.isNullAt(featuresAt)) {
                throw new IllegalArgumentException("DptrainClassificationModel featuresCol: column '" + features
                        + "' is null in a row; expected " + inputs + " features");
            }
            int found;
            if (vector) {
                Vector v = (Vector) row.get(featuresAt);
                found = v.size();
                if (found == inputs) {
                    v.foreachActive((i, value) -> {
                        x[offset + (Integer) i] = (float) (double) (Double) value;
                        return null;
                    });
                }
            } else {
                List<Object> values = row.getList(featuresAt);
                found = values.size();
                for (int i = 0; i < Math.min(found, inputs); i++) {
                    Object value = values.get(i);
                    if (value == null) {
                        throw new IllegalArgumentException("DptrainClassificationModel featuresCol: column '"
                                + features + "' holds null at index " + i + "; expected a number");
                    }
                    x[offset + i] = ((Number) value).floatValue();
                }
            }
            if (found != inputs) {
                throw new IllegalArgumentException("DptrainClassificationModel featuresCol: column '" + features
                        + "' holds " + found + " features in a row; expected " + inputs
                        + " to match the model's input_shape");
            }
        }

        private static double[] toDoubles(float[] values) {
            double[] out = new double[values.length];
            for (int i = 0; i < values.length; i++) {
                out[i] = values[i];
            }
            return out;
        }

        private static int argmax(double[] values) {
            int best = 0;
            for (int i = 1; i < values.length; i++) {
                if (values[i] > values[best]) {
                    best = i;
                }
            }
            return best;
        }
    }

    @Override
    public DptrainClassificationModel copy(ParamMap extra) {
        DptrainClassificationModel copy = new DptrainClassificationModel(uid, spec, parameters, history);
        copyValues(copy, extra);
        return copy.setParent(parent());
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    public static MLReader<DptrainClassificationModel> read() {
        return new Reader();
    }

    public static DptrainClassificationModel load(String path) {
        return read().load(path);
    }

    /** Writes Spark's param metadata, then the network as a DL4J zip, replaced atomically. */
    private static final class Writer extends MLWriter {
        private final DptrainClassificationModel model;

        Writer(DptrainClassificationModel model) {
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

    private static final class Reader extends MLReader<DptrainClassificationModel> {
        @Override
        public DptrainClassificationModel load(String path) {
            DefaultParamsReader.Metadata metadata = DefaultParamsReader.loadMetadata(path, sparkSession(),
                    DptrainClassificationModel.class.getName());
            Configuration hadoop = sparkSession().sparkContext().hadoopConfiguration();
            String weights = new Path(path, WEIGHTS).toString();
            MultiLayerNetwork net;
            try (InputStream in = InputFiles.open(weights, hadoop)) {
                net = ModelSerializer.restoreMultiLayerNetwork(in, false);
            } catch (IOException e) {
                throw new IllegalArgumentException(weights + ": cannot be read as a DL4J model: " + e.getMessage(), e);
            }
            ModelSpec spec = ModelSpec.fromConfiguration(net.getLayerWiseConfigurations(), weights);
            DptrainClassificationModel model = new DptrainClassificationModel(metadata.uid(), spec,
                    TrainingState.of(net).copyParameters(), null);
            metadata.getAndSetParams(model, Option.empty());
            return model;
        }
    }
}
