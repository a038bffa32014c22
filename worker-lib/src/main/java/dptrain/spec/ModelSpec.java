package dptrain.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The network to train: an immutable, serializable description from which every worker builds the same DL4J
 * {@link MultiLayerConfiguration}. It keeps the configuration as DL4J JSON, so it stays small when broadcast.
 *
 * <p>A spec is written in Keras terms (YAML or JSON, see {@code src/docs/SPEC.md}) or is the JSON that DL4J's
 * {@link MultiLayerConfiguration#toJson()} writes, or a Keras model JSON ({@code model.to_json()}); they are told
 * apart by the top-level {@code confs} and {@code class_name} keys. Keras model files are read on the driver only:
 * {@code dptrain.spec.ModelFile} in dptrain-driver reads Keras model JSON and HDF5 files through DL4J's Keras import,
 * which worker-lib does not depend on; {@link #parse} and {@link #read} refuse a Keras model JSON.
 */
public final class ModelSpec implements Serializable {

    private static final long serialVersionUID = 1L;

    private final String configurationJson;
    private final String source;
    private final int inputSize;
    private final int outputSize;
    private final String lossName;
    private final TargetEncoding targetEncoding;
    private final long seed;
    private final long parameterCount;
    private final List<String> metrics;
    private final Normalization normalization;
    private final Engine engine;
    private final DenseStackSupport denseStackSupport;
    private final Map<String, Object> description;

    private ModelSpec(String configurationJson, String source, ConfigurationInspector.Facts facts,
                      List<String> metrics, Normalization normalization, Engine engine,
                      DenseStackSupport denseStackSupport, Map<String, Object> description) {
        this.configurationJson = configurationJson;
        this.source = source;
        this.inputSize = facts.inputSize();
        this.outputSize = facts.outputSize();
        this.lossName = facts.lossName();
        this.targetEncoding = facts.targetEncoding();
        this.seed = facts.seed();
        this.parameterCount = facts.parameterCount();
        this.metrics = List.copyOf(metrics);
        this.normalization = normalization;
        this.engine = engine;
        this.denseStackSupport = denseStackSupport;
        Map<String, Object> withEngine = new LinkedHashMap<>(description);
        withEngine.put("engine", engine.specName());
        withEngine.put("engine_used", engine.resolve(denseStackSupport).specName());
        this.description = deepUnmodifiable(withEngine);
    }

    static ModelSpec create(MultiLayerConfiguration conf, String source, ConfigurationInspector.Facts facts,
                            List<String> metrics, Normalization normalization, Engine engine,
                            Map<String, Object> description) {
        DenseStackSupport support = DenseStackSupport.of(conf);
        if (engine == Engine.DENSE && !support.supported()) {
            throw new SpecException(source, "engine", "dense is not allowed for this network: "
                    + support.reason() + "; expected auto or dl4j (see SPEC.md, Engines)");
        }
        return new ModelSpec(conf.toJson(), source, facts, metrics, normalization, engine, support, description);
    }

    /**
     * Reads a spec from a local file: YAML (.yaml/.yml) or JSON; Keras-terms spec or DL4J MultiLayerConfiguration
     * JSON, told apart by content.
     *
     * @throws SpecException if the file is missing or unreadable, or the spec is invalid; the message names the file
     */
    public static ModelSpec read(Path file) throws SpecException {
        return parse(readText(file), file.toString());
    }

    /** The text of a spec file, read as UTF-8; the messages of its SpecExceptions name the file. */
    static String readText(Path file) throws SpecException {
        String source = file.toString();
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new SpecException(source, "", "cannot read the spec: there is no such file", e);
        } catch (CharacterCodingException e) {
            throw new SpecException(source, "", "cannot read the spec: the file is not UTF-8 text", e);
        } catch (IOException e) {
            throw new SpecException(source, "", "cannot read the spec: " + e, e);
        }
    }

    /** Same as {@link #read(Path)}, from text; {@code sourceName} names the input in error messages. */
    public static ModelSpec parse(String text, String sourceName) throws SpecException {
        return parse(text, sourceName, NO_KERAS_MODELS);
    }

    /** Reads a Keras model JSON (a document with a top-level {@code class_name} key) as a spec. */
    @FunctionalInterface
    interface KerasModelJsonReader {
        ModelSpec read(JsonNode root, String sourceName);
    }

    /** worker-lib has no Keras import (executors only receive built specs); the driver's ModelFile brings one. */
    private static final KerasModelJsonReader NO_KERAS_MODELS = (root, sourceName) -> {
        throw new SpecException(sourceName, "", "this is a Keras model JSON (it has a top-level class_name key), "
                + "which dptrain reads on the driver only; expected a model spec in Keras terms or a DL4J "
                + "configuration JSON here, or read the file with dptrain.spec.ModelFile (dptrain-driver)");
    };

    /** Same as {@link #parse(String, String)}, with {@code kerasModels} reading Keras model JSON. */
    static ModelSpec parse(String text, String sourceName, KerasModelJsonReader kerasModels) throws SpecException {
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1); // a byte-order mark from some editors; DL4J's JSON reader would reject it
        }
        if (text.startsWith("PK\u0003\u0004") || text.indexOf('\u0000') >= 0) {
            throw new SpecException(sourceName, "", "this is a binary file" + (text.startsWith("PK") ? " (a zip archive, "
                    + "perhaps a saved model.zip)" : "") + "; expected a model spec in YAML or JSON, a DL4J "
                    + "configuration JSON, or a Keras .h5 file or model JSON");
        }
        SpecReader.Parsed parsed = SpecReader.read(text, sourceName);
        if (parsed.root().isObject() && parsed.root().has("confs")) {
            return fromConfiguration(deserialize(text, parsed.json(), sourceName), sourceName);
        }
        if (parsed.root().isObject() && parsed.root().has("class_name")) {
            return kerasModels.read(parsed.root(), sourceName);
        }
        return KerasSpecTranslator.translate(SpecNode.root(parsed.root(), sourceName));
    }

    /**
     * A spec for a configuration built in code or read elsewhere.
     *
     * @throws SpecException if dptrain cannot train it: it must take flat input and end in an OutputLayer
     */
    public static ModelSpec fromConfiguration(MultiLayerConfiguration conf, String sourceName) {
        ConfigurationInspector.Facts facts = ConfigurationInspector.inspect(conf, sourceName);
        return create(conf, sourceName, facts, List.of(), Normalization.NONE, Engine.AUTO,
                ConfigurationInspector.describe(conf, facts, sourceName));
    }

    private static MultiLayerConfiguration deserialize(String text, boolean json, String source) {
        try {
            return json ? MultiLayerConfiguration.fromJson(text) : MultiLayerConfiguration.fromYaml(text);
        } catch (RuntimeException e) {
            throw Dl4jJsonErrors.toSpecException(e, source);
        }
    }

    /** A fresh copy on every call, so callers may change it freely. */
    public MultiLayerConfiguration configuration() {
        return MultiLayerConfiguration.fromJson(configurationJson);
    }

    /** The configuration as DL4J JSON, as {@link MultiLayerConfiguration#toJson()} writes it. */
    public String configurationJson() {
        return configurationJson;
    }

    /** What the network expects of sequence rows (timesteps, values per step, vocabulary), or SequenceInput.NONE. */
    public SequenceInput sequenceInput() {
        return SequenceInput.of(configuration());
    }

    /** Number of input features: the input shape flattened, e.g. [28, 28] gives 784. */
    public int inputSize() {
        return inputSize;
    }

    /** Units of the output layer. */
    public int outputSize() {
        return outputSize;
    }

    /** How integer labels become the target array, derived from the loss and the output size. */
    public TargetEncoding targetEncoding() {
        return targetEncoding;
    }

    /** The loss in Keras terms, e.g. {@code categorical_crossentropy}; {@code dl4j:ClassName} if Keras has no name. */
    public String lossName() {
        return lossName;
    }

    /** This spec with {@code chosen} as its normalization (the command line's --normalize overrides the spec). */
    public ModelSpec withNormalization(Normalization chosen) {
        Map<String, Object> changed = new java.util.LinkedHashMap<>(description);
        changed.put("normalization", chosen.specName());
        return new ModelSpec(configurationJson, source, facts(), metrics, chosen, engine, denseStackSupport, changed);
    }

    /**
     * This spec trained by {@code chosen} (the command line's --engine overrides the spec).
     *
     * @throws IllegalArgumentException if {@code chosen} is DENSE and the dense-stack engine does not support the
     *                                  network (see {@link #denseStackSupport()})
     */
    public ModelSpec withEngine(Engine chosen) {
        if (chosen == Engine.DENSE && !denseStackSupport.supported()) {
            throw new IllegalArgumentException("the dense-stack engine does not support " + source + ": "
                    + denseStackSupport.reason());
        }
        return new ModelSpec(configurationJson, source, facts(), metrics, normalization, chosen, denseStackSupport,
                description);
    }

    /** The engine the spec asks for ({@code AUTO} unless given). */
    public Engine engine() {
        return engine;
    }

    /** The engine that trains replicas: {@link Engine#DENSE} or {@link Engine#DL4J}, never AUTO. */
    public Engine resolvedEngine() {
        return engine.resolve(denseStackSupport);
    }

    /** Whether the dense-stack engine can train this network, and if not, why. */
    public DenseStackSupport denseStackSupport() {
        return denseStackSupport;
    }

    private ConfigurationInspector.Facts facts() {
        return new ConfigurationInspector.Facts(inputSize, outputSize, lossName, targetEncoding, seed, parameterCount);
    }

    /**
     * This spec with every layer's optimizer learning rate set to {@code learningRate} (and any
     * learning-rate schedule dropped), for searches over the learning rate.
     *
     * @throws SpecException if the rate is not a positive number, or the optimizer has no learning rate
     */
    public ModelSpec withLearningRate(double learningRate) {
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new SpecException(source, "optimizer.learning_rate", learningRate
                    + " is not allowed; expected a number > 0");
        }
        MultiLayerConfiguration conf = configuration();
        IUpdater changed = null;
        for (NeuralNetConfiguration layerConf : conf.getConfs()) {
            if (layerConf.getLayer() instanceof BaseLayer layer) {
                for (IUpdater updater : new IUpdater[] {layer.getIUpdater(), layer.getBiasUpdater()}) {
                    if (updater == null) {
                        continue;
                    }
                    if (!updater.hasLearningRate()) {
                        throw new SpecException(source, "optimizer", updater.getClass().getSimpleName()
                                + " has no learning rate to set; expected sgd, rmsprop, adam or adagrad");
                    }
                    IUpdater copy = updater.clone();
                    copy.setLrAndSchedule(learningRate, null);
                    if (updater == layer.getIUpdater()) {
                        layer.setIUpdater(copy);
                        changed = changed == null ? copy : changed;
                    } else {
                        layer.setBiasUpdater(copy);
                    }
                }
            }
        }
        if (changed == null) {
            throw new SpecException(source, "optimizer", "the network has no layer with weights, so no learning rate "
                    + "to set");
        }
        Map<String, Object> changedDescription = new LinkedHashMap<>(description);
        if (description.get("optimizer") instanceof Map<?, ?> optimizer && optimizer.containsKey("learning_rate")) {
            Map<Object, Object> updated = new LinkedHashMap<>(optimizer);
            updated.put("learning_rate", learningRate);
            updated.remove("learning_rate_schedule");
            changedDescription.put("optimizer", updated);
        }
        return new ModelSpec(conf.toJson(), source, new ConfigurationInspector.Facts(inputSize, outputSize, lossName,
                targetEncoding, seed, parameterCount), metrics, normalization, engine, DenseStackSupport.of(conf),
                changedDescription);
    }

    /** The feature preprocessing the spec asks for, fitted on the training split ({@code NONE} unless given). */
    public Normalization normalization() {
        return normalization;
    }

    /** Metric names the spec lists, e.g. {@code accuracy}; empty for DL4J JSON specs. */
    public List<String> metrics() {
        return metrics;
    }

    /** Whether the model fits real-valued targets (a regression loss) rather than class labels. */
    public boolean isRegression() {
        return targetEncoding.isRegression();
    }

    /**
     * The metrics every epoch, evaluation and history report, by their Keras names: {@code accuracy} for a
     * classifier, whatever the spec lists; for a regression model the spec's metrics in its order, or {@code mae}
     * when it lists none.
     */
    public List<String> reportedMetrics() {
        if (!isRegression()) {
            return List.of("accuracy");
        }
        return metrics.isEmpty() ? List.of("mae") : metrics;
    }

    public long seed() {
        return seed;
    }

    /** Number of trainable parameters of the network. */
    public long parameterCount() {
        return parameterCount;
    }

    /** Where the spec came from, e.g. its file path. */
    public String source() {
        return source;
    }

    /**
     * The spec for provenance.json, in a fixed order: source, format, input shape, layers, optimizer with all its
     * settings, loss, metrics, seed, initializers, output size, target encoding and parameter count.
     * The map and everything in it are unmodifiable.
     */
    public Map<String, Object> describe() {
        return description;
    }

    @Override
    public String toString() {
        return "ModelSpec(" + source + ": " + inputSize + " inputs -> " + outputSize + " outputs, " + lossName + ", "
                + parameterCount + " parameters)";
    }

    @SuppressWarnings("unchecked")
    private static <T> T deepUnmodifiable(T value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((key, item) -> copy.put(String.valueOf(key), deepUnmodifiable(item)));
            return (T) Collections.unmodifiableMap(copy);
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>();
            list.forEach(item -> copy.add(deepUnmodifiable(item)));
            return (T) Collections.unmodifiableList(copy);
        }
        return value;
    }
}
