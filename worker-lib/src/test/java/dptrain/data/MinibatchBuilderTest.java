package dptrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dptrain.spec.TargetEncoding;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MinibatchBuilderTest {

    private static List<Example> examples(int n) {
        List<Example> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new Example(new float[] {i, 2 * i, 255}, i % 3));
        }
        return list;
    }

    private static List<Minibatch> build(MinibatchBuilder builder, List<Example> examples) {
        List<Minibatch> batches = new ArrayList<>();
        builder.batches(examples.iterator()).forEachRemaining(batches::add);
        return batches;
    }

    @Test
    void groupsInOrderAndKeepsTheSmallerLastBatchAsKerasDoes() {
        List<Minibatch> batches = build(new MinibatchBuilder(4, 3, 3, TargetEncoding.ONE_HOT, 1f), examples(10));
        assertEquals(List.of(4, 4, 2), batches.stream().map(Minibatch::rows).toList());
        assertEquals(8, batches.get(2).featuresArray().getFloat(0, 0), "example 8 opens the last batch");
    }

    @Test
    void scalesFeaturesAndOneHotEncodesLabels() {
        Minibatch batch = build(new MinibatchBuilder(2, 3, 3, TargetEncoding.ONE_HOT, 1f / 255f), examples(2)).get(0);
        assertArrayEquals(new float[] {1 / 255f, 2 / 255f, 1f}, batch.featuresArray().getRow(1).toFloatVector(), 1e-7f);
        assertArrayEquals(new float[] {0, 1, 0}, batch.targetsArray().getRow(1).toFloatVector());
        assertEquals(1, batch.label(1));
    }

    @Test
    void classIndexAndScalarEncodingsGiveOneTargetColumn() {
        Minibatch sparse = build(new MinibatchBuilder(3, 3, 3, TargetEncoding.CLASS_INDEX, 1f), examples(3)).get(0);
        assertArrayEquals(new long[] {3, 1}, sparse.targetsArray().shape());
        assertArrayEquals(new float[] {0, 1, 2}, sparse.targetsArray().toFloatVector());
        Minibatch scalar = build(new MinibatchBuilder(2, 3, 1, TargetEncoding.SCALAR, 1f), examples(2)).get(0);
        assertArrayEquals(new float[] {0, 1}, scalar.targetsArray().toFloatVector());
    }

    @Test
    void copiesIntoAReusedArrayExactlyWhatANewArrayHolds() {
        Minibatch batch = build(new MinibatchBuilder(4, 3, 3, TargetEncoding.ONE_HOT, 0.5f), examples(4)).get(0);
        INDArray reused = Nd4j.create(DataType.FLOAT, 4, 3);
        batch.copyFeaturesInto(reused);
        assertEquals(batch.featuresArray(), reused);
        INDArray targets = Nd4j.create(DataType.FLOAT, 4, 3);
        batch.copyTargetsInto(targets);
        assertEquals(batch.targetsArray(), targets);
        assertThrows(IllegalArgumentException.class, () -> batch.copyFeaturesInto(Nd4j.create(DataType.FLOAT, 3, 3)));
    }
}
