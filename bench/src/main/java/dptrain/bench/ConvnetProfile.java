package dptrain.bench;

import dptrain.data.Minibatch;
import dptrain.replica.OneDnnHelpers;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Where one replica minibatch of a convnet spends its time, on one thread: each layer's forward and backward pass
 * (DL4J's own layer code, timed one layer at a time, no workspaces), the updater, and a whole {@code fit} step; then
 * {@code fit} steps of variants back to back (the spec's network with DL4J's default workspaces and with none, the
 * book convnet built in NCHW and in NHWC, the spec's network with the oneDNN helpers replicas attach), and which
 * native helper each layer got. {@code -Dorg.bytedeco.javacpp.platform.extension=} (empty) loads nd4j-native's plain
 * libraries instead of the oneDNN ones, to compare them.
 *
 * <p>Usage: {@code ConvnetProfile SPEC TRAIN_IMAGES [BATCHES [ROUNDS]]} (default 40 minibatches of 64, 3 rounds, the
 * first not counted). Run with {@code OMP_NUM_THREADS=1}.
 */
public final class ConvnetProfile {
    private static final int BATCH = 64;

    private ConvnetProfile() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2 || args.length > 4) {
            System.err.println("usage: ConvnetProfile SPEC TRAIN_IMAGES [BATCHES [ROUNDS]]");
            System.exit(2);
        }
        ModelSpec spec = ModelFile.readSpec(Path.of(args[0]));
        int batches = args.length >= 3 ? Integer.parseInt(args[2]) : 40;
        int rounds = args.length == 4 ? Integer.parseInt(args[3]) : 3;
        List<INDArray[]> data = new ArrayList<>();
        for (Minibatch b : EngineSpeed.minibatches(spec, args[1], BATCH)) {
            if (b.rows() == BATCH && data.size() < batches) {
                data.add(new INDArray[] {b.featuresArray(), b.targetsArray()});
            }
        }
        System.out.printf(Locale.ROOT, "OMP_NUM_THREADS=%s, load average %.2f; nd4j-native libraries: %s%n",
                System.getenv("OMP_NUM_THREADS"), load(),
                System.getProperty("org.bytedeco.javacpp.platform.extension", "(no extension)"));
        System.out.printf(Locale.ROOT, "libnd4j build: %s%n", NativeOpsHolder.getInstance().getDeviceNativeOps()
                .buildInfo().replace('\n', ' '));
        System.out.printf(Locale.ROOT, "helpersAllowed=%s, libnd4j isUseONEDNN=%s, DL4J BaseMKLDNNHelper.mklDnnEnabled=%s, "
                + "-Dorg.eclipse.deeplearning4j.helpers.disable=%s%n", Nd4j.getEnvironment().helpersAllowed(),
                Nd4jCpu.Environment.getInstance().isUseONEDNN(), BaseMKLDNNHelper.mklDnnEnabled(),
                System.getProperty("org.eclipse.deeplearning4j.helpers.disable", "(unset: true)"));

        MultiLayerNetwork net = new MultiLayerNetwork(spec.configuration());
        net.init();
        net.initGradientsView();
        for (int i = 0; i < net.getnLayers(); i++) {
            Object helper = net.getLayer(i).getHelper();
            System.out.printf(Locale.ROOT, "layer %d %-18s helper %s%n", i, net.getLayer(i).getClass().getSimpleName(),
                    helper == null ? "none (DL4J's built-in implementation)" : helper.getClass().getName());
        }
        profileLayers(net, data, rounds);
        MultiLayerNetwork withHelpers = new MultiLayerNetwork(spec.configuration());
        withHelpers.init();
        withHelpers.initGradientsView();
        if (OneDnnHelpers.attach(withHelpers) > 0) {
            System.out.printf(Locale.ROOT, "%nthe same with the oneDNN helpers attached:");
            profileLayers(withHelpers, data, rounds);
        }

        Map<String, MultiLayerNetwork> variants = new LinkedHashMap<>();
        variants.put("spec, workspaces ENABLED (default)", network(spec.configuration(), WorkspaceMode.ENABLED));
        variants.put("spec, workspaces NONE", network(spec.configuration(), WorkspaceMode.NONE));
        variants.put("book convnet by hand, NCHW", network(bookConvnet(CNN2DFormat.NCHW), WorkspaceMode.ENABLED));
        variants.put("book convnet by hand, NHWC", network(bookConvnet(CNN2DFormat.NHWC), WorkspaceMode.ENABLED));
        MultiLayerNetwork helped = network(spec.configuration(), WorkspaceMode.ENABLED);
        variants.put("spec, oneDNN helpers attached (" + OneDnnHelpers.attach(helped) + " layers)", helped);
        double[][] seconds = new double[variants.size()][rounds];
        for (int r = 0; r < rounds; r++) {
            int v = 0;
            for (MultiLayerNetwork variant : variants.values()) {
                boolean nhwc = v == 3;
                long began = System.nanoTime();
                for (INDArray[] b : data) {
                    variant.fit(nhwc ? b[0].reshape('c', BATCH, 28, 28, 1) : b[0], b[1]);
                }
                seconds[v][r] = (System.nanoTime() - began) / 1e9;
                System.gc();
                v++;
            }
            StringBuilder line = new StringBuilder("round " + (r + 1) + ", s per variant:");
            for (double[] variantSeconds : seconds) {
                line.append(String.format(Locale.ROOT, " %.2f", variantSeconds[r]));
            }
            System.out.println(line);
        }
        System.out.printf(Locale.ROOT, "%nfit steps of %d minibatches of %d, rounds 2..%d, median (load average %.2f)%n",
                data.size(), BATCH, rounds, load());
        int v = 0;
        double reference = 0;
        for (String name : variants.keySet()) {
            double median = EngineSpeed.median(Arrays.copyOfRange(seconds[v], 1, rounds));
            double perStep = 1e3 * median / data.size();
            if (v == 0) {
                reference = perStep;
            }
            System.out.printf(Locale.ROOT, "%-40s %7.1f ms/step %7.0f examples/s %.2fx default%n", name, perStep,
                    BATCH * 1e3 / perStep, reference / perStep);
            v++;
        }
    }

    /** Each layer's forward and backward pass, the loss, the updater and a whole fit step, in ms per minibatch. */
    private static void profileLayers(MultiLayerNetwork net, List<INDArray[]> data, int rounds) {
        int n = net.getnLayers();
        double[] forward = new double[n];
        double[] backward = new double[n];
        double updater = 0;
        double fit = 0;
        LayerWorkspaceMgr noWorkspaces = LayerWorkspaceMgr.noWorkspaces();
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        int steps = 0;
        for (int r = 0; r < rounds; r++) {
            boolean counted = r > 0;
            for (INDArray[] b : data) {
                INDArray x = b[0];
                for (int i = 0; i < n; i++) {
                    long began = System.nanoTime();
                    InputPreProcessor pre = conf.getInputPreProcess(i);
                    if (pre != null) {
                        x = pre.preProcess(x, BATCH, noWorkspaces);
                    }
                    Layer layer = net.getLayer(i);
                    if (layer instanceof IOutputLayer output) {
                        output.setLabels(b[1]);
                    }
                    x = layer.activate(x, true, noWorkspaces);
                    forward[i] += counted ? System.nanoTime() - began : 0;
                }
                INDArray epsilon = null;
                Gradient gradient = new org.deeplearning4j.nn.gradient.DefaultGradient();
                for (int i = n - 1; i >= 0; i--) {
                    long began = System.nanoTime();
                    Pair<Gradient, INDArray> pair = net.getLayer(i).backpropGradient(epsilon, noWorkspaces);
                    epsilon = pair.getSecond();
                    InputPreProcessor pre = conf.getInputPreProcess(i);
                    if (pre != null && i > 0) {
                        epsilon = pre.backprop(epsilon, BATCH, noWorkspaces);
                    }
                    backward[i] += counted ? System.nanoTime() - began : 0;
                    for (Map.Entry<String, INDArray> g : pair.getFirst().gradientForVariable().entrySet()) {
                        gradient.setGradientFor(i + "_" + g.getKey(), g.getValue());
                    }
                }
                net.setInput(b[0]);
                net.setLabels(b[1]);
                net.computeGradientAndScore();
                long began = System.nanoTime();
                net.getUpdater().update(net, net.gradient(), 0, 0, BATCH, noWorkspaces);
                updater += counted ? System.nanoTime() - began : 0;
                began = System.nanoTime();
                net.fit(b[0], b[1]);
                fit += counted ? System.nanoTime() - began : 0;
                steps += counted ? 1 : 0;
                // Native arrays are freed when their Java objects are collected, and those are too small to prompt a
                // collection: without this the process grew past 16 GB.
                System.gc();
            }
        }
        double total = 0;
        System.out.printf(Locale.ROOT, "%nper minibatch of %d, one layer at a time (ms), %d steps:%n", BATCH, steps);
        for (int i = 0; i < n; i++) {
            double f = forward[i] / 1e6 / steps;
            double bw = backward[i] / 1e6 / steps;
            total += f + bw;
            System.out.printf(Locale.ROOT, "layer %d %-18s forward %7.2f  backward %7.2f%n", i,
                    net.getLayer(i).getClass().getSimpleName(), f, bw);
        }
        double u = updater / 1e6 / steps;
        double step = fit / 1e6 / steps;
        System.out.printf(Locale.ROOT, "layers' forward + backward %.2f, updater (RMSprop, all parameters) %.2f, "
                + "sum %.2f; a whole fit step %.2f ms (%.0f examples/s)%n", total, u, total + u, step, BATCH * 1e3 / step);
    }

    private static MultiLayerNetwork network(MultiLayerConfiguration conf, WorkspaceMode workspaces) {
        conf.setTrainingWorkspaceMode(workspaces);
        conf.setInferenceWorkspaceMode(workspaces);
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** The book's convnet (src/examples/mnist-convnet.yaml) with its image layers in {@code format}. */
    static MultiLayerConfiguration bookConvnet(CNN2DFormat format) {
        return new NeuralNetConfiguration.Builder().seed(12345).updater(new RmsProp(0.001, 0.9, 1e-7))
                .weightInit(WeightInit.XAVIER_UNIFORM).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(32).activation(Activation.RELU).dataFormat(format).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                        .dataFormat(format).build())
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(64).activation(Activation.RELU).dataFormat(format).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                        .dataFormat(format).build())
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(64).activation(Activation.RELU).dataFormat(format).build())
                .layer(new DenseLayer.Builder().nOut(64).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(format == CNN2DFormat.NCHW ? InputType.convolutionalFlat(28, 28, 1)
                        : InputType.convolutional(28, 28, 1, format))
                .build();
    }

    private static double load() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
