package dptrain.testing;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dptrain.data.Example;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.driver.export.OnnxExport;
import dptrain.driver.inference.SavedModel;
import dptrain.inference.RowPredictions;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * Runs raw feature rows through a model.zip as {@code dptrain predict} does (scaling, normalizer,
 * DL4J's network) and through its exported ONNX file in ONNX Runtime, and compares the two.
 */
public final class OnnxParity {
    private static final int BATCH = 1000;

    private OnnxParity() {
    }

    /**
     * How far the ONNX outputs are from DL4J's on {@code rows}.
     *
     * @param rows                the rows compared
     * @param sameClass           rows whose predicted_class equals DL4J's predicted class (0 for a regression)
     * @param maxOutputDifference the largest absolute difference between an output of ONNX Runtime and DL4J's
     */
    public record Comparison(int rows, int sameClass, double maxOutputDifference) {
    }

    /** Compares on {@code features}, raw rows as the data files hold them (before any scaling). */
    public static Comparison compare(Path modelZip, Path onnx, List<float[]> features) throws IOException, OrtException {
        return compare(modelZip, onnx, features, null);
    }

    /**
     * As {@link #compare(Path, Path, List)}, DL4J's side scaling the features by {@code scale}, or
     * by the scaling the model records when null (as export's --scale does).
     */
    public static Comparison compare(Path modelZip, Path onnx, List<float[]> features, Float scale)
            throws IOException, OrtException {
        SavedModel saved = SavedModel.load(modelZip.toString(), new Configuration());
        int inputs = saved.spec().inputSize();
        boolean regression = saved.spec().isRegression();
        MinibatchBuilder builder = new MinibatchBuilder(BATCH, inputs, saved.spec().outputSize(),
                saved.spec().targetEncoding(), scale != null ? scale : saved.featureScale());
        if (saved.normalizer() != null) {
            builder = builder.withNormalizer(saved.normalizer());
        }
        List<Example> examples = features.stream().map(Example::unlabeled).toList();
        Iterator<Minibatch> batches = builder.batches(examples.iterator());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int sameClass = 0;
        double maxDifference = 0;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(Files.readAllBytes(onnx), options)) {
                int offset = 0;
                while (batches.hasNext()) {
                    Minibatch batch = batches.next();
                    RowPredictions dl4j = RowPredictions.of(saved.network(), batch, saved.spec().targetEncoding());
                    int rows = batch.rows();
                    FloatBuffer raw = FloatBuffer.allocate(rows * inputs);
                    for (int r = 0; r < rows; r++) {
                        raw.put(features.get(offset + r));
                    }
                    raw.flip();
                    try (OnnxTensor input = OnnxTensor.createTensor(env, raw, new long[] {rows, inputs});
                            OrtSession.Result result = session.run(Map.of(OnnxExport.INPUT, input))) {
                        float[][] outputs = (float[][]) result.get(regression ? OnnxExport.PREDICTION
                                : OnnxExport.PROBABILITIES).orElseThrow().getValue();
                        long[] classes = regression ? null
                                : (long[]) result.get(OnnxExport.PREDICTED_CLASS).orElseThrow().getValue();
                        for (int r = 0; r < rows; r++) {
                            for (int c = 0; c < dl4j.columns(); c++) {
                                maxDifference = Math.max(maxDifference, Math.abs(outputs[r][c] - dl4j.output(r, c)));
                            }
                            if (!regression && classes[r] == dl4j.predictedClass(r)) {
                                sameClass++;
                            }
                        }
                    }
                    offset += rows;
                }
                return new Comparison(offset, sameClass, maxDifference);
            }
        }
    }

    /** Fashion-MNIST's {@code set} rows {@code [from, from + count)} as raw pixel values 0-255. */
    public static List<float[]> pixels(String set, int from, int count) throws IOException {
        byte[] bytes = FashionMnist.pixels(set, from, count);
        List<float[]> rows = new ArrayList<>(count);
        for (int r = 0; r < count; r++) {
            float[] row = new float[FashionMnist.PIXELS];
            for (int i = 0; i < row.length; i++) {
                row[i] = bytes[r * FashionMnist.PIXELS + i] & 0xff;
            }
            rows.add(row);
        }
        return rows;
    }
}
