package dptrain.driver.export;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationHardSigmoid;
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

/** DL4J's activation functions as ONNX nodes, or as the names ONNX's recurrent operators take. */
final class Activations {
    private Activations() {
    }

    /**
     * Adds {@code fn} applied to {@code x}; empty when it has no ONNX form here. {@code flat} tells
     * whether {@code x} is [N, features]: softmax is exported only there, where DL4J and ONNX agree
     * on its axis.
     */
    static Optional<String> apply(OnnxGraph graph, String x, IActivation fn, boolean flat) {
        if (fn instanceof ActivationIdentity) {
            return Optional.of(x);
        } else if (fn instanceof ActivationReLU relu) {
            boolean plain = relu.getMax() == null && zeroOrNull(relu.getThreshold()) && zeroOrNull(relu.getNegativeSlope());
            return plain ? Optional.of(graph.node("Relu", List.of(x))) : Optional.empty();
        } else if (fn instanceof ActivationReLU6) {
            return Optional.of(graph.node("Clip", List.of(x, graph.constant("zero", new float[] {0f}),
                    graph.constant("six", new float[] {6f}))));
        } else if (fn instanceof ActivationSigmoid) {
            return Optional.of(graph.node("Sigmoid", List.of(x)));
        } else if (fn instanceof ActivationTanH) {
            return Optional.of(graph.node("Tanh", List.of(x)));
        } else if (fn instanceof ActivationSoftmax) {
            return flat ? Optional.of(graph.node("Softmax", List.of(x), OnnxGraph.intAttribute("axis", -1)))
                    : Optional.empty();
        } else if (fn instanceof ActivationELU elu) {
            return Optional.of(graph.node("Elu", List.of(x), OnnxGraph.floatAttribute("alpha", (float) elu.getAlpha())));
        } else if (fn instanceof ActivationSELU) {
            return Optional.of(graph.node("Selu", List.of(x)));
        } else if (fn instanceof ActivationSoftPlus) {
            return Optional.of(graph.node("Softplus", List.of(x)));
        } else if (fn instanceof ActivationSoftSign) {
            return Optional.of(graph.node("Softsign", List.of(x)));
        } else if (fn instanceof ActivationLReLU leaky) {
            return Optional.of(graph.node("LeakyRelu", List.of(x),
                    OnnxGraph.floatAttribute("alpha", (float) leaky.getAlpha())));
        } else if (fn instanceof ActivationHardSigmoid) {
            // DL4J's hard sigmoid is min(1, max(0, 0.2 x + 0.5)), ONNX's defaults.
            return Optional.of(graph.node("HardSigmoid", List.of(x)));
        } else if (fn instanceof ActivationSwish) {
            return Optional.of(graph.node("Mul", List.of(x, graph.node("Sigmoid", List.of(x)))));
        } else if (fn instanceof ActivationMish) {
            return Optional.of(graph.node("Mul", List.of(x, graph.node("Tanh",
                    List.of(graph.node("Softplus", List.of(x)))))));
        }
        return Optional.empty();
    }

    /** The name ONNX's LSTM and RNN operators give {@code fn}, if they take it. */
    static Optional<String> recurrentName(IActivation fn) {
        if (fn instanceof ActivationSigmoid) {
            return Optional.of("Sigmoid");
        } else if (fn instanceof ActivationTanH) {
            return Optional.of("Tanh");
        } else if (fn instanceof ActivationHardSigmoid) {
            return Optional.of("HardSigmoid");
        } else if (fn instanceof ActivationReLU relu && relu.getMax() == null && zeroOrNull(relu.getThreshold())
                && zeroOrNull(relu.getNegativeSlope())) {
            return Optional.of("Relu");
        }
        return Optional.empty();
    }

    static String name(IActivation fn) {
        return fn.toString().toLowerCase(Locale.ROOT);
    }

    private static boolean zeroOrNull(Double value) {
        return value == null || value == 0.0;
    }
}
