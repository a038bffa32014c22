package dptrain.replica;

import java.nio.FloatBuffer;
import java.util.Optional;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * What DL4J's {@code MultiLayerUpdater} and step function do after backprop, for the common case, in one pass over
 * Java float arrays: divide the gradient by the minibatch size, apply SGD, Nesterov momentum, RMSprop, AdaGrad or
 * Adam with the formulas and float32 arithmetic of ND4J's native updater ops, and subtract the update from the
 * parameters. ND4J's ops take 1.5-6 ms per step for the book network's 407k parameters (they fall onto a strided
 * path for DL4J's array layouts); this takes well under one.
 *
 * <p>The common case: every parameter has the same updater configuration (so DL4J keeps one updater block, and the
 * optimizer state is laid out as in {@code getStateViewArray()}: e.g. Adam's [m of all parameters, v of all
 * parameters]), no regularization and no gradient normalization. Anything else goes through DL4J's updater.
 *
 * <p>Between {@link #load()} and {@link #store()} the parameters and optimizer state live in Java arrays; the
 * network's parameters are rewritten after every step (the next forward pass reads them), its optimizer state
 * only at {@link #store()}.
 */
final class FusedOptimizerStep {
    private final MultiLayerNetwork net;
    private final IUpdater config;
    private final boolean divideByMinibatch;
    private final INDArray parameterView;
    private final INDArray gradientView;
    private final INDArray stateView;
    private final float[] parameters;
    private final float[] gradient;
    private final float[] state;

    private FusedOptimizerStep(MultiLayerNetwork net, IUpdater config, INDArray gradientView) {
        this.net = net;
        this.config = config;
        this.divideByMinibatch = net.conf().isMiniBatch();
        this.parameterView = net.params();
        this.gradientView = gradientView;
        this.stateView = net.getUpdater(true).getStateViewArray();
        int n = Math.toIntExact(parameterView.length());
        this.parameters = new float[n];
        this.gradient = new float[n];
        this.state = new float[stateView == null ? 0 : Math.toIntExact(stateView.length())];
    }

    /** The fused step for {@code net}, or empty when its updater configuration is not the common case. */
    static Optional<FusedOptimizerStep> forNetwork(MultiLayerNetwork net, INDArray gradientView) {
        IUpdater shared = null;
        for (int i = 0; i < net.getnLayers(); i++) {
            Layer layer = net.getLayer(i);
            BaseLayer conf = (BaseLayer) layer.conf().getLayer();
            if (hasAny(conf.getRegularization()) || hasAny(conf.getRegularizationBias())
                    || (conf.getGradientNormalization() != null
                        && conf.getGradientNormalization() != GradientNormalization.None)) {
                return Optional.empty();
            }
            for (String param : new String[] {DefaultParamInitializer.WEIGHT_KEY, DefaultParamInitializer.BIAS_KEY}) {
                IUpdater updater = conf.getUpdaterByParam(param);
                if (shared == null) {
                    shared = updater;
                } else if (!shared.equals(updater)) {
                    return Optional.empty();
                }
            }
        }
        if (shared == null || !supported(shared)) {
            return Optional.empty();
        }
        FusedOptimizerStep step = new FusedOptimizerStep(net, shared, gradientView);
        long expectedState = shared.stateSize(step.parameters.length);
        if (step.state.length != expectedState || !contiguousFloat(step.parameterView)
                || !contiguousFloat(step.gradientView) || (step.stateView != null && !contiguousFloat(step.stateView))) {
            return Optional.empty();
        }
        return Optional.of(step);
    }

    private static boolean supported(IUpdater updater) {
        Class<?> type = updater.getClass();
        if (type == AdaGrad.class) {
            // ND4J's AdaGrad op replaces an epsilon of 0 by its own constant; leave that case to it.
            return ((AdaGrad) updater).getEpsilon() != 0;
        }
        return type == Sgd.class || type == Nesterovs.class || type == RmsProp.class || type == Adam.class;
    }

    private static boolean hasAny(java.util.List<?> list) {
        return list != null && !list.isEmpty();
    }

    private static boolean contiguousFloat(INDArray array) {
        return array.dataType() == DataType.FLOAT && array.elementWiseStride() == 1;
    }

    /** The optimizer's name, for log lines. */
    String optimizerName() {
        return config.getClass().getSimpleName();
    }

    /** Reads the network's parameters and optimizer state, e.g. after a snapshot was loaded into it. */
    void load() {
        buffer(parameterView).get(parameters);
        if (state.length > 0) {
            buffer(stateView).get(state);
        }
    }

    /** Writes the optimizer state back into the network (its parameters are always current). */
    void store() {
        if (state.length > 0) {
            buffer(stateView).put(state);
        }
    }

    /**
     * One update from the gradient in the network's gradient view, as DL4J applies it at {@code iteration} and
     * {@code epoch} for a minibatch of {@code rows} examples; writes the new parameters into the network.
     */
    void step(int rows, int iteration, int epoch) {
        buffer(gradientView).get(gradient);
        // DL4J's divi(batchSize) runs on float arrays: a float division by the float batch size.
        float divisor = divideByMinibatch ? (float) rows : 1f;
        float lr = (float) config.getLearningRate(iteration, epoch);
        if (config instanceof Sgd) {
            sgd(divisor, lr);
        } else if (config instanceof Nesterovs nesterovs) {
            nesterovs(divisor, lr, (float) nesterovs.currentMomentum(iteration, epoch));
        } else if (config instanceof RmsProp rmsProp) {
            rmsProp(divisor, lr, (float) rmsProp.getRmsDecay(), (float) rmsProp.getEpsilon());
        } else if (config instanceof AdaGrad adaGrad) {
            adaGrad(divisor, lr, (float) adaGrad.getEpsilon());
        } else {
            Adam adam = (Adam) config;
            adam(divisor, lr, (float) adam.getBeta1(), (float) adam.getBeta2(), (float) adam.getEpsilon(), iteration);
        }
        buffer(parameterView).put(parameters);
    }

    // Each loop keeps the operand order of ND4J's native updater op, so float32 rounding is the same; the step is
    // DL4J's NegativeDefaultStepFunction, parameters + (-1 × update), which is exactly parameters - update.

    private void sgd(float divisor, float lr) {
        float[] p = parameters;
        float[] g = gradient;
        for (int i = 0; i < p.length; i++) {
            p[i] -= (g[i] / divisor) * lr;
        }
    }

    private void nesterovs(float divisor, float lr, float momentum) {
        float momentumT = -momentum - 1;
        float[] p = parameters;
        float[] g = gradient;
        float[] v = state;
        for (int i = 0; i < p.length; i++) {
            float grad = g[i] / divisor;
            float previous = momentum * v[i];
            float next = previous - lr * grad;
            v[i] = next;
            p[i] -= previous + momentumT * next;
        }
    }

    private void rmsProp(float divisor, float lr, float decay, float epsilon) {
        float oneMinusDecay = 1 - decay;
        float[] p = parameters;
        float[] g = gradient;
        float[] s = state;
        for (int i = 0; i < p.length; i++) {
            float grad = g[i] / divisor;
            float next = s[i] * decay + grad * grad * oneMinusDecay;
            s[i] = next;
            p[i] -= (lr * grad) / ((float) Math.sqrt(next) + epsilon);
        }
    }

    private void adaGrad(float divisor, float lr, float epsilon) {
        float[] p = parameters;
        float[] g = gradient;
        float[] h = state;
        for (int i = 0; i < p.length; i++) {
            float grad = g[i] / divisor;
            float next = h[i] + grad * grad;
            h[i] = next;
            p[i] -= (lr * grad) / ((float) Math.sqrt(next) + epsilon);
        }
    }

    private void adam(float divisor, float lr, float beta1, float beta2, float epsilon, int iteration) {
        float beta1T = (float) Math.pow(beta1, iteration + 1);
        float beta2T = (float) Math.pow(beta2, iteration + 1);
        float epsilonT = (float) (lr * (float) Math.sqrt((float) (1.0 - beta2T)) / (1.0 - beta1T));
        if (Float.isNaN(epsilonT) || Float.isInfinite(epsilonT) || epsilonT == 0) {
            epsilonT = epsilon;
        }
        float oneMinusBeta1 = 1 - beta1;
        float oneMinusBeta2 = 1 - beta2;
        int n = parameters.length;
        float[] p = parameters;
        float[] g = gradient;
        float[] s = state; // DL4J's Adam state view: m for every parameter, then v for every parameter
        for (int i = 0; i < n; i++) {
            float grad = g[i] / divisor;
            float m = beta1 * s[i] + grad * oneMinusBeta1;
            float v = beta2 * s[n + i] + grad * grad * oneMinusBeta2;
            s[i] = m;
            s[n + i] = v;
            p[i] -= (m * epsilonT) / ((float) Math.sqrt(v) + epsilon);
        }
    }

    /** The array's native memory as a float buffer positioned at its first element. */
    private static FloatBuffer buffer(INDArray contiguous) {
        Nd4j.getExecutioner().commit();
        FloatBuffer buffer = contiguous.data().asNioFloat();
        buffer.position(Math.toIntExact(contiguous.offset()));
        return buffer;
    }
}
