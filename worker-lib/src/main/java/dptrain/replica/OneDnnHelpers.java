package dptrain.replica;

import java.lang.reflect.Field;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Runs a network's 2D convolutions and poolings through oneDNN, when the loaded libnd4j was built with it: the
 * {@code nd4j-native} {@code linux-x86_64-onednn} libraries, which dptrain ships beside the plain ones and javacpp
 * prefers when both are on the classpath. On the book's convnet that made a training step about 5× faster on one
 * thread (src/docs/BENCHMARKS.md); with the plain libraries this does nothing.
 *
 * <p>DL4J 1.0.0-M2.1 has helper classes for this but never creates them: helper creation is off unless
 * {@code -Dorg.eclipse.deeplearning4j.helpers.disable=false}, and even then {@code BaseMKLDNNHelper.mklDnnEnabled()}
 * looks for {@code org.nd4j.nativeblas.Nd4jCpu$Environment}, a class that M2.1 moved. So they are set here, on the
 * layers' {@code helper} field. DL4J's layers fall back to their own code if a helper fails.
 *
 * <p>Channels-last (NHWC) layers, as Keras model files import, keep DL4J's own code: with M2.1's oneDNN their
 * training crashed the JVM (SIGSEGV in {@code MKLDNNConvHelper.backpropGradient}) or turned the loss NaN within
 * two steps, now and then, where DL4J's own code trains them.
 */
public final class OneDnnHelpers {
    /** Asks ND4J's environment first: NativeOpsHolder fails unless ND4J's backend has been loaded. */
    private static final boolean AVAILABLE = Nd4j.getEnvironment().helpersAllowed()
            && NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo().contains("HAVE_ONEDNN");

    private OneDnnHelpers() {
    }

    /** Whether the loaded libnd4j has oneDNN and ND4J lets ops use it. */
    public static boolean available() {
        return AVAILABLE;
    }

    /**
     * Sets DL4J's oneDNN helpers on {@code net}'s convolution and pooling layers if {@link #available()}; returns
     * how many layers got one. Call after {@code init()}, before training.
     */
    public static int attach(MultiLayerNetwork net) {
        if (!available()) {
            return 0;
        }
        int attached = 0;
        for (Layer layer : net.getLayers()) {
            if (channelsLast(layer)) {
                continue;
            }
            if (layer instanceof ConvolutionLayer conv && conv.getHelper() == null
                    && conv.getClass() == ConvolutionLayer.class) {
                set(ConvolutionLayer.class, layer, new MKLDNNConvHelper(conv.getParam("W").dataType()));
                attached++;
            } else if (layer instanceof SubsamplingLayer pooling && pooling.getHelper() == null
                    && pooling.getClass() == SubsamplingLayer.class) {
                set(SubsamplingLayer.class, layer, new MKLDNNSubsamplingHelper(net.params().dataType()));
                attached++;
            }
        }
        return attached;
    }

    private static boolean channelsLast(Layer layer) {
        Object conf = layer.conf().getLayer();
        CNN2DFormat format = conf instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer c
                ? c.getCnn2dDataFormat()
                : conf instanceof org.deeplearning4j.nn.conf.layers.SubsamplingLayer s ? s.getCnn2dDataFormat() : null;
        return format == CNN2DFormat.NHWC;
    }

    private static void set(Class<?> type, Layer layer, Object helper) {
        try {
            Field field = type.getDeclaredField("helper");
            field.setAccessible(true);
            field.set(layer, helper);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DL4J's " + type.getName() + " has no settable helper field; "
                    + "this code expects DL4J 1.0.0-M2.1", e);
        }
    }
}
