package dptrain.driver.export;

import dptrain.data.FeatureNormalizer;
import dptrain.driver.files.AtomicFiles;
import dptrain.driver.inference.SavedModel;
import dptrain.driver.output.Versions;
import dptrain.spec.Normalization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import onnx.Onnx.ModelProto;
import onnx.Onnx.OperatorSetIdProto;
import onnx.Onnx.StringStringEntryProto;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * A saved model as one ONNX model: raw features in ({@value #INPUT}, float [N, inputs]), the
 * model's feature scaling and fitted normalizer as the graph's first nodes, then the network. A
 * classifier gives {@value #PROBABILITIES} (the output layer's values) and {@value #PREDICTED_CLASS}
 * (int64: the arg max, or for one sigmoid unit 1 when it is above 0.5, as {@code dptrain predict}
 * decides); a regression gives {@value #PREDICTION}. Opset {@value #OPSET} and IR version 8, which
 * ONNX Runtime 1.12 and later run (the tests use 1.20).
 */
public final class OnnxExport {
    /** The operator set the graph is written against. */
    public static final int OPSET = 17;
    /** ONNX's IR version that goes with opset 17 (ONNX 1.12). */
    public static final long IR_VERSION = 8;
    public static final String INPUT = "features";
    public static final String PROBABILITIES = "probabilities";
    public static final String PREDICTED_CLASS = "predicted_class";
    public static final String PREDICTION = "prediction";

    private final ModelProto model;
    private final List<String> steps;

    private OnnxExport(ModelProto model, List<String> steps) {
        this.model = model;
        this.steps = List.copyOf(steps);
    }

    /**
     * Translates {@code saved}, whose features are multiplied by {@code featureScale} before its
     * normalizer, as {@code dptrain train} did.
     *
     * @throws dptrain.driver.files.InputException naming the first layer (index, name, DL4J class)
     *                                             or input preprocessor that has no ONNX form here
     */
    public static OnnxExport of(SavedModel saved, float featureScale) {
        OnnxGraph graph = new OnnxGraph("dptrain");
        List<String> steps = new ArrayList<>();
        int inputs = saved.spec().inputSize();
        graph.floatInput(INPUT, inputs);
        String x = INPUT;
        if (featureScale != 1f) {
            x = graph.node("Mul", List.of(x, graph.constant("feature_scale", new float[] {featureScale}, 1)));
            steps.add("Mul by the feature scale " + featureScale);
        }
        FeatureNormalizer normalizer = saved.normalizer();
        if (normalizer != null) {
            x = normalize(graph, x, normalizer);
            steps.add(normalizer.kind() == Normalization.STANDARDIZE ? "standardize (Sub mean, Div std)"
                    : "min-max onto [0, 1] (Sub min, Div max - min)");
        }
        NetworkTranslation network = NetworkTranslation.translate(saved, graph, x);
        steps.addAll(network.steps());
        String last = network.output();
        int outputs = saved.spec().outputSize();
        if (saved.spec().isRegression()) {
            graph.nodeInto(PREDICTION, "Identity", List.of(last));
            graph.floatOutput(PREDICTION, outputs);
        } else {
            graph.nodeInto(PROBABILITIES, "Identity", List.of(last));
            graph.floatOutput(PROBABILITIES, outputs);
            if (outputs == 1) {
                // One sigmoid unit: class 1 when its value is above 0.5, compared in float as predict does.
                String above = graph.node("Greater", List.of(last, graph.constant("threshold", new float[] {0.5f}, 1)));
                String asLong = graph.node("Cast", List.of(above),
                        OnnxGraph.intAttribute("to", onnx.Onnx.TensorProto.DataType.INT64.getNumber()));
                graph.nodeInto(PREDICTED_CLASS, "Reshape", List.of(asLong, graph.longs("rows", -1)));
                steps.add("predicted_class: value > 0.5");
            } else {
                // ArgMax takes the first of equal values, as ND4J's argMax does.
                graph.nodeInto(PREDICTED_CLASS, "ArgMax", List.of(last), OnnxGraph.intAttribute("axis", 1),
                        OnnxGraph.intAttribute("keepdims", 0));
                steps.add("predicted_class: ArgMax");
            }
            graph.longOutput(PREDICTED_CLASS);
        }
        ModelProto.Builder model = ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("dptrain")
                .setProducerVersion(Versions.DPTRAIN).setModelVersion(1)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setDocString("Exported by dptrain " + Versions.DPTRAIN + " from " + saved.uri() + ": "
                        + String.join("; ", steps))
                .setGraph(graph.build());
        metadata(saved, featureScale).forEach((key, value) ->
                model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(key).setValue(value)));
        return new OnnxExport(model.build(), steps);
    }

    private static String normalize(OnnxGraph graph, String x, FeatureNormalizer normalizer) {
        float[][] stats = normalizer.statistics();
        int features = stats[0].length;
        if (normalizer.kind() == Normalization.STANDARDIZE) {
            float[] std = stats[1];
            for (int i = 0; i < std.length; i++) {
                // DL4J's StandardizeStrategy divides by 1 where the standard deviation is 0.
                std[i] = std[i] == 0f ? 1f : std[i];
            }
            String centred = graph.node("Sub", List.of(x, graph.constant("mean", stats[0], 1, features)));
            return graph.node("Div", List.of(centred, graph.constant("std", std, 1, features)));
        }
        // DL4J's MinMaxStrategy onto [0, 1]: (x - min) / (max - min), the range computed in float.
        float[] range = new float[features];
        for (int i = 0; i < features; i++) {
            range[i] = stats[1][i] - stats[0][i];
        }
        String shifted = graph.node("Sub", List.of(x, graph.constant("min", stats[0], 1, features)));
        return graph.node("Div", List.of(shifted, graph.constant("range", range, 1, features)));
    }

    private static Map<String, String> metadata(SavedModel saved, float featureScale) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("dptrain.source_model", saved.uri());
        props.put("dptrain.feature_scale", Float.toString(featureScale));
        props.put("dptrain.normalization", saved.normalizer() == null ? "none" : saved.normalizer().kind().specName());
        props.put("dptrain.loss", saved.spec().lossName());
        props.put("dptrain.parameters", Long.toString(saved.spec().parameterCount()));
        return props;
    }

    /** The serialized ONNX model. */
    public byte[] bytes() {
        return model.toByteArray();
    }

    /** What the graph does, in order: the preprocessing, each layer, the outputs' decision. */
    public List<String> steps() {
        return steps;
    }

    /** The graph's output names, in order. */
    public List<String> outputs() {
        return model.getGraph().getOutputList().stream().map(o -> o.getName()).toList();
    }

    /** Writes the model to {@code target} atomically: a failed write leaves no partial file. */
    public void write(Path target, Configuration conf) {
        byte[] bytes = bytes();
        new AtomicFiles(conf).write(target, out -> out.write(bytes));
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "ONNX opset %d: %s", OPSET, String.join("; ", steps));
    }
}
