package dptrain.bench;

import dptrain.data.Minibatch;
import dptrain.replica.ReplicaTrainer;
import dptrain.replica.TrainingState;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import dptrain.timing.Seconds;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One replica alone in its own process: dptrain's replica engine trains on every other minibatch of
 * the data (a 2-worker partition's share) for some epochs, with no Spark and no averaging, and
 * prints each epoch's seconds. {@link #twoAtOnce} runs two such processes concurrently: the most
 * two replicas can do on this machine, the ceiling for dptrain with 2 workers.
 *
 * <p>Usage: {@code SoloReplica SPEC IMAGES PARTITION EPOCHS BATCH}; prints {@code epoch-seconds S} per epoch
 * and {@code examples-per-epoch N}. {@code BATCH} is the replica's minibatch: the bench runs the pair
 * at 128 (a 2-worker run's minibatch with the batch counted per worker) and at 64 (with the default
 * batch of 128 counted for both workers together), so each dptrain row meets the same work.
 */
public final class SoloReplica {
    private static final String SECONDS = "epoch-seconds ";
    private static final String EXAMPLES = "examples-per-epoch ";

    private SoloReplica() {
    }

    public static void main(String[] args) throws IOException {
        ModelSpec spec = ModelFile.readSpec(Path.of(args[0]));
        List<Minibatch> all = EngineSpeed.minibatches(spec, args[1], Integer.parseInt(args[4]));
        int partition = Integer.parseInt(args[2]);
        int epochs = Integer.parseInt(args[3]);
        List<Minibatch> mine = new ArrayList<>();
        long examples = 0;
        for (int b = partition; b < all.size(); b += 2) {
            mine.add(all.get(b));
            examples += all.get(b).rows();
        }
        ReplicaTrainer replica = new ReplicaTrainer(spec);
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork net =
                new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(spec.configuration());
        net.init();
        TrainingState start = TrainingState.of(net);
        System.out.println(EXAMPLES + examples);
        for (int e = 0; e < epochs; e++) {
            long began = System.nanoTime();
            if (e == 0) {
                replica.train(start, mine.iterator(), mine.size(), e);
            } else {
                replica.trainHeldState(mine.iterator(), mine.size(), e);
            }
            System.out.println(SECONDS + Seconds.since(began));
        }
    }

    /** Examples per second of two solo replicas run at once: both partitions' examples over the slower one's epoch. */
    record Pair(double secondsPerEpoch, long examplesPerEpoch) {
    }

    /**
     * Runs partitions 0 and 1 of minibatches of {@code batch} examples as two concurrent JVMs with
     * this JVM's class path and options, and returns the median over epochs 2..N of the slower
     * process's epoch seconds.
     */
    static Pair twoAtOnce(Path spec, String images, int epochs, int batch) throws IOException, InterruptedException {
        List<Process> processes = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString()));
            command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                    .filter(a -> !a.startsWith("-agentlib") && !a.startsWith("-javaagent")).toList());
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), SoloReplica.class.getName(),
                    spec.toString(), images, String.valueOf(p), String.valueOf(epochs), String.valueOf(batch)));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().put("OMP_NUM_THREADS", "1");
            processes.add(builder.start());
        }
        double[][] seconds = new double[2][];
        long examples = 0;
        for (int p = 0; p < 2; p++) {
            List<Double> epochSeconds = new ArrayList<>();
            List<String> output = new ArrayList<>();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(processes.get(p).getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null;) {
                    output.add(line);
                    if (line.startsWith(SECONDS)) {
                        epochSeconds.add(Double.parseDouble(line.substring(SECONDS.length())));
                    } else if (line.startsWith(EXAMPLES)) {
                        examples += Long.parseLong(line.substring(EXAMPLES.length()));
                    }
                }
            }
            if (processes.get(p).waitFor() != 0 || epochSeconds.size() != epochs) {
                throw new IllegalStateException("solo replica " + p + " failed: " + String.join("\n", output));
            }
            seconds[p] = epochSeconds.stream().mapToDouble(Double::doubleValue).toArray();
        }
        int from = epochs > 1 ? 1 : 0;
        double[] slower = new double[epochs - from];
        for (int e = from; e < epochs; e++) {
            slower[e - from] = Math.max(seconds[0][e], seconds[1][e]);
        }
        Pair pair = new Pair(EngineSpeed.median(slower), examples);
        System.out.printf(Locale.ROOT, "two solo replicas at once, minibatches of %d: %.2f s per epoch (epochs %s "
                + "and %s)%n", batch, pair.secondsPerEpoch(), Arrays.toString(seconds[0]), Arrays.toString(seconds[1]));
        return pair;
    }
}
