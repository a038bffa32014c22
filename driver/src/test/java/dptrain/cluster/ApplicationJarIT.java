package dptrain.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.cli.Dptrain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/** The shaded application jar that dptrain-submit hands to spark-submit. */
class ApplicationJarIT {

    @Test
    void holdsDptrainDl4jAndTheLinuxNativesButNotSparkScalaOrHadoop() throws IOException {
        Path jar;
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            List<Path> apps = files.filter(p -> p.getFileName().toString().matches("dptrain-driver-.*-app\\.jar")).toList();
            assertEquals(1, apps.size(), "application jars in target/: " + apps);
            jar = apps.get(0);
        }
        try (JarFile app = new JarFile(jar.toFile())) {
            assertEquals("dptrain.cli.Dptrain", app.getManifest().getMainAttributes().getValue("Main-Class"));
            List<String> names = app.stream().map(ZipEntry::getName).toList();
            for (String provided : List.of("org/apache/spark/", "scala/", "org/apache/hadoop/")) {
                assertTrue(names.stream().noneMatch(n -> n.startsWith(provided)), "the jar holds " + provided);
            }
            assertTrue(names.stream().noneMatch(n -> n.matches("META-INF/[^/]+\\.(SF|DSA|RSA)")), "signature files");
            for (String needed : List.of("dptrain/cli/Dptrain.class", "dptrain/replica/ReplicaTrainer.class",
                    "org/deeplearning4j/nn/multilayer/MultiLayerNetwork.class",
                    "org/nd4j/linalg/cpu/nativecpu/bindings/linux-x86_64/libnd4jcpu.so",
                    // the oneDNN build, which javacpp loads when both are present (OneDnnHelpers)
                    "org/nd4j/linalg/cpu/nativecpu/bindings/linux-x86_64-onednn/libnd4jcpu.so",
                    "org/bytedeco/openblas/linux-x86_64/libjniopenblas_nolapack.so",
                    // javacpp checks the versions of the native libraries it loads here
                    "META-INF/maven/org.bytedeco/openblas/pom.properties",
                    // Keras models as --model: DL4J's Keras import and the HDF5 library it reads .h5 files with
                    "org/deeplearning4j/nn/modelimport/keras/KerasModelImport.class",
                    "org/bytedeco/hdf5/linux-x86_64/libjnihdf5.so",
                    "META-INF/maven/org.bytedeco/hdf5/pom.properties")) {
                assertTrue(names.contains(needed), "the jar lacks " + needed);
            }
            // ND4J finds its CPU backend through the service file; the shade plugin must keep it.
            String backends = new String(app.getInputStream(app.getEntry("META-INF/services/org.nd4j.linalg.factory.Nd4jBackend"))
                    .readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(backends.contains("org.nd4j.linalg.cpu.nativecpu.CpuBackend"), backends);
        }
    }
}
