package dptrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dptrain.testing.FashionMnist;
import dptrain.testing.OnnxParity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19's target for the ONNX export: the book's network, trained on the full Fashion-MNIST
 * with a standardizing normalizer, exported, and run in ONNX Runtime on the raw pixels of all
 * 10,000 test images gives DL4J's class for every one and every probability within 1e-5. The
 * figures go to {@code target/onnx-export-parity.json} (BENCHMARKS.md records them).
 */
class OnnxExportFashionMnistIT {
    @TempDir
    Path out;

    @Test
    void theExportedBooksNetworkAgreesWithDl4jOnAllTenThousandTestImages() throws Exception {
        long start = System.nanoTime();
        int trained = Dptrain.run("train", "--model", "../src/examples/mnist-mlp.yaml",
                "--train", FashionMnist.trainImages().toString(), "--normalize", "standardize",
                "--workers", "2", "--master", "local[2]", "--epochs", "5", "--output", out.toString(),
                "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, trained);
        Path onnx = out.resolve("model.onnx");
        long exportStart = System.nanoTime();
        assertEquals(ExitCodes.OK, Dptrain.run("export", "--model", out.resolve("model.zip").toString(), "--format",
                "onnx", "--output", onnx.toString()));
        double exportSeconds = (System.nanoTime() - exportStart) / 1e9;

        OnnxParity.Comparison comparison = OnnxParity.compare(out.resolve("model.zip"), onnx,
                OnnxParity.pixels("t10k", 0, 10_000));
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("rows", comparison.rows());
        figures.put("same_predicted_class", comparison.sameClass());
        figures.put("max_probability_difference", comparison.maxOutputDifference());
        figures.put("onnx_bytes", Files.size(onnx));
        figures.put("model_zip_bytes", Files.size(out.resolve("model.zip")));
        figures.put("export_seconds", exportSeconds);
        figures.put("total_seconds", (System.nanoTime() - start) / 1e9);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(Path.of("target", "onnx-export-parity.json").toFile(), figures);

        assertEquals(10_000, comparison.rows());
        assertEquals(10_000, comparison.sameClass(), comparison.toString());
        assertTrue(comparison.maxOutputDifference() <= 1e-5, comparison.toString());
    }
}
