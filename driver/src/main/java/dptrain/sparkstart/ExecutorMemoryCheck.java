package dptrain.sparkstart;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;

/**
 * Checks, before training starts, that the executors' memory settings leave room for ND4J, which keeps
 * its arrays, its native libraries and OpenBLAS's buffers outside the Java heap. YARN and Kubernetes
 * kill an executor whose process outgrows {@code spark.executor.memory + spark.executor.memoryOverhead}:
 * DL4J users' most common failure on clusters. The arithmetic is explained in src/docs/DEPLOY.md.
 *
 * <p>The estimate of what ND4J needs outside the heap, per executor:
 * {@value #JVM_BASE_MIB} MiB + {@value #JVM_PERCENT_OF_HEAP}% of the heap for the JVM itself (metaspace,
 * code, threads, Netty, garbage-collector structures), {@value #ND4J_NATIVE_MIB} MiB for ND4J's and
 * OpenBLAS's native libraries and buffers, and per concurrent task one model replica:
 * {@value #BYTES_PER_PARAMETER} bytes per parameter (parameters, gradients, up to two optimizer-state
 * arrays, the update and the copies made when a snapshot is loaded and taken) plus
 * {@value #ACTIVATIONS_MIB} MiB for activations. Measured on this project's executors with the book's
 * network (407,050 parameters, 1 GiB heap): about 200 MiB of JVM memory outside the heap and 75 MiB
 * outside the JVM; the estimate gives 336 MiB.
 */
public final class ExecutorMemoryCheck {
    static final long JVM_BASE_MIB = 160;
    static final long JVM_PERCENT_OF_HEAP = 5;
    static final long ND4J_NATIVE_MIB = 96;
    static final long BYTES_PER_PARAMETER = 32;
    static final long ACTIVATIONS_MIB = 16;

    private static final long MIB = 1L << 20;
    private static final Pattern JAVACPP_PROPERTY =
            Pattern.compile("-Dorg\\.bytedeco\\.javacpp\\.(maxbytes|maxphysicalbytes)=(\\S+)", Pattern.CASE_INSENSITIVE);
    private static final Pattern BYTES = Pattern.compile("(\\d+)\\s*([kmgt]?)b?", Pattern.CASE_INSENSITIVE);

    private ExecutorMemoryCheck() {
    }

    /**
     * Warnings, each a sentence or two, about the executor memory settings in {@code conf} for a model of
     * {@code parameterCount} parameters; empty when they look sufficient or when the master runs everything
     * in one local process.
     */
    public static List<String> warnings(SparkConf conf, long parameterCount) {
        String master = conf.get("spark.master", "local[*]");
        if (master.startsWith("local")) {
            return List.of();
        }
        boolean containers = master.equals("yarn") || master.startsWith("k8s://");
        List<String> warnings = new ArrayList<>();
        long heapMib;
        long overheadMib;
        boolean defaultOverhead = !conf.contains("spark.executor.memoryOverhead");
        try {
            heapMib = conf.getSizeAsMb("spark.executor.memory", "1g");
            overheadMib = defaultOverhead
                    ? Math.max(conf.getSizeAsMb("spark.executor.minMemoryOverhead", "384m"),
                            (long) (conf.getDouble("spark.executor.memoryOverheadFactor", 0.10) * heapMib))
                    : conf.getSizeAsMb("spark.executor.memoryOverhead", "384m");
        } catch (NumberFormatException e) {
            return List.of("cannot check the executors' memory for ND4J: " + e.getMessage());
        }
        int replicas = Math.max(1, conf.getInt("spark.executor.cores", 1) / Math.max(1, conf.getInt("spark.task.cpus", 1)));
        long jvmMib = JVM_BASE_MIB + heapMib * JVM_PERCENT_OF_HEAP / 100;
        long replicaMib = ceilDiv(parameterCount * BYTES_PER_PARAMETER, MIB) + ACTIVATIONS_MIB;
        long needMib = jvmMib + ND4J_NATIVE_MIB + replicas * replicaMib;
        long containerMib = heapMib + overheadMib;

        boolean overheadTooSmall = containers && overheadMib < needMib;
        if (overheadTooSmall) {
            warnings.add(String.format(Locale.ROOT, "spark.executor.memoryOverhead is %d MiB%s, but ND4J needs about "
                    + "%d MiB outside the Java heap on each executor: about %d MiB for the JVM, %d MiB for ND4J's native "
                    + "libraries and %d MiB for %s of this %,d-parameter model. YARN and Kubernetes kill executors that "
                    + "use more than spark.executor.memory + spark.executor.memoryOverhead; set --conf "
                    + "spark.executor.memoryOverhead=%dm or more (see src/docs/DEPLOY.md).",
                    overheadMib, defaultOverhead ? " (Spark's default for a " + heapMib + " MiB executor)" : "",
                    needMib, jvmMib, ND4J_NATIVE_MIB, replicas * replicaMib,
                    replicas == 1 ? "one replica" : replicas + " concurrent replicas", parameterCount,
                    roundUp(needMib, 128)));
        }

        String javaOptions = conf.get("spark.executor.extraJavaOptions", "");
        Long maxBytes = javacppBytes(javaOptions, "maxbytes", heapMib);
        Long maxPhysical = javacppBytes(javaOptions, "maxphysicalbytes", heapMib);
        // javacpp's defaults: maxbytes = the heap, maxphysicalbytes = maxbytes + 3 x the heap (0: no limit).
        long effectiveMaxBytes = maxBytes != null ? maxBytes : heapMib * MIB;
        long effectivePhysical = maxPhysical != null ? maxPhysical
                : effectiveMaxBytes > 0 ? effectiveMaxBytes + 3 * heapMib * MIB : 0;
        long physicalMib = effectivePhysical / MIB;
        if (containers && (effectivePhysical <= 0 || physicalMib > containerMib)) {
            warnings.add(String.format(Locale.ROOT, "ND4J's limit on an executor's resident memory, "
                    + "org.bytedeco.javacpp.maxphysicalbytes, is %s, so it does not hold an executor within the %d MiB "
                    + "that YARN and Kubernetes allow it (spark.executor.memory + spark.executor.memoryOverhead): an "
                    + "executor that runs short is killed instead of failing with a clear OutOfMemoryError. Add "
                    + "-Dorg.bytedeco.javacpp.maxphysicalbytes=%dm to spark.executor.extraJavaOptions "
                    + "(deploy/bin/dptrain-submit does).",
                    effectivePhysical <= 0 ? "off" : physicalMib + " MiB" + (maxPhysical == null
                            ? " (javacpp's default: maxbytes + 3 x the heap)" : ""),
                    containerMib, containerMib));
        }
        // With too small an overhead this follows, and raising the overhead is the first step.
        if (!overheadTooSmall && effectivePhysical > 0 && physicalMib < heapMib + needMib) {
            warnings.add(String.format(Locale.ROOT, "org.bytedeco.javacpp.maxphysicalbytes on the executors is %d MiB, "
                    + "less than their %d MiB heap plus the about %d MiB ND4J needs outside it; ND4J will fail with "
                    + "\"Physical memory usage is too high\". Raise it to at least %dm in spark.executor.extraJavaOptions.",
                    physicalMib, heapMib, needMib, roundUp(heapMib + needMib, 128)));
        }
        return warnings;
    }

    /** The value of javacpp's {@code -Dorg.bytedeco.javacpp.NAME=} in {@code javaOptions} in bytes, or null when not set. */
    private static Long javacppBytes(String javaOptions, String name, long heapMib) {
        Long value = null;
        Matcher m = JAVACPP_PROPERTY.matcher(javaOptions);
        while (m.find()) {
            if (m.group(1).equalsIgnoreCase(name)) {
                value = parseBytes(m.group(2), heapMib);
            }
        }
        return value;
    }

    /** Reads a size as javacpp does: bytes with an optional k, m, g or t, or a percentage of the heap. */
    private static Long parseBytes(String text, long heapMib) {
        if (text.endsWith("%")) {
            try {
                return (long) (Double.parseDouble(text.substring(0, text.length() - 1)) / 100 * heapMib * MIB);
            } catch (NumberFormatException e) {
                return null;
            }
        }
        Matcher m = BYTES.matcher(text);
        if (!m.matches()) {
            return null;
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> n << 10;
            case "m" -> n << 20;
            case "g" -> n << 30;
            case "t" -> n << 40;
            default -> n;
        };
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static long roundUp(long mib, long step) {
        return ceilDiv(mib, step) * step;
    }
}
