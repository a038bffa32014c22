package dptrain.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingConfigBuilder;
import dptrain.driver.TrainingFailedException;
import dptrain.driver.TrainingProgress;
import dptrain.driver.TrainingResult;
import dptrain.driver.input.DataInput;
import dptrain.driver.pipeline.BatchScope;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.driver.rounds.EpochRecord;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.OptimizerStateScope;
import dptrain.sparkstart.SparkDefaults;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Statistical efficiency of parameter averaging, measured without looking at any test set while choosing.
 *
 * <p>Protocol (PARITY.md):
 * <ol>
 *   <li><b>Selection</b>, on the selection dataset's training files only: every candidate averaging (rounds of K
 *       minibatches and a Nesterov block momentum, or plain) trains at every worker count on 90% of the training
 *       rows and is scored on the other 10%, a stratified, seeded validation split. One worker is the reference.
 *       The choice follows the rule fixed before its results (session 8, {@link #choose}): eligible when the
 *       worst validation gap to one worker over the worker counts is at most half a point; among the eligible
 *       the fastest median epoch at 2 workers; if none is eligible, the smallest worst gap.</li>
 *   <li><b>Test, once</b>: the chosen candidate and one worker train on all training rows of the selection
 *       dataset and of every held-out dataset (which took no part in the choice), and each final model is
 *       evaluated on its test set once.</li>
 * </ol>
 * All runs share one local Spark context. Writes parity.json and parity.md.
 *
 * <p>Usage: {@code Parity SPEC OUT_DIR EPOCHS WORKERS,... CANDIDATES SELECTION_DIR [HELD_OUT_DIR,...|-]
 * [--selection-only]} where a candidate is {@code K:M[:SCOPE[:DELTAS[:OPTIMIZER]]]} (every K minibatches, or
 * {@code epoch}; block momentum M, 0 for plain averaging; what the batch size counts, {@code worker} by default,
 * {@code global} or {@code auto}; the precision of the rounds' parameter deltas, {@code float32} by default,
 * {@code float16} or {@code bfloat16}; where the optimizer state lives, {@code averaged} by default or
 * {@code local}), and a data folder holds an IDX pair {@code train-*} and {@code t10k-*}. With
 * {@code --selection-only} no test set is read: the choice is printed and the test phase left to a later run
 * (for candidates the rule is not expected to choose, so that nothing reads a test set for nothing).
 */
public final class Parity {
    private static final int BATCH = 128;
    private static final double VALIDATION_FRACTION = 0.1;
    private static final long SEED = 12345;

    private Parity() {
    }

    /**
     * A setting under test: rounds of {@code frequency} minibatches (or an epoch), block momentum 0 for plain, and
     * what the batch size counts ({@link BatchScope}).
     */
    record Candidate(String frequency, double momentum, BatchScope scope, DeltaPrecision deltas,
            OptimizerStateScope optimizerState) {
        static Candidate parse(String text) {
            String[] parts = text.split(":");
            if (parts.length < 2 || parts.length > 5) {
                throw new IllegalArgumentException("candidate '" + text + "': expected "
                        + "K:M[:SCOPE[:DELTAS[:OPTIMIZER]]], e.g. 16:0.4, epoch:0, 16:0.4:global, "
                        + "16:0.4:global:float16 or 16:0.4:global:float32:local");
            }
            return new Candidate(parts[0].trim(), Double.parseDouble(parts[1].trim()),
                    parts.length >= 3 ? BatchScope.parse(parts[2]) : BatchScope.WORKER,
                    parts.length >= 4 ? TrainingConfigBuilder.parseDeltaPrecision(parts[3]) : DeltaPrecision.FLOAT32,
                    parts.length == 5 ? TrainingConfigBuilder.parseOptimizerState(parts[4])
                            : OptimizerStateScope.AVERAGED);
        }

        String label() {
            String every = frequency.equals("epoch") ? "every epoch" : "every " + frequency;
            String averaging = momentum == 0 ? every + ", plain"
                    : String.format(Locale.ROOT, "%s, block momentum %.2f (Nesterov)", every, momentum);
            String scoped = scope == BatchScope.WORKER ? averaging : averaging + ", batch scope " + scope;
            String rounded = deltas.rounds() ? scoped + ", " + deltas + " deltas" : scoped;
            return optimizerState == OptimizerStateScope.LOCAL ? rounded + ", local optimizer state" : rounded;
        }

        /** Settings away from plain per-worker batches, for the rule's tie-break (fewer knobs wins). */
        int knobs() {
            return 1 + (momentum == 0 ? 0 : 1) + (scope == BatchScope.WORKER ? 0 : 1) + (deltas.rounds() ? 1 : 0)
                    + (optimizerState == OptimizerStateScope.LOCAL ? 1 : 0);
        }

        BlockMomentum blockMomentum() {
            return momentum == 0 ? BlockMomentum.NONE : new BlockMomentum(momentum, 1.0, true);
        }
    }

    /** One run: where, which setting, and what it reached (NaN when it diverged). */
    record Run(String phase, String dataset, int workers, String candidate, double finalAccuracy,
            List<Double> accuracyPerEpoch, double trainingSeconds, List<Double> epochSeconds) {
        /** The median wall time of an epoch, NaN for a run that recorded none. */
        double medianEpochSeconds() {
            if (epochSeconds.isEmpty()) {
                return Double.NaN;
            }
            double[] sorted = epochSeconds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            int mid = sorted.length / 2;
            return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }
    }

    public static void main(String[] args) throws IOException {
        boolean selectionOnly = args.length > 0 && args[args.length - 1].equals("--selection-only");
        if (selectionOnly) {
            args = java.util.Arrays.copyOf(args, args.length - 1);
        }
        if (args.length != 6 && args.length != 7) {
            System.err.println("usage: Parity SPEC OUT_DIR EPOCHS WORKERS,... CANDIDATES SELECTION_DIR [HELD_OUT,...] "
                    + "[--selection-only]");
            System.exit(2);
        }
        ModelSpec spec = ModelFile.readSpec(Path.of(args[0]));
        Path out = Path.of(args[1]);
        int epochs = Integer.parseInt(args[2]);
        List<Integer> workerCounts = new ArrayList<>();
        for (String w : args[3].split(",")) {
            workerCounts.add(Integer.parseInt(w.trim()));
        }
        List<Candidate> candidates = new ArrayList<>();
        for (String c : args[4].split(",")) {
            candidates.add(Candidate.parse(c));
        }
        Path selection = Path.of(args[5]);
        List<Path> heldOut = new ArrayList<>();
        if (args.length == 7 && !args[6].equals("-")) {
            for (String d : args[6].split(",")) {
                heldOut.add(Path.of(d.trim()));
            }
        }
        Files.createDirectories(out);
        List<Run> runs = new ArrayList<>();
        SparkConf conf = SparkDefaults.apply(new SparkConf().setMaster("local[2]").setAppName("dptrain-parity")
                .set("spark.ui.enabled", "false"));
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            jsc.setLogLevel("WARN");
            String name = selection.getFileName().toString();
            Candidate chosen = candidates.get(0);
            if (candidates.size() > 1 || selectionOnly) {
                // Phase 1: choose on validation rows carved from the training files.
                Run reference = run(jsc, spec, selection, name, "selection", epochs, 1, null, runs, out, candidates);
                for (int workers : workerCounts) {
                    if (workers == 1) {
                        continue;
                    }
                    for (Candidate candidate : candidates) {
                        run(jsc, spec, selection, name, "selection", epochs, workers, candidate, runs, out,
                                candidates);
                    }
                }
                chosen = choose(runs, reference, candidates);
                System.out.println("Chosen on validation data: " + chosen.label());
            } else {
                System.out.println("One candidate, nothing to choose: " + chosen.label());
            }
            if (selectionOnly) {
                System.out.println("--selection-only: no test set read");
                write(out, runs, epochs, candidates, chosen, name, List.of(), true);
                System.out.print(Files.readString(out.resolve("parity.md")));
                return;
            }
            // Phase 2: the chosen setting and one worker on all training rows, each test set read once.
            List<Path> finals = new ArrayList<>();
            finals.add(selection);
            finals.addAll(heldOut);
            for (Path data : finals) {
                for (int workers : workerCounts) {
                    run(jsc, spec, data, data.getFileName().toString(), "test", epochs, workers,
                            workers == 1 ? null : chosen, runs, out, candidates);
                }
            }
            write(out, runs, epochs, candidates, chosen, name, heldOut, false);
        }
        System.out.println();
        System.out.print(Files.readString(out.resolve("parity.md")));
        System.out.println("Wrote " + out.resolve("parity.json") + " and " + out.resolve("parity.md"));
    }

    /** Eligible: the worst validation gap to one worker over 2-16 workers is at most this (half a point). */
    static final double ELIGIBLE_GAP = -0.005;

    /** Median epoch times within this fraction of the fastest tie, and the tie goes to fewer knobs. */
    static final double TIME_TIE = 0.05;

    /**
     * The rule fixed in PARITY.md before its results (session 8): among the candidates whose worst validation gap
     * to one worker is at most half a point, the one with the smallest median epoch time at 2 workers (ties within
     * 5% go to fewer knobs); if none is eligible, the smallest worst gap (ties: the higher mean accuracy). A
     * candidate that diverged anywhere is never eligible and loses on gap.
     */
    static Candidate choose(List<Run> runs, Run reference, List<Candidate> candidates) {
        List<Candidate> eligible = candidates.stream()
                .filter(c -> worstGap(runs, reference, c) >= ELIGIBLE_GAP - 1e-9).toList();
        if (eligible.isEmpty()) {
            return candidates.stream().max(Comparator
                    .comparingDouble((Candidate c) -> worstGap(runs, reference, c))
                    .thenComparingDouble(c -> meanAccuracy(runs, c))).orElseThrow();
        }
        double fastest = eligible.stream().mapToDouble(c -> epochSecondsAtTwo(runs, c)).min().orElseThrow();
        return eligible.stream().filter(c -> epochSecondsAtTwo(runs, c) <= fastest * (1 + TIME_TIE))
                .min(Comparator.comparingInt(Candidate::knobs)
                        .thenComparingDouble(c -> epochSecondsAtTwo(runs, c))).orElseThrow();
    }

    /** The median epoch time of the candidate's 2-worker selection run (infinite when there is none). */
    static double epochSecondsAtTwo(List<Run> runs, Candidate candidate) {
        return selectionRuns(runs, candidate).stream().filter(r -> r.workers() == 2).findFirst()
                .map(Run::medianEpochSeconds).filter(t -> !Double.isNaN(t)).orElse(Double.POSITIVE_INFINITY);
    }

    static double worstGap(List<Run> runs, Run reference, Candidate candidate) {
        double worst = Double.POSITIVE_INFINITY;
        for (Run r : selectionRuns(runs, candidate)) {
            double gap = Double.isNaN(r.finalAccuracy()) ? Double.NEGATIVE_INFINITY
                    : r.finalAccuracy() - reference.finalAccuracy();
            worst = Math.min(worst, gap);
        }
        return worst;
    }

    private static double meanAccuracy(List<Run> runs, Candidate candidate) {
        return selectionRuns(runs, candidate).stream().mapToDouble(Run::finalAccuracy).average().orElse(Double.NaN);
    }

    private static List<Run> selectionRuns(List<Run> runs, Candidate candidate) {
        return runs.stream().filter(r -> r.phase().equals("selection") && r.candidate().equals(candidate.label()))
                .toList();
    }

    /**
     * One training run. In the selection phase the accuracy is the validation split's, after every epoch; in the
     * test phase it is the test set's, once, after the last epoch.
     */
    private static Run run(JavaSparkContext jsc, ModelSpec spec, Path data, String dataset, String phase,
            int epochs, int workers, Candidate candidate, List<Run> runs, Path out, List<Candidate> candidates)
            throws IOException {
        DataInput train = DataInput.idx(idx(data, "train"));
        TrainingConfigBuilder builder = TrainingConfig.builder(spec, train).epochs(epochs).batchSize(BATCH)
                .workers(workers).seed(SEED)
                .averaging(candidate == null ? AveragingSchedule.EVERY_EPOCH
                        : AveragingSchedule.parse(candidate.frequency()))
                .blockMomentum(candidate == null ? BlockMomentum.NONE : candidate.blockMomentum())
                .batchScope(candidate == null ? BatchScope.WORKER : candidate.scope())
                .deltaPrecision(candidate == null ? DeltaPrecision.FLOAT32 : candidate.deltas())
                .optimizerState(candidate == null ? OptimizerStateScope.AVERAGED : candidate.optimizerState());
        if (phase.equals("selection")) {
            builder.validationSplit(VALIDATION_FRACTION).stratify(true);
        } else {
            builder.test(DataInput.idx(idx(data, "t10k")));
        }
        String label = candidate == null ? "one worker" : candidate.label();
        double[] seconds = {0};
        List<Double> epochSeconds = new ArrayList<>();
        Run result;
        try {
            TrainingResult trained = new DistributedTrainer(jsc).train(builder.build(), new TrainingProgress() {
                @Override
                public void epochEnded(EpochRecord r) {
                    seconds[0] += r.seconds();
                    epochSeconds.add(r.seconds());
                    System.out.printf(Locale.ROOT, "%s %s, %d workers, %s: %s%n", phase, dataset, workers, label,
                            r.progressLine(epochs));
                }
            });
            List<Double> perEpoch = new ArrayList<>();
            trained.epochs().forEach(e -> perEpoch.add(e.valAccuracy()));
            double accuracy = phase.equals("selection") ? perEpoch.get(perEpoch.size() - 1)
                    : trained.test().orElseThrow().stats().accuracy();
            result = new Run(phase, dataset, workers, label, accuracy, phase.equals("selection") ? perEpoch
                    : List.of(), seconds[0], epochSeconds);
        } catch (TrainingFailedException e) {
            System.out.printf(Locale.ROOT, "%s %s, %d workers, %s: %s%n", phase, dataset, workers, label,
                    e.getMessage());
            result = new Run(phase, dataset, workers, label, Double.NaN, List.of(), seconds[0], epochSeconds);
        }
        runs.add(result);
        write(out, runs, epochs, candidates, null, null, List.of(), false);
        return result;
    }

    private static String idx(Path folder, String set) {
        Path gz = folder.resolve(set + "-images-idx3-ubyte.gz");
        return (Files.exists(gz) ? gz : folder.resolve(set + "-images-idx3-ubyte")).toString();
    }

    private static void write(Path out, List<Run> runs, int epochs, List<Candidate> candidates, Candidate chosen,
            String selection, List<Path> heldOut, boolean selectionOnly) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", Instant.now().toString());
        json.put("epochs", epochs);
        json.put("batch_size", BATCH);
        json.put("seed", SEED);
        json.put("validation", "a stratified, seeded " + VALIDATION_FRACTION + " of the selection dataset's "
                + "training rows; no test set is read while choosing");
        json.put("cores", Runtime.getRuntime().availableProcessors());
        json.put("candidates", candidates.stream().map(Candidate::label).toList());
        json.put("chosen", chosen == null ? null : chosen.label());
        json.put("test_sets_read", !selectionOnly);
        json.put("runs", runs);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("parity.json").toFile(),
                json);
        if (chosen == null) {
            return;
        }
        StringBuilder md = new StringBuilder();
        List<Integer> workers = runs.stream().map(Run::workers).distinct().sorted().toList();
        if (candidates.size() > 1 || selectionOnly) {
            selectionTable(md, runs, epochs, candidates, chosen, selection, workers);
        }
        if (!selectionOnly) {
            testTable(md, runs, chosen, heldOut, workers);
        }
        Files.writeString(out.resolve("parity.md"), md);
    }

    private static void selectionTable(StringBuilder md, List<Run> runs, int epochs, List<Candidate> candidates,
            Candidate chosen, String selection, List<Integer> workers) {
        md.append(String.format(Locale.ROOT, "Selection on %s: validation accuracy after %d epochs (a stratified "
                + "10%% of the training rows; one worker %s)%n%n", selection, epochs,
                format(runs.stream().filter(r -> r.phase().equals("selection") && r.workers() == 1).findFirst()
                        .map(Run::finalAccuracy).orElse(Double.NaN))));
        md.append("| Averaging |");
        workers.stream().filter(w -> w > 1).forEach(w -> md.append(" ").append(w).append(" workers |"));
        md.append(" worst gap to one worker | median s/epoch, 2 workers |\n|---|");
        md.append("---|".repeat((int) workers.stream().filter(w -> w > 1).count() + 2)).append('\n');
        Run reference = runs.stream().filter(r -> r.phase().equals("selection") && r.workers() == 1).findFirst()
                .orElseThrow();
        for (Candidate c : candidates) {
            md.append("| ").append(c.equals(chosen) ? "**" + c.label() + "**" : c.label()).append(" |");
            for (int w : workers) {
                if (w == 1) {
                    continue;
                }
                runs.stream().filter(r -> r.phase().equals("selection") && r.workers() == w
                        && r.candidate().equals(c.label())).findFirst()
                        .ifPresentOrElse(r -> md.append(" ").append(format(r.finalAccuracy())).append(" |"),
                                () -> md.append(" |"));
            }
            md.append(String.format(Locale.ROOT, " %+.4f | %.2f |%n", worstGap(runs, reference, c),
                    epochSecondsAtTwo(runs, c)));
        }
        md.append('\n');
    }

    private static void testTable(StringBuilder md, List<Run> runs, Candidate chosen, List<Path> heldOut,
            List<Integer> workers) {
        md.append(String.format(Locale.ROOT, "Test accuracy, each test set read once, for one worker and for "
                + "the setting under test (%s)%n%n| Dataset |", chosen.label()));
        workers.forEach(w -> md.append(" ").append(w).append(w == 1 ? " worker |" : " workers |"));
        md.append(" worst gap |\n|---|").append("---|".repeat(workers.size() + 1)).append('\n');
        List<String> datasets = runs.stream().filter(r -> r.phase().equals("test")).map(Run::dataset).distinct()
                .toList();
        for (String dataset : datasets) {
            boolean held = heldOut.stream().anyMatch(p -> p.getFileName().toString().equals(dataset));
            md.append("| ").append(dataset).append(held ? " (held out: no part in the choice)" : " (selection)")
                    .append(" |");
            double one = Double.NaN;
            double worst = Double.POSITIVE_INFINITY;
            for (int w : workers) {
                Run r = runs.stream().filter(x -> x.phase().equals("test") && x.dataset().equals(dataset)
                        && x.workers() == w).findFirst().orElse(null);
                if (r == null) {
                    md.append(" |");
                    continue;
                }
                md.append(" ").append(format(r.finalAccuracy())).append(" |");
                if (w == 1) {
                    one = r.finalAccuracy();
                } else {
                    worst = Math.min(worst, Double.isNaN(r.finalAccuracy()) ? Double.NEGATIVE_INFINITY
                            : r.finalAccuracy() - one);
                }
            }
            md.append(String.format(Locale.ROOT, " %+.4f |%n", worst));
        }
    }

    private static String format(double accuracy) {
        return Double.isNaN(accuracy) ? "diverged" : String.format(Locale.ROOT, "%.4f", accuracy);
    }
}
