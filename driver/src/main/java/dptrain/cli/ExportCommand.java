package dptrain.cli;

import dptrain.driver.export.OnnxExport;
import dptrain.driver.files.AtomicFiles;
import dptrain.driver.files.InputException;
import dptrain.driver.files.InputFiles;
import dptrain.driver.inference.SavedModel;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dptrain export}: a trained model.zip as a file another runtime loads (ONNX). */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Writes the trained --model as an ONNX graph that takes raw features (float [N, inputs]) and "
                + "applies the model's own feature scaling and normalizer; a classifier gives probabilities and "
                + "predicted_class, a regression prediction. Spark is not started.")
final class ExportCommand implements Callable<Integer> {

    /** The formats export writes. */
    enum Format { ONNX }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec command;

    @Option(names = "--model", required = true, paramLabel = "MODEL_ZIP",
            description = "A trained model: the model.zip 'dptrain train' writes.")
    String model;

    @Option(names = "--format", paramLabel = "onnx", defaultValue = "onnx",
            description = "The file format: onnx (opset " + OnnxExport.OPSET + "; default: ${DEFAULT-VALUE}).")
    Format format;

    @Option(names = "--output", required = true, paramLabel = "FILE",
            description = "The file to write, on any Hadoop filesystem, e.g. model.onnx.")
    String output;

    @Option(names = "--overwrite", description = "Replace a file --output already names.")
    boolean overwrite;

    @Option(names = "--scale", paramLabel = "DIVISOR",
            description = "Divide the raw features by this inside the graph (default: the scaling model.zip records, "
                    + "as train applied it).")
    Float scaleDivisor;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "Extra Spark configuration, repeatable: the "
            + "spark.hadoop.* settings that reach --model's and --output's filesystems.")
    Map<String, String> sparkConf = new LinkedHashMap<>();

    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() {
        if (scaleDivisor != null && !(scaleDivisor > 0 && Float.isFinite(scaleDivisor))) {
            throw new CommandLine.ParameterException(command.commandLine(),
                    "--scale: " + scaleDivisor + " is not allowed; expected a positive number");
        }
        SparkConf conf = new SparkConf();
        sparkConf.forEach(conf::set);
        Configuration hadoop = SparkOptions.hadoopConfiguration(conf);
        Path target = new Path(InputFiles.qualified(output, hadoop));
        AtomicFiles files = new AtomicFiles(hadoop);
        if (!overwrite && files.exists(target)) {
            throw new InputException("--output " + output + " already exists; pass --overwrite to replace it, or "
                    + "choose another path");
        }
        SavedModel saved = SavedModel.load(model, hadoop);
        float scale = featureScale(saved);
        OnnxExport export = OnnxExport.of(saved, scale);
        files.checkWritable(target.getParent(), "--output's folder");
        export.write(target, hadoop);
        PrintWriter out = command.commandLine().getOut();
        out.printf("Wrote %s (ONNX opset %d) from %s: %s -> %s%n", output, OnnxExport.OPSET, model,
                OnnxExport.INPUT, String.join(", ", export.outputs()));
        export.steps().forEach(step -> out.println("  " + step));
        out.flush();
        return ExitCodes.OK;
    }

    /** The multiplier the graph applies: 1/--scale, else what the model records; a model without a record needs --scale. */
    private float featureScale(SavedModel saved) {
        if (scaleDivisor != null) {
            return 1f / scaleDivisor;
        }
        if (saved.featureScale() == null) {
            throw new InputException(saved.uri() + ": does not record the feature scaling it was trained with ("
                    + SavedModel.PREPROCESSING_ENTRY + " is missing: an older dptrain or another tool wrote it); pass "
                    + "--scale DIVISOR as given to train (255 for IDX images by default, 1 for unscaled features)");
        }
        return saved.featureScale();
    }
}
