package dptrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dptrain.spec.TargetEncoding;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Examples and minibatches come back from Java serialization (Spark's shuffle and disk caches) as they went in. */
class SerializedFormsTest {
    @Test
    void examplesOfEveryKindComeBackEqual() throws Exception {
        Example classified = new Example(new float[] {0.5f, -1e-30f, Float.MAX_VALUE, Float.MIN_VALUE}, 7);
        Example regression = Example.regression(new float[] {1, 2}, new float[] {3.25f, -4});
        Example unlabeled = Example.unlabeled(new float[0]);
        List<Example> back = roundTrip(List.of(classified, regression, unlabeled, classified));
        assertEquals(classified, back.get(0));
        assertEquals(regression, back.get(1));
        assertArrayEquals(new float[] {3.25f, -4}, back.get(1).targets());
        assertEquals(unlabeled, back.get(2));
        assertNull(back.get(2).targets());
        assertEquals(classified, back.get(3));
    }

    @Test
    void minibatchesComeBackWithTheSameArrays() throws Exception {
        MinibatchBuilder builder = new MinibatchBuilder(2, 3, 4, TargetEncoding.ONE_HOT, 0.5f);
        Iterator<Minibatch> batches = builder.batches(List.of(new Example(new float[] {1, 2, 3}, 1),
                new Example(new float[] {4, 5, 6}, 3), new Example(new float[] {7, 8, 9}, 0)).iterator());
        Minibatch full = batches.next();
        Minibatch last = batches.next();
        List<Minibatch> back = roundTrip(List.of(full, last));
        for (int b = 0; b < 2; b++) {
            Minibatch original = b == 0 ? full : last;
            Minibatch copy = back.get(b);
            assertEquals(original.rows(), copy.rows());
            assertEquals(original.featureCount(), copy.featureCount());
            assertEquals(original.targetCount(), copy.targetCount());
            for (int r = 0; r < original.rows(); r++) {
                assertEquals(original.label(r), copy.label(r));
            }
            assertArrayEquals(original.featuresArray().data().asFloat(), copy.featuresArray().data().asFloat());
            assertArrayEquals(original.targetsArray().data().asFloat(), copy.targetsArray().data().asFloat());
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> List<T> roundTrip(List<T> values) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(new java.util.ArrayList<>(values));
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (List<T>) in.readObject();
        }
    }
}
