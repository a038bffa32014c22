package dptrain.spec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoublePredicate;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.schedule.ISchedule;

/** Keras optimizers with Keras defaults, as DL4J updaters; and DL4J updaters described in Keras terms. */
final class OptimizerTranslator {

    static final String DEFAULT_OPTIMIZER = "rmsprop";

    private static final String POSITIVE = "a number > 0";
    private static final String FRACTION = "a number >= 0 and < 1";
    private static final DoublePredicate IS_POSITIVE = v -> v > 0;
    private static final DoublePredicate IS_FRACTION = v -> v >= 0 && v < 1;

    /** One numeric optimizer setting: its Keras name, Keras default and allowed range. */
    private record Setting(String key, double defaultValue, DoublePredicate allowed, String expected) {
    }

    private static final String LEARNING_RATE_KEY = "learning_rate";
    private static final Setting LEARNING_RATE_SGD = new Setting("learning_rate", 0.01, IS_POSITIVE, POSITIVE);
    private static final Setting LEARNING_RATE = new Setting("learning_rate", 0.001, IS_POSITIVE, POSITIVE);
    private static final Setting EPSILON = new Setting("epsilon", 1e-7, IS_POSITIVE, POSITIVE);

    private static final Map<String, List<Setting>> SETTINGS;
    static {
        Map<String, List<Setting>> settings = new LinkedHashMap<>();
        settings.put("sgd", List.of(LEARNING_RATE_SGD, new Setting("momentum", 0.0, IS_FRACTION, FRACTION)));
        settings.put("rmsprop", List.of(LEARNING_RATE, new Setting("rho", 0.9, IS_FRACTION, FRACTION), EPSILON));
        settings.put("adam", List.of(LEARNING_RATE, new Setting("beta_1", 0.9, IS_FRACTION, FRACTION),
                new Setting("beta_2", 0.999, IS_FRACTION, FRACTION), EPSILON));
        settings.put("adagrad", List.of(LEARNING_RATE, EPSILON));
        SETTINGS = Collections.unmodifiableMap(settings);
    }

    private static final String NESTEROV = "nesterov";
    private static final String EXPECTED = "an optimizer name such as rmsprop, or a mapping from one optimizer name "
            + "to its settings, e.g. {rmsprop: {learning_rate: 0.001}}";

    /** A parsed optimizer: its Keras name, every setting with defaults applied, and the DL4J updater. */
    record Optimizer(String name, Map<String, Object> settings, IUpdater updater) {

        Map<String, Object> describe() {
            Map<String, Object> description = new LinkedHashMap<>();
            description.put("name", name);
            description.putAll(settings);
            return description;
        }
    }

    private OptimizerTranslator() {
    }

    static List<String> names() {
        return List.copyOf(SETTINGS.keySet());
    }

    /** Reads {@code optimizer}: absent means rmsprop with Keras defaults, a bare name means that optimizer's defaults. */
    static Optimizer parse(SpecNode node) {
        String name = node.isPresent() ? node.singleKeyOrName(EXPECTED) : DEFAULT_OPTIMIZER;
        node.knownName(name, SETTINGS.keySet(), "optimizer");
        SpecNode args = node.singleKeyValue();
        args.requireObjectOrAbsent("a mapping of " + name + " settings, e.g. {learning_rate: 0.001}");

        SpecNode initialAccumulator = args.get("initial_accumulator_value");
        if (name.equals("adagrad") && initialAccumulator.isPresent()) {
            // DL4J's AdaGradUpdater starts its accumulator at epsilon; there is no separate initial value to set.
            throw initialAccumulator.fail(initialAccumulator.shown()
                    + " is not allowed: DL4J's AdaGrad starts its accumulator at epsilon and has no separate initial "
                    + "value; expected no initial_accumulator_value key (see SPEC.md)");
        }
        List<String> allowedKeys = new ArrayList<>();
        SETTINGS.get(name).forEach(setting -> allowedKeys.add(setting.key()));
        if (name.equals("sgd")) {
            allowedKeys.add(NESTEROV);
        }
        args.allowOnly(allowedKeys);

        Map<String, Object> settings = new LinkedHashMap<>();
        ISchedule schedule = null;
        for (Setting setting : SETTINGS.get(name)) {
            SpecNode value = args.get(setting.key());
            if (setting.key().equals(LEARNING_RATE_KEY) && value.isObject()) {
                LearningRateSchedule parsed = LearningRateSchedule.parse(value, setting.defaultValue());
                settings.put(setting.key(), parsed.initial());
                settings.put("learning_rate_schedule", parsed.describe());
                schedule = parsed.schedule();
                continue;
            }
            settings.put(setting.key(), value.number(setting.defaultValue(), setting.allowed(),
                    setting.expected() + ", or a schedule such as {exponential_decay: {decay_steps: 1000, "
                            + "decay_rate: 0.9}}"));
        }
        if (name.equals("sgd")) {
            settings.put(NESTEROV, args.get(NESTEROV).bool(false));
        }
        IUpdater updater = updater(name, settings, args);
        if (schedule != null) {
            updater.setLrAndSchedule((Double) settings.get(LEARNING_RATE_KEY), schedule);
        }
        return new Optimizer(name, Collections.unmodifiableMap(settings), updater);
    }

    private static IUpdater updater(String name, Map<String, Object> settings, SpecNode args) {
        double learningRate = (Double) settings.get("learning_rate");
        switch (name) {
            case "sgd": {
                double momentum = (Double) settings.get("momentum");
                if (momentum == 0.0) {
                    return new Sgd(learningRate);
                }
                if (!(Boolean) settings.get(NESTEROV)) {
                    throw args.get("momentum").fail(momentum + " with nesterov: false (classical momentum) is not "
                            + "available: DL4J 1.0.0-M2.1 has no updater for it; expected momentum: 0.0, or "
                            + "nesterov: true for Nesterov momentum (DL4J Nesterovs)");
                }
                return new Nesterovs(learningRate, momentum);
            }
            case "rmsprop":
                return new RmsProp(learningRate, (Double) settings.get("rho"), (Double) settings.get("epsilon"));
            case "adam":
                return new Adam(learningRate, (Double) settings.get("beta_1"), (Double) settings.get("beta_2"),
                        (Double) settings.get("epsilon"));
            case "adagrad":
                return new AdaGrad(learningRate, (Double) settings.get("epsilon"));
            default:
                throw new IllegalStateException("No DL4J updater for optimizer " + name);
        }
    }

    /** A DL4J updater in Keras terms, for provenance of DL4J JSON specs; unknown updaters keep DL4J's own text. */
    static Map<String, Object> describe(IUpdater updater) {
        Map<String, Object> description = new LinkedHashMap<>();
        ISchedule schedule = null;
        if (updater instanceof Sgd sgd) {
            description.put("name", "sgd");
            description.put("learning_rate", sgd.getLearningRate());
            description.put("momentum", 0.0);
            description.put(NESTEROV, false);
            schedule = sgd.getLearningRateSchedule();
        } else if (updater instanceof Nesterovs nesterovs) {
            description.put("name", "sgd");
            description.put("learning_rate", nesterovs.getLearningRate());
            description.put("momentum", nesterovs.getMomentum());
            description.put(NESTEROV, true);
            schedule = nesterovs.getLearningRateSchedule();
        } else if (updater instanceof RmsProp rmsProp) {
            description.put("name", "rmsprop");
            description.put("learning_rate", rmsProp.getLearningRate());
            description.put("rho", rmsProp.getRmsDecay());
            description.put("epsilon", rmsProp.getEpsilon());
            schedule = rmsProp.getLearningRateSchedule();
        } else if (updater instanceof Adam adam) {
            description.put("name", "adam");
            description.put("learning_rate", adam.getLearningRate());
            description.put("beta_1", adam.getBeta1());
            description.put("beta_2", adam.getBeta2());
            description.put("epsilon", adam.getEpsilon());
            schedule = adam.getLearningRateSchedule();
        } else if (updater instanceof AdaGrad adaGrad) {
            description.put("name", "adagrad");
            description.put("learning_rate", adaGrad.getLearningRate());
            description.put("epsilon", adaGrad.getEpsilon());
            schedule = adaGrad.getLearningRateSchedule();
        } else {
            description.put("name", "dl4j:" + updater.getClass().getSimpleName());
            description.put("dl4j", String.valueOf(updater));
        }
        if (schedule != null) {
            description.put("learning_rate_schedule", String.valueOf(schedule));
        }
        return description;
    }
}
