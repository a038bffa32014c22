package dptrain.bench;

import dptrain.data.IdxReader;
import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingProgress;
import dptrain.driver.input.DataInput;
import dptrain.driver.pipeline.BatchScope;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.driver.rounds.RoundRecord;
import dptrain.spec.ModelSpec;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;

/** Mean cost of one averaging round, 2 workers, one minibatch of 32 each, for a given parameter count. */
record RoundCost(long parameters, String transport, double totalMs, double broadcastMs, double schedulingMs,
        double computeMs, double combineMs, double updateMs) {
    /**
     * One epoch of 4 rounds on 256 examples, averaging every minibatch, for a 784-hidden-10 network,
     * with rounds travelling as {@code roundExchange} says.
     */
    static RoundCost measure(JavaSparkContext jsc, Path slice, int hidden, Transport roundExchange) {
        ModelSpec spec = ModelSpec.parse("input_shape: [784]\nlayers:\n  - dense: {units: " + hidden
                + ", activation: relu}\n  - dense: {units: 10, activation: softmax}\noptimizer: rmsprop\n"
                + "loss: categorical_crossentropy\nseed: 1\n", "round-cost-" + hidden);
        TrainingConfig config = TrainingConfig.builder(spec, DataInput.idx(slice.toString())).epochs(1).batchSize(32)
                .workers(2).averaging(AveragingSchedule.everyMinibatches(1)).seed(1).blockMomentum(BlockMomentum.NONE)
                .batchScope(BatchScope.WORKER).build();
        List<RoundRecord> rounds = new ArrayList<>();
        roundExchange.run(jsc, () -> new DistributedTrainer(jsc).train(config, new TrainingProgress() {
            @Override
            public void roundEnded(RoundRecord r) {
                rounds.add(r);
            }
        }));
        // The first round also builds the replicas; the others are the steady state.
        List<RoundRecord> steady = rounds.subList(1, rounds.size());
        Benchmark.Breakdown b = Benchmark.Breakdown.of(steady);
        double total = Units.MILLIS_PER_SECOND
                * steady.stream().mapToDouble(RoundRecord::seconds).average().orElse(Double.NaN);
        RoundCost cost = new RoundCost(spec.parameterCount(), roundExchange.label, total, b.broadcastMs(), b.schedulingMs(),
                b.computeMs(), b.combineMs(), b.updateMs());
        System.out.printf(Locale.ROOT, "round cost, %,d parameters, %s: %.0f ms per round (compute %.0f ms)%n",
                cost.parameters(), cost.transport(), cost.totalMs(), cost.computeMs());
        return cost;
    }

    /** The first {@code count} training images and labels as plain IDX files; returns the images file. */
    static Path writeSlice(String images, Path folder, int count) throws IOException {
        Files.createDirectories(folder);
        String labels = images.replace("images-idx3", "labels-idx1");
        Path imagesOut = folder.resolve("slice-images-idx3-ubyte");
        Path labelsOut = folder.resolve("slice-labels-idx1-ubyte");
        try (InputStream i = IdxReader.maybeGunzip(Files.newInputStream(Path.of(images)));
                InputStream l = IdxReader.maybeGunzip(Files.newInputStream(Path.of(labels)));
                OutputStream io = Files.newOutputStream(imagesOut); OutputStream lo = Files.newOutputStream(labelsOut)) {
            DataOutputStream imageHeader = new DataOutputStream(io);
            imageHeader.writeInt(0x803);
            imageHeader.writeInt(count);
            imageHeader.writeInt(28);
            imageHeader.writeInt(28);
            DataOutputStream labelHeader = new DataOutputStream(lo);
            labelHeader.writeInt(0x801);
            labelHeader.writeInt(count);
            io.write(Arrays.copyOfRange(i.readNBytes(16 + count * 784), 16, 16 + count * 784));
            lo.write(Arrays.copyOfRange(l.readNBytes(8 + count), 8, 8 + count));
        }
        return imagesOut;
    }
}
