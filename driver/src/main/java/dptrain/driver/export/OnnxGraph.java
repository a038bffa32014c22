package dptrain.driver.export;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;
import org.nd4j.shade.protobuf.ByteString;

/**
 * An ONNX graph under construction: constants become initializers, operators become nodes, each
 * with a name unique in the graph. The messages are ONNX's own protobuf classes, generated from
 * onnx.proto by protoc and shipped in nd4j-api 1.0.0-M2.1 (package {@code onnx}, over ND4J's
 * shaded protobuf, so they never meet Spark's protobuf-java). That onnx.proto is of IR version 8
 * (ONNX 1.10-1.12, with {@code ModelProto.functions}); the fields used here are unchanged since.
 */
final class OnnxGraph {
    /** The name ONNX shapes give the batch axis, which the exported graph leaves free. */
    static final String BATCH = "N";

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private int nextId;

    OnnxGraph(String name) {
        graph.setName(name);
    }

    /** A float input or output of shape [N, dims...]. */
    void floatInput(String name, long... dims) {
        graph.addInput(valueInfo(name, TensorProto.DataType.FLOAT, dims));
    }

    void floatOutput(String name, long... dims) {
        graph.addOutput(valueInfo(name, TensorProto.DataType.FLOAT, dims));
    }

    /** An int64 output of shape [N, dims...]. */
    void longOutput(String name, long... dims) {
        graph.addOutput(valueInfo(name, TensorProto.DataType.INT64, dims));
    }

    /** A float constant of shape {@code dims} (row-major {@code values}); returns its name. */
    String constant(String hint, float[] values, long... dims) {
        long size = 1;
        for (long d : dims) {
            size *= d;
        }
        if (size != values.length) {
            throw new IllegalArgumentException(hint + ": " + values.length + " values for shape " + List.of(dims));
        }
        ByteBuffer raw = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(values);
        String name = unique(hint);
        TensorProto.Builder tensor = TensorProto.newBuilder().setName(name)
                .setDataType(TensorProto.DataType.FLOAT.getNumber()).setRawData(ByteString.copyFrom(raw.array()));
        for (long d : dims) {
            tensor.addDims(d);
        }
        graph.addInitializer(tensor);
        return name;
    }

    /** An int64 constant of shape [values.length]; returns its name. */
    String longs(String hint, long... values) {
        ByteBuffer raw = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        raw.asLongBuffer().put(values);
        String name = unique(hint);
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64.getNumber())
                .addDims(values.length).setRawData(ByteString.copyFrom(raw.array())));
        return name;
    }

    /** Adds a node of {@code op} on {@code inputs}; returns the name of its one output. */
    String node(String op, List<String> inputs, AttributeProto... attributes) {
        String output = unique(op.toLowerCase(java.util.Locale.ROOT));
        nodeInto(output, op, inputs, attributes);
        return output;
    }

    /** Adds a node of {@code op} with {@code count} outputs; returns their names. */
    String[] nodeWithOutputs(String op, int count, List<String> inputs, AttributeProto... attributes) {
        String[] outputs = new String[count];
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName(unique(op + "_node"));
        for (int i = 0; i < count; i++) {
            outputs[i] = unique(op.toLowerCase(java.util.Locale.ROOT) + "_out" + i);
            node.addOutput(outputs[i]);
        }
        inputs.forEach(node::addInput);
        for (AttributeProto attribute : attributes) {
            node.addAttribute(attribute);
        }
        graph.addNode(node);
        return outputs;
    }

    /** Adds a node of {@code op} whose output is named {@code output} (a graph output). */
    void nodeInto(String output, String op, List<String> inputs, AttributeProto... attributes) {
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName(unique(op + "_node")).addOutput(output);
        inputs.forEach(node::addInput);
        for (AttributeProto attribute : attributes) {
            node.addAttribute(attribute);
        }
        graph.addNode(node);
    }

    static AttributeProto intAttribute(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto floatAttribute(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    static AttributeProto intsAttribute(String name, long... values) {
        AttributeProto.Builder attribute = AttributeProto.newBuilder().setName(name)
                .setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            attribute.addInts(v);
        }
        return attribute.build();
    }

    static AttributeProto stringsAttribute(String name, String... values) {
        AttributeProto.Builder attribute = AttributeProto.newBuilder().setName(name)
                .setType(AttributeProto.AttributeType.STRINGS);
        for (String v : values) {
            attribute.addStrings(ByteString.copyFromUtf8(v));
        }
        return attribute.build();
    }

    static AttributeProto stringAttribute(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    GraphProto build() {
        return graph.build();
    }

    private String unique(String hint) {
        return hint + "_" + nextId++;
    }

    private static ValueInfoProto valueInfo(String name, TensorProto.DataType type, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        shape.addDimBuilder().setDimParam(BATCH);
        for (long d : dims) {
            shape.addDimBuilder().setDimValue(d);
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape))).build();
    }
}
