package dptrain.driver.export;

import static dptrain.driver.export.GraphValue.floats;
import static dptrain.driver.export.GraphValue.longs;

import dptrain.driver.export.GraphValue.AttributeList;
import dptrain.driver.export.GraphValue.Layout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Layers over images: 2D convolution, max and average pooling, global pooling. ONNX's take channels first. */
final class ImageLayers {
    private ImageLayers() {
    }

    static void convolution(GraphValue v, ConvolutionLayer conv) {
        v.require(v.isImage(), "it takes images, but its input is not one");
        v.require(Arrays.stream(conv.getDilation()).allMatch(d -> d >= 1), "its dilation is not positive");
        v.toLayout(Layout.NCHW);
        INDArray weights = v.param("W");
        List<String> inputs = new ArrayList<>(List.of(v.value, v.graph.constant("W" + v.index, floats(weights),
                weights.shape())));
        if (conv.hasBias()) {
            inputs.add(v.graph.constant("b" + v.index, floats(v.param("b")), weights.shape()[0]));
        }
        v.value = v.graph.node("Conv", inputs, windowAttributes(v, conv.getKernelSize(), conv.getStride(),
                conv.getPadding(), conv.getConvolutionMode(),
                OnnxGraph.intsAttribute("dilations", longs(conv.getDilation()))));
        v.activate(conv.getActivationFn());
        v.step(String.format(Locale.ROOT, "conv2d %d filters %s, %s", weights.shape()[0],
                Arrays.toString(conv.getKernelSize()), Activations.name(conv.getActivationFn())));
    }

    static void pooling(GraphValue v, SubsamplingLayer pool) {
        v.require(v.isImage(), "it takes images, but its input is not one");
        v.require(Arrays.stream(pool.getDilation()).allMatch(d -> d == 1), "its dilation is not 1");
        v.require(pool.getPoolingType() == PoolingType.MAX || pool.getPoolingType() == PoolingType.AVG,
                "its pooling type " + pool.getPoolingType() + " has no ONNX form here; max and average do");
        v.toLayout(Layout.NCHW);
        boolean max = pool.getPoolingType() == PoolingType.MAX;
        var window = windowAttributes(v, pool.getKernelSize(), pool.getStride(), pool.getPadding(),
                pool.getConvolutionMode(), OnnxGraph.intAttribute("count_include_pad",
                        !max && pool.isAvgPoolIncludePadInDivisor() ? 1 : 0));
        if (max) {
            // count_include_pad is AveragePool's only; MaxPool ignores padding by definition.
            window = Arrays.copyOf(window, window.length - 1);
        }
        v.value = v.graph.node(max ? "MaxPool" : "AveragePool", List.of(v.value), window);
        v.step((max ? "max" : "average") + " pooling " + Arrays.toString(pool.getKernelSize()));
    }

    static void globalPooling(GraphValue v, GlobalPoolingLayer pool) {
        v.require(v.isImage(), "its input is not an image; dptrain exports global pooling of images");
        v.require(pool.isCollapseDimensions(), "it keeps the pooled dimensions");
        v.require(pool.getPoolingType() == PoolingType.MAX || pool.getPoolingType() == PoolingType.AVG,
                "its pooling type " + pool.getPoolingType() + " has no ONNX form here; max and average do");
        v.toLayout(Layout.NCHW);
        boolean max = pool.getPoolingType() == PoolingType.MAX;
        v.value = v.graph.node(max ? "GlobalMaxPool" : "GlobalAveragePool", List.of(v.value));
        v.reshape(Layout.FLAT, ((InputType.InputTypeFeedForward) v.outputType()).getSize());
        v.step("global " + (max ? "max" : "average") + " pooling");
    }

    /** kernel_shape, strides and padding (explicit, or SAME_UPPER for DL4J's Same mode), then {@code extra}. */
    private static onnx.Onnx.AttributeProto[] windowAttributes(GraphValue v, int[] kernel, int[] stride,
            int[] padding, ConvolutionMode mode, onnx.Onnx.AttributeProto extra) {
        AttributeList attributes = new AttributeList();
        attributes.add(OnnxGraph.intsAttribute("kernel_shape", longs(kernel)));
        attributes.add(OnnxGraph.intsAttribute("strides", longs(stride)));
        if (mode == ConvolutionMode.Same) {
            // DL4J's Same mode pads the bottom and right more when the padding is odd, as SAME_UPPER does.
            attributes.add(OnnxGraph.stringAttribute("auto_pad", "SAME_UPPER"));
        } else if (mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict) {
            attributes.add(OnnxGraph.intsAttribute("pads", padding[0], padding[1], padding[0], padding[1]));
        } else {
            throw v.refused("its convolution mode " + mode + " has no ONNX form here; Truncate, Strict and Same do");
        }
        attributes.add(extra);
        return attributes.toArray();
    }
}
