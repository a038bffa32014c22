package dptrain.driver.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dptrain.data.ExampleCheck;
import dptrain.driver.files.EnvironmentException;
import dptrain.spec.ModelSpec;
import dptrain.testing.LocalSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading data when Spark has stopped under it (a cluster manager that gave up on the master, a killed
 * application) fails as what it is, not as a file that "cannot be read" or a bug.
 */
class StoppedSparkTest {
    @TempDir
    Path dir;

    @Test
    void readingWithAStoppedSparkIsAnEnvironmentFailureNamingTheInput() throws IOException {
        Path csv = Files.writeString(dir.resolve("x.csv"), "1,0.5,0.25,0.125\n0,0.5,0.5,1\n");
        ModelSpec spec = ModelSpec.parse("input_shape: [3]\nlayers:\n  - dense: {units: 2, activation: softmax}\n"
                + "loss: categorical_crossentropy\n", "tiny.yaml");
        JavaSparkContext jsc = LocalSpark.start(1);
        jsc.stop();
        DataInput input = DataInput.of(csv.toUri().toString(), DataFormat.CSV);

        EnvironmentException e = assertThrows(EnvironmentException.class,
                () -> ExampleSource.read(jsc, input, "--train", new ExampleCheck(spec), 3, 1));
        assertEquals("Spark stopped while --train " + input.uri() + " was read: its application ended (the "
                + "connection to the cluster was lost, the application was killed, or the JVM is shutting down); "
                + "Spark's log says why", e.getMessage());
    }
}
