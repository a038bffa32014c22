package dptrain.testing;

import static org.bytedeco.hdf5.global.hdf5.H5F_ACC_TRUNC;
import static org.bytedeco.hdf5.global.hdf5.H5S_SCALAR;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.hdf5.Attribute;
import org.bytedeco.hdf5.DataSet;
import org.bytedeco.hdf5.DataSpace;
import org.bytedeco.hdf5.Group;
import org.bytedeco.hdf5.H5File;
import org.bytedeco.hdf5.H5Object;
import org.bytedeco.hdf5.PredType;
import org.bytedeco.hdf5.StrType;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;

/**
 * Keras model files as Keras 2 (tf.keras 2.4) writes them: the JSON of {@code model.to_json()}, and the HDF5 layout of
 * {@code model.save("model.h5")} (root attributes model_config, training_config, keras_version, backend; group
 * model_weights with one group per layer, its weight_names attribute and its datasets), written with the HDF5 library
 * DL4J's Keras import reads them with.
 */
public final class KerasFiles {

    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String KERAS_VERSION = "2.4.0";

    /** The book's training configuration: RMSprop with Keras's defaults, categorical cross-entropy, accuracy. */
    public static final String BOOK_TRAINING_CONFIG = "{\"loss\": \"categorical_crossentropy\", \"metrics\": "
            + "[\"accuracy\"], \"weighted_metrics\": null, \"loss_weights\": null, \"sample_weight_mode\": null, "
            + "\"optimizer_config\": {\"class_name\": \"RMSprop\", \"config\": {\"name\": \"RMSprop\", "
            + "\"learning_rate\": 0.001, \"decay\": 0.0, \"rho\": 0.9, \"momentum\": 0.0, \"epsilon\": 1e-07, "
            + "\"centered\": false}}}";

    private KerasFiles() {
    }

    /** A layer's JSON: {@code {"class_name": type, "config": {...}}}. */
    public static ObjectNode layer(String type, String name, Map<String, Object> settings) {
        ObjectNode layer = JSON.createObjectNode();
        layer.put("class_name", type);
        ObjectNode config = layer.putObject("config");
        config.put("name", name);
        config.put("trainable", true);
        config.put("dtype", "float32");
        settings.forEach((key, value) -> config.set(key, JSON.valueToTree(value)));
        return layer;
    }

    public static ObjectNode input(String name, int... shape) {
        return layer("InputLayer", name, Map.of("batch_input_shape", batchShape(shape), "sparse", false,
                "ragged", false));
    }

    public static ObjectNode flatten(String name) {
        return layer("Flatten", name, Map.of("data_format", "channels_last"));
    }

    /** A Dense layer with Keras 2.4's default settings. */
    public static ObjectNode dense(String name, int units, String activation) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("units", units);
        settings.put("activation", activation);
        settings.put("use_bias", true);
        settings.put("kernel_initializer", Map.of("class_name", "GlorotUniform", "config", Map.of()));
        settings.put("bias_initializer", Map.of("class_name", "Zeros", "config", Map.of()));
        settings.put("kernel_regularizer", null);
        settings.put("bias_regularizer", null);
        settings.put("activity_regularizer", null);
        settings.put("kernel_constraint", null);
        settings.put("bias_constraint", null);
        return layer("Dense", name, settings);
    }

    /** A Conv2D layer with Keras 2.4's settings, channels last, stride 1. */
    public static ObjectNode conv2d(String name, int filters, int kernel, String padding, String activation) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("filters", filters);
        settings.put("kernel_size", List.of(kernel, kernel));
        settings.put("strides", List.of(1, 1));
        settings.put("padding", padding);
        settings.put("data_format", "channels_last");
        settings.put("dilation_rate", List.of(1, 1));
        settings.put("groups", 1);
        settings.put("activation", activation);
        settings.put("use_bias", true);
        settings.put("kernel_initializer", Map.of("class_name", "GlorotUniform", "config", Map.of()));
        settings.put("bias_initializer", Map.of("class_name", "Zeros", "config", Map.of()));
        settings.put("kernel_regularizer", null);
        settings.put("bias_regularizer", null);
        settings.put("activity_regularizer", null);
        settings.put("kernel_constraint", null);
        settings.put("bias_constraint", null);
        return layer("Conv2D", name, settings);
    }

    /** MaxPooling2D or AveragePooling2D ({@code type}) with a square pool, its strides the pool size. */
    public static ObjectNode pooling2d(String type, String name, int pool) {
        return layer(type, name, Map.of("pool_size", List.of(pool, pool), "padding", "valid",
                "strides", List.of(pool, pool), "data_format", "channels_last"));
    }

    /** BatchNormalization over the last axis ({@code axis} as Keras 2.4 writes it for an input of that rank). */
    public static ObjectNode batchNormalization(String name, int axis) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("axis", List.of(axis));
        settings.put("momentum", 0.99);
        settings.put("epsilon", 0.001);
        settings.put("center", true);
        settings.put("scale", true);
        settings.put("beta_initializer", Map.of("class_name", "Zeros", "config", Map.of()));
        settings.put("gamma_initializer", Map.of("class_name", "Ones", "config", Map.of()));
        settings.put("moving_mean_initializer", Map.of("class_name", "Zeros", "config", Map.of()));
        settings.put("moving_variance_initializer", Map.of("class_name", "Ones", "config", Map.of()));
        settings.put("beta_regularizer", null);
        settings.put("gamma_regularizer", null);
        settings.put("beta_constraint", null);
        settings.put("gamma_constraint", null);
        return layer("BatchNormalization", name, settings);
    }

    /** LSTM or SimpleRNN ({@code type}) with Keras 2.4's default settings. */
    public static ObjectNode recurrent(String type, String name, int units, boolean returnSequences) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("return_sequences", returnSequences);
        settings.put("return_state", false);
        settings.put("go_backwards", false);
        settings.put("stateful", false);
        settings.put("unroll", false);
        settings.put("time_major", false);
        settings.put("units", units);
        settings.put("activation", "tanh");
        if (type.equals("LSTM")) {
            settings.put("recurrent_activation", "sigmoid");
            settings.put("unit_forget_bias", true);
            settings.put("implementation", 2);
        }
        settings.put("use_bias", true);
        settings.put("kernel_initializer", Map.of("class_name", "GlorotUniform", "config", Map.of()));
        settings.put("recurrent_initializer", Map.of("class_name", "Orthogonal", "config", Map.of("gain", 1.0)));
        settings.put("bias_initializer", Map.of("class_name", "Zeros", "config", Map.of()));
        settings.put("kernel_regularizer", null);
        settings.put("recurrent_regularizer", null);
        settings.put("bias_regularizer", null);
        settings.put("activity_regularizer", null);
        settings.put("kernel_constraint", null);
        settings.put("recurrent_constraint", null);
        settings.put("bias_constraint", null);
        settings.put("dropout", 0.0);
        settings.put("recurrent_dropout", 0.0);
        return layer(type, name, settings);
    }

    /** An Embedding as the first layer, with its input length and batch input shape, as Keras 2.4 writes it. */
    public static ObjectNode embedding(String name, int inputDim, int outputDim, int inputLength) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("batch_input_shape", batchShape(inputLength));
        settings.put("input_dim", inputDim);
        settings.put("output_dim", outputDim);
        settings.put("embeddings_initializer", Map.of("class_name", "RandomUniform",
                "config", Map.of("minval", -0.05, "maxval", 0.05)));
        settings.put("embeddings_regularizer", null);
        settings.put("activity_regularizer", null);
        settings.put("embeddings_constraint", null);
        settings.put("mask_zero", false);
        settings.put("input_length", inputLength);
        return layer("Embedding", name, settings);
    }

    public static List<Object> batchShape(int... shape) {
        List<Object> dims = new java.util.ArrayList<>();
        dims.add(null);
        for (int d : shape) {
            dims.add(d);
        }
        return dims;
    }

    /** The model JSON of a Sequential model, as {@code model.to_json()} writes it. */
    public static ObjectNode sequential(List<ObjectNode> layers) {
        ObjectNode model = JSON.createObjectNode();
        model.put("class_name", "Sequential");
        ObjectNode config = model.putObject("config");
        config.put("name", "sequential");
        config.putArray("layers").addAll(layers);
        model.put("keras_version", KERAS_VERSION);
        model.put("backend", "tensorflow");
        return model;
    }

    /** The book's network on 28x28 images: InputLayer, Flatten, Dense 512 relu, Dense 10 softmax. */
    public static ObjectNode bookNetwork(int hiddenUnits) {
        return sequential(List.of(input("flatten_input", 28, 28), flatten("flatten"),
                dense("dense", hiddenUnits, "relu"), dense("dense_1", 10, "softmax")));
    }

    /** {@code model} with a top-level training_config, the form dptrain accepts for a model JSON. */
    public static String withTrainingConfig(ObjectNode model, String trainingConfig) throws IOException {
        ObjectNode copy = model.deepCopy();
        copy.set("training_config", JSON.readTree(trainingConfig));
        return copy.toString();
    }

    /** A Dense layer's weights as Keras stores them: kernel[input][unit] and bias[unit]. */
    public record DenseWeights(float[][] kernel, float[] bias) {
    }

    /** Weights with a fixed seed, and output biases far from zero so their loss differs clearly from a fresh network's. */
    public static Map<String, DenseWeights> knownWeights(int hidden) {
        Random random = new Random(7);
        float[][] kernel = new float[784][hidden];
        for (float[] row : kernel) {
            for (int j = 0; j < hidden; j++) {
                row[j] = (float) (random.nextGaussian() * 0.05);
            }
        }
        float[] bias = new float[hidden];
        for (int j = 0; j < hidden; j++) {
            bias[j] = j * 0.01f;
        }
        float[][] outKernel = new float[hidden][10];
        for (float[] row : outKernel) {
            for (int j = 0; j < 10; j++) {
                row[j] = (float) (random.nextGaussian() * 0.1);
            }
        }
        float[] outBias = {2.0f, -1.0f, 0.5f, 0f, 1.5f, -0.5f, 0.25f, 1f, -2f, 0.75f};
        return Map.of("dense", new DenseWeights(kernel, bias), "dense_1", new DenseWeights(outKernel, outBias));
    }

    /**
     * Writes {@code model} as Keras's model.save does in HDF5, with Dense weights: the layers in {@code weights} get a
     * group model_weights/NAME with datasets NAME/kernel:0 and NAME/bias:0; every other layer but the InputLayer an
     * empty group. {@code trainingConfig} may be null (a model saved without compile()).
     */
    public static void writeHdf5(Path file, JsonNode model, String trainingConfig, Map<String, DenseWeights> weights) {
        Map<String, Map<String, Tensor>> tensors = new LinkedHashMap<>();
        weights.forEach((name, dense) -> {
            int rows = dense.kernel().length;
            int cols = dense.kernel()[0].length;
            float[] flat = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(dense.kernel()[r], 0, flat, r * cols, cols);
            }
            Map<String, Tensor> layer = new LinkedHashMap<>();
            layer.put("kernel", new Tensor(flat, rows, cols));
            layer.put("bias", new Tensor(dense.bias(), dense.bias().length));
            tensors.put(name, layer);
        });
        writeWeights(file, model, trainingConfig, tensors);
    }

    /** One weight array as Keras stores it: row-major values and their shape, e.g. a Conv2D kernel (kh, kw, in, out). */
    public record Tensor(float[] values, long... shape) {
        public Tensor {
            long size = 1;
            for (long d : shape) {
                size *= d;
            }
            if (size != values.length) {
                throw new IllegalArgumentException(values.length + " values for shape " + java.util.Arrays.toString(shape));
            }
        }

        /** A tensor of {@code shape} with values drawn from N(0, scale²), seeded. */
        public static Tensor random(Random random, double scale, long... shape) {
            long size = 1;
            for (long d : shape) {
                size *= d;
            }
            float[] values = new float[(int) size];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (random.nextGaussian() * scale);
            }
            return new Tensor(values, shape);
        }
    }

    /**
     * Writes {@code model} as Keras's model.save does in HDF5: each layer in {@code weights} gets a group
     * model_weights/NAME whose weight_names attribute lists NAME/WEIGHT:0 in the map's order (Keras's order, e.g.
     * kernel, recurrent_kernel, bias for an LSTM), with one dataset NAME/WEIGHT:0 each; every other layer but the
     * InputLayer an empty group. {@code trainingConfig} may be null (a model saved without compile()).
     */
    public static void writeWeights(Path file, JsonNode model, String trainingConfig,
                                    Map<String, Map<String, Tensor>> weights) {
        Loader.load(org.bytedeco.hdf5.global.hdf5.class);
        H5File h5 = new H5File(file.toString(), H5F_ACC_TRUNC());
        try {
            ObjectNode config = ((ObjectNode) model).deepCopy();
            config.remove("keras_version");
            config.remove("backend");
            stringAttribute(h5, "model_config", config.toString());
            if (trainingConfig != null) {
                stringAttribute(h5, "training_config", trainingConfig);
            }
            stringAttribute(h5, "keras_version", KERAS_VERSION);
            stringAttribute(h5, "backend", "tensorflow");
            Group root = h5.createGroup("model_weights");
            List<String> names = new java.util.ArrayList<>();
            for (JsonNode layer : model.path("config").path("layers")) {
                if (!layer.path("class_name").asText().equals("InputLayer")) {
                    names.add(layer.path("config").path("name").asText());
                }
            }
            stringsAttribute(root, "layer_names", names);
            stringAttribute(root, "backend", "tensorflow");
            stringAttribute(root, "keras_version", KERAS_VERSION);
            for (String name : names) {
                Group group = root.createGroup(name);
                Map<String, Tensor> layerWeights = weights.get(name);
                if (layerWeights == null) {
                    stringsAttribute(group, "weight_names", List.of());
                } else {
                    List<String> weightNames = new java.util.ArrayList<>();
                    layerWeights.keySet().forEach(weight -> weightNames.add(name + "/" + weight + ":0"));
                    stringsAttribute(group, "weight_names", weightNames);
                    Group inner = group.createGroup(name);
                    layerWeights.forEach((weight, tensor) -> floatDataSet(inner, weight + ":0", tensor.values(),
                            tensor.shape()));
                    inner.deallocate();
                }
                group.deallocate();
            }
            root.deallocate();
        } finally {
            h5._close();
            h5.deallocate();
        }
    }

    /** A fixed-length string attribute, as h5py writes Python bytes. */
    private static void stringAttribute(H5Object target, String name, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        StrType type = new StrType(PredType.C_S1(), bytes.length);
        DataSpace space = new DataSpace(H5S_SCALAR);
        Attribute attribute = target.createAttribute(name, type, space);
        attribute.write(type, new BytePointer(bytes));
        attribute.deallocate();
        space.deallocate();
        type.deallocate();
    }

    /** An array of fixed-length, NUL-padded strings, as h5py writes a numpy array of bytes. */
    private static void stringsAttribute(H5Object target, String name, List<String> values) {
        int width = 1;
        for (String value : values) {
            width = Math.max(width, value.getBytes(StandardCharsets.UTF_8).length);
        }
        byte[] bytes = new byte[Math.max(1, values.size()) * width];
        for (int i = 0; i < values.size(); i++) {
            byte[] value = values.get(i).getBytes(StandardCharsets.UTF_8);
            System.arraycopy(value, 0, bytes, i * width, value.length);
        }
        StrType type = new StrType(PredType.C_S1(), width);
        DataSpace space = new DataSpace(1, new long[] {values.size()});
        Attribute attribute = target.createAttribute(name, type, space);
        if (!values.isEmpty()) {
            attribute.write(type, new BytePointer(bytes));
        }
        attribute.deallocate();
        space.deallocate();
        type.deallocate();
    }

    private static void floatDataSet(Group group, String name, float[] values, long... dims) {
        DataSpace space = new DataSpace(dims.length, dims);
        DataSet dataSet = group.createDataSet(name, PredType.NATIVE_FLOAT(), space);
        dataSet.write(new FloatPointer(values), PredType.NATIVE_FLOAT());
        dataSet.deallocate();
        space.deallocate();
    }
}
