package dptrain.bench;

import dptrain.data.Example;
import dptrain.data.IdxHeader;
import dptrain.data.IdxReader;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.driver.input.DataInput;
import dptrain.replica.ParameterAverage;
import dptrain.replica.ReplicaResult;
import dptrain.replica.ReplicaTrainer;
import dptrain.replica.TrainingState;
import dptrain.spec.Engine;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import dptrain.timing.Seconds;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Single-thread training speed, measured back to back in one JVM on the same minibatches: DL4J's
 * {@code MultiLayerNetwork.fit} over prebuilt ND4J arrays (DL4J's best case), a replica with the DL4J engine and a
 * replica with the dense-stack engine, one epoch each in turn so machine drift hits all alike; plus the GEMM peak
 * ({@link GemmPeak}) and the achieved GFLOP/s of each. Run with {@code OMP_NUM_THREADS=1}.
 *
 * <p>Usage: {@code EngineSpeed SPEC TRAIN_IMAGES [EPOCHS [BATCH]]} (default 4 epochs, the first is warm-up and not
 * counted; batch 128, the book network's). Prints the median epoch and the fastest one of each configuration. A
 * network the dense-stack engine does not support (a convnet) is measured with DL4J's fit and the DL4J replica only.
 */
public final class EngineSpeed {
    private static final int DEFAULT_BATCH = 128;

    private EngineSpeed() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2 || args.length > 4) {
            System.err.println("usage: EngineSpeed SPEC TRAIN_IMAGES [EPOCHS [BATCH]]");
            System.exit(2);
        }
        ModelSpec spec = ModelFile.readSpec(Path.of(args[0]));
        int epochs = args.length >= 3 ? Integer.parseInt(args[2]) : 4;
        int batch = args.length == 4 ? Integer.parseInt(args[3]) : DEFAULT_BATCH;
        if (epochs < 2) {
            System.err.println("EPOCHS: " + epochs + " is not allowed; expected a whole number >= 2");
            System.exit(2);
        }
        System.out.printf(Locale.ROOT, "OMP_NUM_THREADS=%s, %d cores, load average %.2f at start%n",
                System.getenv("OMP_NUM_THREADS"), Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        List<Minibatch> batches = minibatches(spec, args[1], batch);
        long examples = batches.stream().mapToLong(Minibatch::rows).sum();

        MultiLayerNetwork net = new MultiLayerNetwork(spec.configuration());
        net.init();
        TrainingState start = TrainingState.of(net);
        double flopsPerExample = flopsPerExample(net, spec.inputSize());
        List<INDArray[]> arrays = new ArrayList<>();
        for (Minibatch b : batches) {
            arrays.add(new INDArray[] {b.featuresArray(), b.targetsArray()});
        }
        ReplicaTrainer dl4jReplica = new ReplicaTrainer(spec.withEngine(Engine.DL4J));
        boolean dense = spec.denseStackSupport().supported();
        ReplicaTrainer denseReplica = dense ? new ReplicaTrainer(spec.withEngine(Engine.DENSE)) : null;
        TrainingState dl4jState = start;
        TrainingState denseState = start;

        double peakBefore = GemmPeak.bookShapeGflops();
        double[][] seconds = new double[3][epochs];
        for (int e = 0; e < epochs; e++) {
            long began = System.nanoTime();
            for (INDArray[] b : arrays) {
                net.fit(b[0], b[1]);
            }
            seconds[0][e] = Seconds.since(began);

            began = System.nanoTime();
            ReplicaResult dl4j = dl4jReplica.train(dl4jState, batches.iterator(), Integer.MAX_VALUE, e);
            seconds[1][e] = Seconds.since(began);
            dl4jState = reached(dl4jState, dl4j);

            if (!dense) {
                System.out.printf(Locale.ROOT, "epoch %d: fit %.2fs, dl4j replica %.2fs (acc %.4f)%n", e + 1,
                        seconds[0][e], seconds[1][e], dl4j.stats().accuracy());
                continue;
            }
            began = System.nanoTime();
            ReplicaResult denseResult = denseReplica.train(denseState, batches.iterator(), Integer.MAX_VALUE, e);
            seconds[2][e] = Seconds.since(began);
            denseState = reached(denseState, denseResult);
            System.out.printf(Locale.ROOT, "epoch %d: fit %.2fs, dl4j replica %.2fs (acc %.4f), dense replica %.2fs "
                    + "(acc %.4f)%n", e + 1, seconds[0][e], seconds[1][e], dl4j.stats().accuracy(), seconds[2][e],
                    denseResult.stats().accuracy());
        }
        double peak = Math.max(peakBefore, GemmPeak.bookShapeGflops());
        System.out.printf(Locale.ROOT, "load average %.2f at end%n",
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());

        System.out.printf(Locale.ROOT, "%s: %d examples, batch %d, %.3f MFLOP per example, one thread%n",
                spec.source(), examples, batch, flopsPerExample / Units.FLOP_PER_MFLOP);
        System.out.printf(Locale.ROOT, "GEMM peak (Nd4j.gemm 128x784x512, best of 10, before and after): %.1f GFLOP/s "
                + "(%.1f before)%n", peak, peakBefore);
        String[] names = dense ? new String[] {"DL4J net.fit, prebuilt arrays", "replica, dl4j engine",
            "replica, dense engine"} : new String[] {"DL4J net.fit, prebuilt arrays", "replica, dl4j engine"};
        double fitRate = 0;
        double fitBestRate = 0;
        for (int c = 0; c < names.length; c++) {
            double[] timed = Arrays.copyOfRange(seconds[c], 1, epochs);
            double median = median(timed);
            double rate = examples / median;
            // The fastest epoch: on a shared machine, the one least slowed by other processes.
            double bestRate = examples / Arrays.stream(timed).min().orElseThrow();
            if (c == 0) {
                fitRate = rate;
                fitBestRate = bestRate;
            }
            double gflops = rate * flopsPerExample / Units.FLOP_PER_GFLOP;
            double bestGflops = bestRate * flopsPerExample / Units.FLOP_PER_GFLOP;
            System.out.printf(Locale.ROOT, "%-30s median %6.2f s/epoch %8.0f examples/s %.2fx fit %5.1f GFLOP/s = %4.1f%% "
                    + "of GEMM peak | fastest epoch %8.0f examples/s %.2fx fit %5.1f GFLOP/s = %4.1f%%%n", names[c],
                    median, rate, rate / fitRate, gflops, 100 * gflops / peak, bestRate, bestRate / fitBestRate,
                    bestGflops, 100 * bestGflops / peak);
        }
    }

    /** The state a replica reached, through the same average of one that the driver forms. */
    private static TrainingState reached(TrainingState from, ReplicaResult result) {
        return ParameterAverage.empty().add(result)
                .toState(from.iteration() + (int) result.stats().steps(), from.epoch());
    }

    /**
     * FLOPs of one training example: forward and weight-gradient products of every layer with weights, and the
     * input-gradient product of every layer but the first. A layer's product is 2 x its weights x the positions it
     * applies them at: 1 for a dense layer, the output's height x width for a convolution (read from a forward pass
     * of one row of {@code inputSize} zeros).
     */
    static double flopsPerExample(MultiLayerNetwork net, int inputSize) {
        List<INDArray> activations = net.feedForward(org.nd4j.linalg.factory.Nd4j.zeros(
                org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, inputSize), false);
        double flops = 0;
        boolean first = true;
        for (int i = 0; i < net.getnLayers(); i++) {
            Layer layer = net.getLayer(i);
            INDArray w = layer.getParam("W");
            if (w == null) {
                continue;
            }
            INDArray output = activations.get(i + 1);
            long positions = output.rank() == 4 ? output.size(2) * output.size(3) : 1;
            double product = 2.0 * w.length() * positions;
            flops += (first ? 2 : 3) * product;
            first = false;
        }
        return flops;
    }

    /** The images file (IDX, labels beside it) as the book's minibatches: batch 128, pixels / 255. */
    static List<Minibatch> minibatches(ModelSpec spec, String images) throws IOException {
        return minibatches(spec, images, DEFAULT_BATCH);
    }

    /** The images file (IDX, labels beside it) as minibatches of {@code batch}, pixels / 255. */
    static List<Minibatch> minibatches(ModelSpec spec, String images, int batch) throws IOException {
        MinibatchBuilder builder = new MinibatchBuilder(batch, spec.inputSize(), spec.outputSize(), spec.targetEncoding(),
                DataInput.IDX_DEFAULT_SCALE);
        String labels = images.replace("images-idx3", "labels-idx1");
        long count;
        try (InputStream header = IdxReader.maybeGunzip(Files.newInputStream(Path.of(images)))) {
            count = IdxHeader.read(header, images).count();
        }
        List<Minibatch> batches = new ArrayList<>();
        try (InputStream i = IdxReader.maybeGunzip(Files.newInputStream(Path.of(images)));
                InputStream l = IdxReader.maybeGunzip(Files.newInputStream(Path.of(labels)))) {
            Iterator<Example> examples = IdxReader.read(i, images, l, labels, 0, count);
            builder.batches(examples).forEachRemaining(batches::add);
        }
        return batches;
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
