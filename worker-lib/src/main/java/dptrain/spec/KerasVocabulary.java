package dptrain.spec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.distribution.UniformDistribution;
import org.deeplearning4j.nn.weights.IWeightInit;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.weights.WeightInitDistribution;
import org.deeplearning4j.nn.weights.WeightInitVarScalingNormalFanAvg;
import org.deeplearning4j.nn.weights.WeightInitVarScalingNormalFanIn;
import org.deeplearning4j.nn.weights.WeightInitVarScalingUniformFanIn;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationMish;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSELU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSoftSign;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossHinge;
import org.nd4j.linalg.lossfunctions.impl.LossKLD;
import org.nd4j.linalg.lossfunctions.impl.LossL1;
import org.nd4j.linalg.lossfunctions.impl.LossL2;
import org.nd4j.linalg.lossfunctions.impl.LossMAE;
import org.nd4j.linalg.lossfunctions.impl.LossMAPE;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.lossfunctions.impl.LossMSLE;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;
import org.nd4j.linalg.lossfunctions.impl.LossPoisson;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossSquaredHinge;

/** Keras names for activations, initializers and losses, and the DL4J object each one becomes (see SPEC.md). */
final class KerasVocabulary {

    /**
     * Keras draws its "normal" initializers from a normal truncated at two standard deviations and divides the
     * standard deviation by this constant, the standard deviation of a standard normal truncated at ±2, so the
     * truncated values keep the intended variance. DL4J's variance-scaling initializers also truncate at ±2 but do
     * not correct, so the Keras initializers pass scale / this² to get the same distribution.
     */
    static final double TRUNCATED_NORMAL_STD = 0.87962566103423978;

    /** Keras's default negative slope for the {@code leaky_relu} activation; DL4J's own default is 0.01. */
    static final double LEAKY_RELU_NEGATIVE_SLOPE = 0.2;

    static final String DEFAULT_ACTIVATION = "linear";
    static final String DEFAULT_KERNEL_INITIALIZER = "glorot_uniform";
    static final String DEFAULT_BIAS_INITIALIZER = "zeros";

    static final Map<String, Supplier<IActivation>> ACTIVATIONS = new Table<String, Supplier<IActivation>>()
            .with("relu", ActivationReLU::new)
            .with("sigmoid", ActivationSigmoid::new)
            .with("tanh", ActivationTanH::new)
            .with("softmax", ActivationSoftmax::new)
            .with("linear", ActivationIdentity::new)
            .with("elu", ActivationELU::new)
            .with("selu", ActivationSELU::new)
            .with("softplus", ActivationSoftPlus::new)
            .with("softsign", ActivationSoftSign::new)
            .with("leaky_relu", () -> new ActivationLReLU(LEAKY_RELU_NEGATIVE_SLOPE))
            .with("relu6", ActivationReLU6::new)
            .with("swish", ActivationSwish::new)
            .with("silu", ActivationSwish::new)
            .with("mish", ActivationMish::new)
            .build();

    static final Map<String, Supplier<IWeightInit>> KERNEL_INITIALIZERS = new Table<String, Supplier<IWeightInit>>()
            .with("glorot_uniform", WeightInit.XAVIER_UNIFORM::getWeightInitFunction)
            .with("glorot_normal", () -> new WeightInitVarScalingNormalFanAvg(truncatedNormalScale(1.0)))
            .with("he_uniform", WeightInit.RELU_UNIFORM::getWeightInitFunction)
            .with("he_normal", () -> new WeightInitVarScalingNormalFanIn(truncatedNormalScale(2.0)))
            // DL4J's uniform fan-in bound is scale * 3 / sqrt(fanIn); Keras's lecun_uniform bound is sqrt(3 / fanIn).
            .with("lecun_uniform", () -> new WeightInitVarScalingUniformFanIn(1.0 / Math.sqrt(3.0)))
            .with("lecun_normal", () -> new WeightInitVarScalingNormalFanIn(truncatedNormalScale(1.0)))
            .with("random_normal", () -> new WeightInitDistribution(new NormalDistribution(0.0, 0.05)))
            .with("random_uniform", () -> new WeightInitDistribution(new UniformDistribution(-0.05, 0.05)))
            .with("zeros", WeightInit.ZERO::getWeightInitFunction)
            .with("ones", WeightInit.ONES::getWeightInitFunction)
            .build();

    /** DL4J initializes all biases of a layer to one constant. */
    static final Map<String, Double> BIAS_INITIALIZERS = new Table<String, Double>()
            .with("zeros", 0.0)
            .with("ones", 1.0)
            .build();

    /**
     * A Keras loss, its DL4J loss function, which output activations DL4J accepts with it (empty: any), and whether
     * it fits real-valued targets (regression) rather than class labels.
     */
    record Loss(String name, Supplier<ILossFunction> function, boolean sparse, Set<String> outputActivations,
            boolean regression) {
    }

    /** Keras's losses by name; a Keras alias maps to the same loss, which is named by its short name. */
    static final Map<String, Loss> LOSSES = new Table<String, Loss>()
            .with("categorical_crossentropy",
                    new Loss("categorical_crossentropy", LossMCXENT::new, false, Set.of("softmax"), false))
            .with("sparse_categorical_crossentropy",
                    new Loss("sparse_categorical_crossentropy", LossSparseMCXENT::new, true, Set.of("softmax"), false))
            .with("binary_crossentropy",
                    new Loss("binary_crossentropy", LossBinaryXENT::new, false, Set.of("sigmoid"), false))
            .with("mse", regression("mse", LossMSE::new))
            .with("mean_squared_error", regression("mse", LossMSE::new))
            .with("mae", regression("mae", LossMAE::new))
            .with("mean_absolute_error", regression("mae", LossMAE::new))
            .with("huber", regression("huber", LossHuber::new))
            .with("mean_squared_logarithmic_error", regression("mean_squared_logarithmic_error", LossMSLE::new))
            .with("msle", regression("mean_squared_logarithmic_error", LossMSLE::new))
            .build();

    /** The metrics a classifier reports. */
    static final List<String> CLASSIFICATION_METRICS = List.of("accuracy");

    /** The metrics a regression model reports, Keras's names: mean absolute, mean squared, root mean squared error. */
    static final List<String> REGRESSION_METRICS = List.of("mae", "mse", "rmse");

    /** Every metric name a spec may list. */
    static final List<String> METRICS = List.of("accuracy", "mae", "mse", "rmse");

    /** Keras names of DL4J loss functions, most specific class first (LossSparseMCXENT extends LossMCXENT). */
    private static final Map<Class<? extends ILossFunction>, String> DL4J_LOSS_NAMES =
            new Table<Class<? extends ILossFunction>, String>()
                    .with(LossSparseMCXENT.class, "sparse_categorical_crossentropy")
                    .with(LossNegativeLogLikelihood.class, "categorical_crossentropy")
                    .with(LossMCXENT.class, "categorical_crossentropy")
                    .with(LossBinaryXENT.class, "binary_crossentropy")
                    .with(LossMSE.class, "mse")
                    .with(LossMAE.class, "mae")
                    .with(LossHuber.class, "huber")
                    .with(LossMAPE.class, "mape")
                    .with(LossMSLE.class, "mean_squared_logarithmic_error")
                    .with(LossL1.class, "dl4j:LossL1")
                    .with(LossL2.class, "dl4j:LossL2")
                    .with(LossHinge.class, "hinge")
                    .with(LossSquaredHinge.class, "squared_hinge")
                    .with(LossKLD.class, "kl_divergence")
                    .with(LossPoisson.class, "poisson")
                    .build();

    private KerasVocabulary() {
    }

    /** The Keras name of a DL4J loss function, or {@code dl4j:ClassName} when Keras has none. */
    static String lossName(ILossFunction loss) {
        for (Map.Entry<Class<? extends ILossFunction>, String> entry : DL4J_LOSS_NAMES.entrySet()) {
            if (entry.getKey().isInstance(loss)) {
                return entry.getValue();
            }
        }
        return "dl4j:" + loss.getClass().getSimpleName();
    }

    static boolean isSparse(ILossFunction loss) {
        return loss instanceof LossSparseMCXENT;
    }

    /**
     * Whether a DL4J loss fits real-valued targets: the squared, absolute, logarithmic, percentage and Huber errors
     * (LossMSE extends LossL2 and LossMAE extends LossL1).
     */
    static boolean isRegression(ILossFunction loss) {
        return loss instanceof LossL2 || loss instanceof LossL1 || loss instanceof LossMSLE || loss instanceof LossMAPE
                || loss instanceof LossHuber;
    }

    private static Loss regression(String name, Supplier<ILossFunction> function) {
        return new Loss(name, function, false, Set.of(), true);
    }

    private static double truncatedNormalScale(double kerasScale) {
        return kerasScale / (TRUNCATED_NORMAL_STD * TRUNCATED_NORMAL_STD);
    }

    /** An insertion-ordered table, so messages and SPEC.md list names in the same order. */
    private static final class Table<K, V> {
        private final Map<K, V> entries = new LinkedHashMap<>();

        Table<K, V> with(K key, V value) {
            entries.put(key, value);
            return this;
        }

        Map<K, V> build() {
            return Collections.unmodifiableMap(entries);
        }
    }
}
