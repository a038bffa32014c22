package dptrain.cli;

import dptrain.data.SequenceLength;
import dptrain.driver.files.InputFiles;
import dptrain.driver.files.ParameterException;
import dptrain.driver.input.DataFormat;
import dptrain.driver.input.DataInput;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The flags that say how to read a dataset (format, scaling, CSV and Parquet layout, bad records,
 * whether it has labels), declared once for every command that reads data, and the one place that
 * checks them.
 */
final class DataOptions {

    @Option(names = "--format", paramLabel = "FORMAT",
            description = "idx, csv, libsvm or parquet. Default: from the file name (…idx3-ubyte[.gz], .csv, "
                    + ".libsvm/.svm, .parquet).")
    DataFormat format;

    @Option(names = "--scale", paramLabel = "DIVISOR",
            description = "Divide every feature value by this (default: for train and cv 255 for IDX images, 1 otherwise; "
                    + "for evaluate and predict the scaling model.zip records, else the same).")
    Float scaleDivisor;

    @Option(names = "--label-column", paramLabel = "I[,I...]|none", defaultValue = "0",
            description = "CSV: 0-based index of the label column; for a regression model with several outputs, "
                    + "the target columns comma-separated in the outputs' order; none: the data has no labels, as "
                    + "--no-label (default: ${DEFAULT-VALUE}).")
    String labelColumn;

    @Option(names = "--header", description = "CSV: the first line of each file is a header.")
    boolean header;

    @Option(names = "--delimiter", paramLabel = "C", defaultValue = ",", description = "CSV: field delimiter (default: '${DEFAULT-VALUE}').")
    char delimiter;

    @Option(names = "--features-col", paramLabel = "NAME", defaultValue = "features",
            description = "Parquet: the features column, a Spark ML vector or an array of numbers (default: ${DEFAULT-VALUE}).")
    String featuresCol;

    @Option(names = "--label-col", paramLabel = "NAME", defaultValue = "label",
            description = "Parquet: the whole-number label column (default: ${DEFAULT-VALUE}).")
    String labelCol;

    @Option(names = "--no-label",
            description = "predict only: the data has no labels. CSV: every column is a feature; LibSVM: lines of "
                    + "index:value only; Parquet: only the features column is read; IDX: the images file alone, no "
                    + "labels file needed.")
    boolean noLabel;

    @Option(names = "--on-bad-record", paramLabel = "fail|skip", defaultValue = "fail",
            description = "fail: stop before any training or prediction, naming the bad records; skip: leave them out "
                    + "and report their count per file and reason (default: ${DEFAULT-VALUE}).")
    DataInput.BadRecords onBadRecord;

    @Option(names = "--pad-sequences", paramLabel = "pre|post",
            description = "Parquet: pad a sequence shorter than the spec's input_shape timesteps with steps of 0, "
                    + "before it (pre) or after it (post), as Keras's pad_sequences does (default: such a sequence "
                    + "is a bad record).")
    SequenceLength.Side padSequences;

    @Option(names = "--truncate-sequences", paramLabel = "pre|post",
            description = "Parquet: drop the first (pre) or last (post) steps of a sequence longer than the spec's "
                    + "input_shape timesteps, as Keras's pad_sequences does (default: such a sequence is a bad "
                    + "record).")
    SequenceLength.Side truncateSequences;

    /**
     * A dataset read as these flags say; a missing path fails now, before Spark starts.
     *
     * @param defaultScale the multiplier to use when --scale is not given, or null for the format's
     *                     default (1/255 for IDX, else 1)
     * @param cli          the command, for usage errors
     */
    DataInput dataInput(String uri, String flag, Configuration hadoop, Float defaultScale, CommandLine cli) {
        Optional<DataFormat> detected = format != null ? Optional.of(format) : DataFormat.ofFiles(uri, hadoop);
        if (detected.isEmpty()) {
            throw usage(cli, flag + ": cannot tell the format of '" + uri + "' from its file names; add --format idx, "
                    + "csv, libsvm or parquet");
        }
        DataFormat f = detected.get();
        if (noLabel && labelColumnNone()) {
            throw usage(cli, "--no-label and --label-column none say the same; pass one of them");
        }
        if (noLabel) {
            for (String labelFlag : new String[] {"--label-column", "--label-col"}) {
                if (cli.getParseResult() != null && cli.getParseResult().hasMatchedOption(labelFlag)) {
                    throw usage(cli, "--no-label and " + labelFlag + " contradict each other: --no-label says the "
                            + "data has no labels, " + labelFlag + " names where they are; pass one of them");
                }
            }
        }
        for (SequenceLength.Side side : new SequenceLength.Side[] {padSequences, truncateSequences}) {
            if (side == SequenceLength.Side.NONE) {
                throw usage(cli, (side == padSequences ? "--pad-sequences" : "--truncate-sequences")
                        + ": 'none' is not allowed; expected pre or post, or no flag to refuse such sequences");
            }
        }
        if ((padSequences != null || truncateSequences != null) && f != DataFormat.PARQUET) {
            throw usage(cli, (padSequences != null ? "--pad-sequences" : "--truncate-sequences") + " applies to "
                    + "Parquet array columns, but " + flag + " '" + uri + "' is " + f.cliName() + "; expected "
                    + "Parquet data, or no such flag");
        }
        if (scaleDivisor != null && !(scaleDivisor > 0 && Float.isFinite(scaleDivisor))) {
            throw usage(cli, "--scale: " + scaleDivisor + " is not allowed; expected a positive number");
        }
        DataInput.CsvLayout layout;
        DataInput.Columns columns;
        try {
            layout = new DataInput.CsvLayout(labelColumns(cli), header, delimiter);
            columns = new DataInput.Columns(featuresCol, labelCol);
        } catch (ParameterException e) {
            // A negative label column is how some tools say "no label column": name the flag that says it here.
            String hint = e.key().equals("label_column")
                    ? " (for CSV without a label column, predict takes --no-label or --label-column none)" : "";
            throw usage(cli, e.message(ParameterException::flag) + hint);
        }
        float scale = scaleDivisor != null ? 1f / scaleDivisor
                : defaultScale != null ? defaultScale
                : f == DataFormat.IDX ? DataInput.IDX_DEFAULT_SCALE : 1f;
        if (f == DataFormat.IDX && noLabel) {
            InputFiles.idxImages(uri, hadoop);
        } else if (f == DataFormat.IDX) {
            InputFiles.idxPair(uri, hadoop);
        } else {
            InputFiles.dataFiles(uri, hadoop);
        }
        // Executors resolve a relative path against their own working folders: send an absolute one.
        return DataInput.of(InputFiles.qualified(uri, hadoop), f).withFeatureMultiplier(scale).withCsv(layout)
                .withColumns(columns).withBadRecords(onBadRecord)
                .withLabels(noLabels() ? DataInput.Labels.ABSENT : DataInput.Labels.PRESENT)
                .withSequences(new SequenceLength(
                        padSequences == null ? SequenceLength.Side.NONE : padSequences,
                        truncateSequences == null ? SequenceLength.Side.NONE : truncateSequences));
    }

    /** Whether the data has no labels: --no-label, or --label-column none. */
    private boolean noLabels() {
        return noLabel || labelColumnNone();
    }

    private boolean labelColumnNone() {
        return labelColumn.strip().equalsIgnoreCase("none");
    }

    /** --label-column as column indices; "none" (no labels) gives the default, which is then unused. */
    private List<Integer> labelColumns(CommandLine cli) {
        if (labelColumnNone()) {
            return List.of(0);
        }
        List<Integer> columns = new ArrayList<>();
        for (String part : labelColumn.split(",", -1)) {
            try {
                columns.add(Integer.parseInt(part.strip()));
            } catch (NumberFormatException e) {
                throw usage(cli, "--label-column: '" + labelColumn + "' is not allowed; expected a 0-based column "
                        + "index such as 0, several comma-separated for a regression model's targets (11,12), or "
                        + "none for data without labels");
            }
        }
        return columns;
    }

    /**
     * Refuses {@code --no-label} for a command that needs labels: a usage error naming the flag, the
     * command and {@code why} it needs them.
     *
     * @param command the command's name ("train")
     * @param why     what the command does with the labels ("it learns from the labels")
     */
    void requireLabels(String command, String why, CommandLine cli) {
        if (noLabels()) {
            throw usage(cli, (noLabel ? "--no-label" : "--label-column none") + ": 'dptrain " + command
                    + "' needs labelled data (" + why + "); only 'dptrain predict' reads data without labels");
        }
    }

    private static CommandLine.ParameterException usage(CommandLine cli, String message) {
        return new CommandLine.ParameterException(cli, message);
    }
}
