package dptrain.driver.inference;

import dptrain.data.Example;
import dptrain.data.ExampleCheck;
import dptrain.data.IdxHeader;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.driver.files.AtomicFiles;
import dptrain.driver.files.InputException;
import dptrain.driver.files.InputFiles;
import dptrain.driver.input.DataFormat;
import dptrain.driver.input.DataInput;
import dptrain.driver.input.ExampleSource;
import dptrain.driver.input.IndexedExamples;
import dptrain.driver.input.ValidationReport;
import dptrain.inference.BinaryScores;
import dptrain.inference.InferenceModel;
import dptrain.inference.PartitionEvaluation;
import dptrain.inference.RowPredictions;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.OptionalDouble;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Evaluation and batch prediction with a saved model, computed where the data lives: the
 * parameters are broadcast once, each partition of the input (as read, in file order) is batched,
 * scaled and normalized as in training, and run through its own copy of the network. No shuffle:
 * the examples stay in the partitions that read them.
 */
public final class DistributedInference {
    /** The output column holding each row's position in the input (file order, then record order). */
    public static final String ROW_ID = "row_id";
    public static final String PREDICTED_CLASS = "predicted_class";
    /**
     * A regression model's output column: {@code prediction} for one output unit, {@code prediction_<j>} for
     * output unit j of several.
     */
    public static final String PREDICTION = "prediction";
    /** Output column {@code probability_<c>} holds output unit c's value (class c's probability for softmax). */
    public static final String PROBABILITY_PREFIX = "probability_";

    private final JavaSparkContext jsc;

    public DistributedInference(JavaSparkContext jsc) {
        this.jsc = jsc;
    }

    /**
     * The result of an evaluation: a classifier's or a regression model's.
     *
     * @param metrics    a classifier's: DL4J's evaluation and the mean loss over every example; null for regression
     * @param regression a regression model's errors, R² and residuals; null for a classifier
     * @param report     what the validation pass found (bad records skipped under --on-bad-record skip)
     * @param topK       the k of the top-k accuracy (a classifier's)
     * @param binary     for a binary classifier, its metrics at the threshold {@code metrics} was counted at;
     *                   empty for any other model
     */
    public record Evaluated(PartitionEvaluation metrics, RegressionEvaluation regression, ValidationReport report,
            int topK, Optional<BinaryMetrics> binary) {

        /** Examples evaluated. */
        public long examples() {
            return regression != null ? regression.examples() : metrics.examples();
        }
    }

    /**
     * Evaluates {@code model} on {@code input}: labels must be classes of the model. Per-partition
     * results are merged in partition order. A binary classifier is cut at the default threshold.
     */
    public Evaluated evaluate(SavedModel model, DataInput input, int batchSize, int topK) {
        return evaluate(model, input, batchSize, topK, OptionalDouble.empty());
    }

    /**
     * As {@link #evaluate(SavedModel, DataInput, int, int)}; a binary classifier is cut at {@code
     * threshold} (default {@link BinaryMetrics#DEFAULT_THRESHOLD}), which then decides the accuracy,
     * the per-class figures and the confusion matrix too, and also gets its {@link BinaryMetrics}.
     *
     * @throws dptrain.driver.files.ParameterException for a threshold out of range or given for a model that is not binary
     */
    public Evaluated evaluate(SavedModel model, DataInput input, int batchSize, int topK, OptionalDouble threshold) {
        if (!input.hasLabels()) {
            // The CLI refuses evaluate --no-label first; this guards the library's other callers.
            throw new IllegalArgumentException(input.uri() + " has no labels; evaluation compares predictions with "
                    + "labels, so it needs labelled data");
        }
        ModelSpec spec = model.spec();
        OptionalDouble cut = BinaryMetrics.threshold(spec, model.uri(), threshold);
        jsc.setJobDescription("dptrain read and check --data");
        IndexedExamples data = ExampleSource.read(jsc, input, "--data", new ExampleCheck(spec),
                spec.inputSize(), jsc.defaultParallelism());
        try {
            return evaluate(spec, model, input, batchSize, topK, cut, data);
        } finally {
            data.release();
        }
    }

    private Evaluated evaluate(ModelSpec spec, SavedModel model, DataInput input, int batchSize, int topK,
            OptionalDouble cut, IndexedExamples data) {
        MinibatchBuilder builder = builder(model, input, batchSize);
        InferenceModel inference = model.inferenceModel();
        if (spec.isRegression()) {
            jsc.setJobDescription("dptrain evaluate");
            RegressionEvaluation regression = RegressionEvaluation.of(jsc, inference,
                    data.examples().values().mapPartitions(builder::batches));
            return new Evaluated(null, regression, data.report(), topK, Optional.empty());
        }
        try (ModelOnPartitions<InferenceModel> parameters = ModelOnPartitions.broadcast(jsc, inference)) {
            jsc.setJobDescription("dptrain evaluate");
            if (cut.isEmpty()) {
                PartitionEvaluation all = parameters.combine(data.examples().values(),
                        (m, examples) -> PartitionEvaluation.of(m, builder.batches(examples), topK),
                        PartitionEvaluation.empty(inference.classes(), topK), PartitionEvaluation::merge);
                return new Evaluated(all, null, data.report(), topK, Optional.empty());
            }
            double at = cut.getAsDouble();
            PartitionEvaluation all = parameters.combine(data.examples().values(),
                    (m, examples) -> PartitionEvaluation.of(m, builder.batches(examples), topK, at),
                    PartitionEvaluation.empty(inference.classes(), topK, at), PartitionEvaluation::merge);
            jsc.setJobDescription("dptrain evaluate: ROC and precision-recall curves");
            BinaryMetrics binary = BinaryMetrics.of(parameters.map(data.examples().values(),
                    (m, examples) -> BinaryScores.of(m, builder.batches(examples))), at);
            return new Evaluated(all, null, data.report(), topK, Optional.of(binary));
        }
    }

    /** Where predictions are written and how. */
    public enum OutputFormat {
        PARQUET, CSV;

        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The result of a prediction run.
     *
     * @param rows   rows written
     * @param report what the validation pass found
     */
    public record Predicted(long rows, ValidationReport report) {
    }

    /**
     * Predicts every row of {@code input} and writes {@code row_id} (the row's position in the input),
     * the {@code idColumn} value when given (Parquet input only), then for a classifier {@code predicted_class}
     * and one {@code probability_<c>} column per output unit, for a regression {@code prediction} (or
     * {@code prediction_<j>} per output unit of several), sorted by row id, to {@code output}, which
     * is replaced atomically (see {@link AtomicFiles#writeFolder}). Labels in the input are read
     * but not used; an input without labels ({@link DataInput.Labels#ABSENT}) gives the same rows.
     */
    public Predicted predict(SavedModel model, DataInput input, int batchSize, String idColumn, String output,
            OutputFormat format, boolean overwrite) {
        ModelSpec spec = model.spec();
        jsc.setJobDescription("dptrain read and check --data");
        IndexedExamples data = ExampleSource.read(jsc, input, "--data", ExampleCheck.featuresOnly(spec),
                spec.inputSize(), jsc.defaultParallelism());
        try {
            return predict(spec, model, input, batchSize, idColumn, output, format, overwrite, data);
        } finally {
            data.release();
        }
    }

    private Predicted predict(ModelSpec spec, SavedModel model, DataInput input, int batchSize, String idColumn,
            String output, OutputFormat format, boolean overwrite, IndexedExamples data) {
        IdColumn ids = idColumn == null ? null : IdColumn.read(jsc, input, idColumn, data);
        MinibatchBuilder builder = builder(model, input, batchSize);
        try (ModelOnPartitions<InferenceModel> parameters = ModelOnPartitions.broadcast(jsc, model.inferenceModel())) {
            jsc.setJobDescription("dptrain predict");
            JavaRDD<Row> rows = parameters.map(data.examples(), (m, examples) -> predictRows(m, builder, examples));
            StructType schema = new StructType()
                    .add(ROW_ID, DataTypes.LongType, false);
            if (ids != null) {
                rows = ids.attach(rows);
                schema = schema.add(ids.field());
            }
            if (spec.isRegression()) {
                for (int c = 0; c < spec.outputSize(); c++) {
                    schema = schema.add(spec.outputSize() == 1 ? PREDICTION : PREDICTION + "_" + c,
                            DataTypes.FloatType, false);
                }
            } else {
                schema = schema.add(PREDICTED_CLASS, DataTypes.IntegerType, false);
                for (int c = 0; c < spec.outputSize(); c++) {
                    schema = schema.add(PROBABILITY_PREFIX + c, DataTypes.FloatType, false);
                }
            }
            SparkSession spark = SparkSession.builder().sparkContext(jsc.sc()).getOrCreate();
            Dataset<Row> table = spark.createDataFrame(rows, schema);
            new AtomicFiles(jsc.hadoopConfiguration()).writeFolder(new Path(output), overwrite, "--output",
                    folder -> table.write().format(format.cliName()).option("header", "true").save(folder.toString()));
            return new Predicted(data.count(), data.report());
        }
    }

    /** Fails unless {@code idColumn} is null or {@code input} is Parquet, the one format with named columns. */
    public static void checkIdColumn(DataInput input, String idColumn) {
        if (idColumn != null && input.format() != DataFormat.PARQUET) {
            throw new InputException("--id-col " + idColumn + ": key columns are read from Parquet input only, but "
                    + input.uri() + " is " + input.format().cliName() + "; its rows are identified by row_id");
        }
    }

    /**
     * Compares the model's input size with the data's feature count where the data tells it
     * cheaply (an IDX header, a CSV file's first line, all of whose columns are features when the
     * input has no labels), so a data set meant for another model fails with one sentence naming
     * both numbers. Other formats are checked record by record.
     */
    public static void checkFeatureCount(SavedModel model, DataInput input, Configuration hadoop) {
        int expected = model.spec().inputSize();
        String found = null;
        if (input.format() == DataFormat.IDX) {
            String images = InputFiles.idxImages(input.uri(), hadoop);
            try (InputStream in = InputFiles.openIdx(images, hadoop)) {
                IdxHeader header = IdxHeader.read(in, images);
                if (header.recordSize() != expected) {
                    StringBuilder shape = new StringBuilder();
                    for (int d = 1; d < header.dimensionCount(); d++) {
                        shape.append(d == 1 ? "" : "×").append(header.dimension(d));
                    }
                    found = images + " holds images of " + shape + " = " + header.recordSize() + " features";
                }
            } catch (IOException e) {
                throw new InputException(images + ": cannot be read: " + e.getMessage(), e);
            }
        } else if (input.format() == DataFormat.CSV) {
            String file = InputFiles.dataFiles(input.uri(), hadoop).get(0);
            String line = firstDataLine(file, input.csv().header(), hadoop);
            int labelColumns = input.hasLabels() ? input.csv().labelColumns().size() : 0;
            int features = line == null ? expected : line.split(java.util.regex.Pattern.quote(
                    String.valueOf(input.csv().delimiter())), -1).length - labelColumns;
            if (features != expected) {
                int lineNumber = input.csv().header() ? 2 : 1;
                found = file + " has " + features + " features per row (line " + lineNumber
                        + (input.hasLabels() ? " has " + (labelColumns == 1 ? "a label" : labelColumns + " labels")
                                + " and " + features + " values)"
                                : " has " + features + " values and, with --no-label, no label)");
                if (input.hasLabels() && features == expected - 1) {
                    // One column short of a labelled row: most likely rows without a label column.
                    throw new InputException("--data: " + found + " but the model " + model.uri() + " takes "
                            + expected + " inputs; if the rows have no label column, predict them with --no-label "
                            + "(every column is then a feature), else expected data with " + expected + " features");
                }
            }
        }
        if (found != null) {
            throw new InputException("--data: " + found + " but the model " + model.uri() + " takes " + expected
                    + " inputs; expected data with " + expected + " features, as the model was trained on");
        }
    }

    private static String firstDataLine(String file, boolean header, Configuration hadoop) {
        try (InputStream raw = InputFiles.open(file, hadoop);
                InputStream in = file.endsWith(".gz") ? new java.util.zip.GZIPInputStream(raw) : raw;
                java.io.BufferedReader lines = new java.io.BufferedReader(
                        new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8))) {
            String line = lines.readLine();
            return header && line != null ? lines.readLine() : line;
        } catch (IOException e) {
            // The record-by-record check reports an unreadable file with its line.
            return null;
        }
    }

    private static MinibatchBuilder builder(SavedModel model, DataInput input, int batchSize) {
        ModelSpec spec = model.spec();
        MinibatchBuilder builder = new MinibatchBuilder(batchSize, spec.inputSize(), spec.outputSize(),
                spec.targetEncoding(), input.featureMultiplier());
        return model.normalizer() == null ? builder : builder.withNormalizer(model.normalizer());
    }

    /**
     * One output row per example, in the partition's order: its id, predicted class and outputs.
     * Labels are replaced by {@link Example#UNLABELED} before batching. The builder pulls examples one at a time; their ids queue up in that order, and each batch
     * takes as many ids as it has rows.
     */
    private static Iterator<Row> predictRows(InferenceModel model, MinibatchBuilder builder,
            Iterator<Tuple2<Long, Example>> examples) {
        ArrayDeque<Long> pendingIds = new ArrayDeque<>();
        Iterator<Example> tracked = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return examples.hasNext();
            }

            @Override
            public Example next() {
                Tuple2<Long, Example> next = examples.next();
                pendingIds.add(next._1());
                // Prediction never uses labels: the placeholder keeps a label the model has no class for
                // (unchecked here) out of the one-hot encoding, and labelled and unlabelled data alike.
                return Example.unlabeled(next._2().features());
            }
        };
        Iterator<Minibatch> batches = builder.batches(tracked);
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork net = batches.hasNext() ? model.network() : null;
        return new Iterator<>() {
            private RowPredictions current;
            private long[] currentIds;
            private int row;

            @Override
            public boolean hasNext() {
                return (current != null && row < current.rows()) || batches.hasNext();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                if (current == null || row == current.rows()) {
                    Minibatch batch = batches.next();
                    current = RowPredictions.of(net, batch, model.encoding());
                    currentIds = new long[batch.rows()];
                    for (int r = 0; r < currentIds.length; r++) {
                        currentIds[r] = pendingIds.remove();
                    }
                    row = 0;
                }
                // A classifier's row: id, predicted class, outputs; a regression's: id, outputs.
                int first = model.encoding().isRegression() ? 1 : 2;
                Object[] values = new Object[first + current.columns()];
                values[0] = currentIds[row];
                if (first == 2) {
                    values[1] = current.predictedClass(row);
                }
                for (int c = 0; c < current.columns(); c++) {
                    values[first + c] = current.output(row, c);
                }
                row++;
                return RowFactory.create(values);
            }
        };
    }

    /**
     * A Parquet input's key column carried through to the predictions. Rows are matched by their
     * position: the key column is read in the same scan order as the examples, which are numbered
     * in that order when no record was left out.
     */
    private record IdColumn(JavaPairRDD<Long, Object> values, StructField field) {
        static IdColumn read(JavaSparkContext jsc, DataInput input, String name, IndexedExamples data) {
            checkIdColumn(input, name);
            if (data.report().badRecords() > 0) {
                throw new InputException("--id-col " + name + ": cannot be matched to the rows of " + input.uri()
                        + " when records are skipped (" + data.report().badRecords() + " were); fix the bad records or "
                        + "drop --id-col and use row_id");
            }
            SparkSession spark = SparkSession.builder().sparkContext(jsc.sc()).getOrCreate();
            List<String> files = InputFiles.dataFiles(input.uri(), jsc.hadoopConfiguration());
            Dataset<Row> table = spark.read().parquet(files.toArray(String[]::new));
            if (!List.of(table.schema().fieldNames()).contains(name)) {
                throw new InputException(input.uri() + ": has no column '" + name + "'; its columns are "
                        + String.join(", ", table.schema().fieldNames()) + " (set --id-col)");
            }
            if (name.equals(ROW_ID) || name.equals(PREDICTED_CLASS) || name.startsWith(PROBABILITY_PREFIX)
                    || name.startsWith(PREDICTION)) {
                throw new InputException("--id-col " + name + ": the output has a column of that name; rename the "
                        + "input's column");
            }
            StructField field = table.schema().apply(name);
            // Examples are numbered in file order, (file, row) as Spark orders them: so are the ids.
            JavaPairRDD<Long, Object> values = table.select(functions.col("_metadata.file_path").as("file"),
                            functions.col("_metadata.row_index").as("row"), functions.col(name))
                    .orderBy("file", "row").javaRDD().zipWithIndex()
                    .mapToPair(r -> new Tuple2<>(r._2(), r._1().get(2)));
            return new IdColumn(values, field);
        }

        /** The prediction rows with the key inserted after row_id, sorted by row_id again after the join. */
        JavaRDD<Row> attach(JavaRDD<Row> predictions) {
            return predictions.mapToPair(r -> new Tuple2<>(r.getLong(0), r))
                    .join(values)
                    .sortByKey()
                    .values()
                    .map(pair -> {
                        Row prediction = pair._1();
                        Object[] out = new Object[prediction.length() + 1];
                        out[0] = prediction.get(0);
                        out[1] = pair._2();
                        for (int i = 1; i < prediction.length(); i++) {
                            out[i + 1] = prediction.get(i);
                        }
                        return RowFactory.create(out);
                    });
        }
    }
}
