package dptrain.cli;

import static dptrain.cli.ErrorCases.bad;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.files.OutputLock;
import dptrain.testing.FashionMnist;
import dptrain.testing.PermissionedHdfs;
import dptrain.testing.Tables;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad specs, data files and flags: each gives one sentence naming the input (file, line or record,
 * column, flag or key, value) and what was expected, a distinct non-zero exit code, no stack trace,
 * and leaves a model an earlier run wrote in place, even with --overwrite.
 */
class TrainCommandErrorsTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void data() throws IOException {
        FashionMnist.writeSlice(dir.resolve("good"), "train", "train", 0, 200);
        Path idx = dir.resolve("good/train-images-idx3-ubyte");
        byte[] images = Files.readAllBytes(idx);
        byte[] labels = Files.readAllBytes(dir.resolve("good/train-labels-idx1-ubyte"));

        write("bad-units.yaml", "input_shape: [784]\nlayers:\n  - dense: {units: -5, activation: relu}\n"
                + "  - dense: {units: 10, activation: softmax}\nloss: categorical_crossentropy\n");
        write("bad-activation.yaml", "input_shape: [784]\nlayers:\n  - dense: {units: 10, activation: sofmax}\n"
                + "loss: categorical_crossentropy\n");
        write("bad-optimizer.yaml", "input_shape: [784]\nlayers:\n  - dense: {units: 10, activation: softmax}\n"
                + "optimizer: adamw\nloss: categorical_crossentropy\n");
        write("bad-loss.yaml", "input_shape: [784]\nlayers:\n  - dense: {units: 10, activation: softmax}\n"
                + "loss: hinge_squared\n");
        write("bad-layer.yaml", "input_shape: [784]\nlayers:\n  - conv9d: {filters: 3}\n"
                + "  - dense: {units: 10, activation: softmax}\nloss: categorical_crossentropy\n");
        write("bad-key.yaml", "input_shape: [784]\nlayerz: []\n");
        write("not-yaml.yaml", "input_shape: [784\nlayers: {\n");
        String dropout = "input_shape: [784]\nlayers:\n  - dense: {units: 32, activation: relu}\n"
                + "  - dropout: {rate: 0.2}\n  - dense: {units: 10, activation: softmax}\n"
                + "loss: categorical_crossentropy\n";
        write("dropout.yaml", dropout);
        write("dropout-dense-engine.yaml", dropout + "engine: dense\n");
        write("small-input.yaml", "input_shape: [100]\nlayers:\n  - dense: {units: 10, activation: softmax}\n"
                + "loss: categorical_crossentropy\n");
        write("five-classes.yaml", "input_shape: [784]\nlayers:\n  - dense: {units: 5, activation: softmax}\n"
                + "loss: categorical_crossentropy\n");
        write("three-inputs.yaml", "input_shape: [3]\nlayers:\n  - dense: {units: 4, activation: softmax}\n"
                + "loss: categorical_crossentropy\n");
        Files.write(dir.resolve("saved-model.yaml"), new byte[] {'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0});
        Files.createDirectories(dir.resolve("a-folder.yaml"));

        // IDX: corrupt, truncated, empty, gzip broken in the middle.
        write("text-images-idx3-ubyte", "this is not an IDX file at all");
        write("text-labels-idx1-ubyte", "neither is this");
        Files.createDirectories(dir.resolve("truncated"));
        Files.write(dir.resolve("truncated/t-images-idx3-ubyte"), Arrays.copyOf(images, images.length - 1000));
        Files.write(dir.resolve("truncated/t-labels-idx1-ubyte"), labels);
        Files.createDirectories(dir.resolve("empty-idx"));
        Files.write(dir.resolve("empty-idx/e-images-idx3-ubyte"), new byte[0]);
        Files.write(dir.resolve("empty-idx/e-labels-idx1-ubyte"), labels);
        Files.createDirectories(dir.resolve("mismatch"));
        Files.write(dir.resolve("mismatch/m-images-idx3-ubyte"), images);
        FashionMnist.writeIdx(dir.resolve("mismatch/m-labels-idx1-ubyte"), 0x801, new int[] {150},
                Arrays.copyOfRange(labels, 8, 158));
        Files.createDirectories(dir.resolve("cut-labels"));
        Files.write(dir.resolve("cut-labels/c-images-idx3-ubyte"), images);
        Files.write(dir.resolve("cut-labels/c-labels-idx1-ubyte"), Arrays.copyOf(labels, labels.length - 50));
        Files.createDirectories(dir.resolve("gz"));
        byte[] gzip = Files.readAllBytes(FashionMnist.trainImages());
        Files.write(dir.resolve("gz/cut-images-idx3-ubyte.gz"), Arrays.copyOf(gzip, 20_000));
        Files.copy(FashionMnist.folder().resolve("train-labels-idx1-ubyte.gz"), dir.resolve("gz/cut-labels-idx1-ubyte.gz"));
        byte[] corrupt = Arrays.copyOf(gzip, gzip.length);
        for (int i = 5_000; i < 5_400; i++) {
            corrupt[i] = (byte) (corrupt[i] ^ 0x5A);
        }
        Files.createDirectories(dir.resolve("gz2"));
        Files.write(dir.resolve("gz2/bad-images-idx3-ubyte.gz"), corrupt);
        Files.copy(FashionMnist.folder().resolve("train-labels-idx1-ubyte.gz"), dir.resolve("gz2/bad-labels-idx1-ubyte.gz"));

        // CSV and LibSVM.
        write("not-a-number.csv", "1,0.5,0.25,0.125\n2,0.5,abc,1\n");
        write("nan.csv", "1,0.5,0.25,0.125\n2,0.5,NaN,1\n");
        write("regression.yaml", "input_shape: [3]\nlayers:\n  - dense: {units: 1}\nloss: mse\nmetrics: [mae]\n");
        write("two-targets.yaml", "input_shape: [784]\nlayers:\n  - dense: {units: 2}\nloss: mae\n");
        write("houses.csv", "24.5,0.5,0.25,0.125\n31.0,0.5,0.75,1\nhigh,1,2,3\n");
        write("fraction-label.csv", "1,0.5,0.25,0.125\n2.5,0.5,0.5,1\n");
        write("short-row.csv", "1,0.5,0.25,0.125\n2,0.5\n");
        write("label-range.csv", "1,0.5,0.25,0.125\n9,0.5,0.5,1\n");
        write("many-bad.csv", "1,0.5,0.25,0.125\n2,x,0.5,1\n3,y,0.5,1\n1,0.5,0.5,1\n7,0.5,0.5,1\n");
        write("empty.csv", "");
        byte[] csvGzip = gzip("1,0.5,0.25,0.125\n".repeat(2000).getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("cut.csv.gz"), Arrays.copyOf(csvGzip, csvGzip.length / 2));
        write("order.libsvm", "1 1:0.5 3:0.25\n2 3:0.5 2:0.1\n");
        write("beyond.libsvm", "1 1:0.5 3:0.25\n2 1:0.5 4:0.1\n");
        write("colon.libsvm", "1 1:0.5 3:0.25\n2 1 0.5\n");
        write("data.txt", "1,2,3\n");
        write("text.parquet", "PAR1 is how a Parquet file starts, but this is text");

        // Parquet tables, written with a short-lived Spark context before any test starts its own.
        StructType arrays = new StructType().add("label", DataTypes.DoubleType)
                .add("features", DataTypes.createArrayType(DataTypes.DoubleType));
        Tables.writeParquet(dir.resolve("fraction.parquet"), arrays, List.of(
                RowFactory.create(1.0, List.of(0.5, 0.25, 0.125)), RowFactory.create(2.5, List.of(0.5, 0.5, 1.0))));
        Tables.writeParquet(dir.resolve("null-label.parquet"), arrays, List.of(
                RowFactory.create(1.0, List.of(0.5, 0.25, 0.125)), RowFactory.create(null, List.of(0.5, 0.5, 1.0))));
        Tables.writeParquet(dir.resolve("short.parquet"), arrays, List.of(
                RowFactory.create(1.0, List.of(0.5, 0.25, 0.125)), RowFactory.create(2.0, List.of(0.5, 0.5))));
        Tables.writeParquet(dir.resolve("strings.parquet"), new StructType().add("label", DataTypes.IntegerType)
                .add("features", DataTypes.StringType), List.of(RowFactory.create(1, "0.5,0.25,0.125")));
        Tables.writeParquet(dir.resolve("no-label.parquet"), new StructType().add("class", DataTypes.IntegerType)
                .add("features", DataTypes.createArrayType(DataTypes.DoubleType)), List.of(RowFactory.create(1, List.of(0.5))));
        write("a-file", "not a folder");
        Files.createDirectories(dir.resolve("empty-folder"));
    }

    private static byte[] gzip(byte[] data) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(bytes)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }

    private static void write(String name, String content) throws IOException {
        Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
    }

    private static String p(String name) {
        return dir.resolve(name).toString();
    }

    static Stream<Arguments> badInputs() {
        String book = TrainCommandTest.BOOK_SPEC;
        String good = p("good/train-images-idx3-ubyte");
        String tiny = p("three-inputs.yaml");
        int input = ExitCodes.INPUT;
        int usage = ExitCodes.USAGE;
        return Stream.of(
                // Specs.
                bad("spec: negative units", input, List.of("--model", p("bad-units.yaml"), "--train", good),
                        "bad-units.yaml", "units", "-5"),
                bad("spec: unknown activation", input, List.of("--model", p("bad-activation.yaml"), "--train", good),
                        "activation", "sofmax"),
                bad("spec: unknown optimizer", input, List.of("--model", p("bad-optimizer.yaml"), "--train", good),
                        "optimizer", "adamw"),
                bad("spec: unknown loss", input, List.of("--model", p("bad-loss.yaml"), "--train", good),
                        "loss", "hinge_squared"),
                bad("spec: unknown layer", input, List.of("--model", p("bad-layer.yaml"), "--train", good),
                        "layers[0]", "conv9d"),
                bad("spec: unknown key", input, List.of("--model", p("bad-key.yaml"), "--train", good), "layerz"),
                bad("spec: engine dense for a network it does not support", input,
                        List.of("--model", p("dropout-dense-engine.yaml"), "--train", good),
                        "dropout-dense-engine.yaml", "engine", "dense is not allowed", "DropoutLayer", "auto or dl4j"),
                bad("--engine dense for a network it does not support", usage,
                        List.of("--model", p("dropout.yaml"), "--train", good, "--engine", "dense"),
                        "--engine", "dense is not allowed", "dropout.yaml", "DropoutLayer", "auto or dl4j"),
                bad("--engine unknown", usage, List.of("--model", book, "--train", good, "--engine", "fast"),
                        "--engine", "fast"),
                bad("spec: malformed YAML", input, List.of("--model", p("not-yaml.yaml"), "--train", good),
                        "not-yaml.yaml", "line"),
                bad("spec: a saved model instead of a spec", input,
                        List.of("--model", p("saved-model.yaml"), "--train", good), "saved-model.yaml", "zip"),
                bad("spec: missing file", input, List.of("--model", p("nope.yaml"), "--train", good),
                        "nope.yaml", "no such file"),
                bad("spec: a folder", input, List.of("--model", p("a-folder.yaml"), "--train", good),
                        "a-folder.yaml", "is a folder"),
                // IDX files.
                bad("idx: missing file", input, List.of("--model", book, "--train", p("missing-images-idx3-ubyte.gz")),
                        "missing-images-idx3-ubyte.gz", "no such file"),
                bad("idx: not an IDX file", input, List.of("--model", book, "--train", p("text-images-idx3-ubyte")),
                        "text-images-idx3-ubyte", "not an IDX file"),
                bad("idx: truncated images file", input,
                        List.of("--model", book, "--train", p("truncated/t-images-idx3-ubyte")),
                        "t-images-idx3-ubyte", "record 199"),
                bad("idx: truncated file, even with --on-bad-record skip", input,
                        List.of("--model", book, "--train", p("truncated/t-images-idx3-ubyte"), "--on-bad-record", "skip"),
                        "t-images-idx3-ubyte", "record 199", "skip cannot help"),
                bad("idx: empty images file", input, List.of("--model", book, "--train", p("empty-idx/e-images-idx3-ubyte")),
                        "e-images-idx3-ubyte"),
                bad("idx: fewer labels than images", input,
                        List.of("--model", book, "--train", p("mismatch/m-images-idx3-ubyte")), "200 images", "150 labels"),
                bad("idx: truncated labels file", input,
                        List.of("--model", book, "--train", p("cut-labels/c-images-idx3-ubyte")),
                        "c-labels-idx1-ubyte record 151", "ends"),
                bad("idx: gzip cut short", input, List.of("--model", book, "--train", p("gz/cut-images-idx3-ubyte.gz")),
                        "cut-images-idx3-ubyte.gz", "record"),
                bad("idx: gzip corrupt in the middle", input,
                        List.of("--model", book, "--train", p("gz2/bad-images-idx3-ubyte.gz")), "bad-images-idx3-ubyte.gz"),
                bad("idx: features do not match the model", input,
                        List.of("--model", p("small-input.yaml"), "--train", good),
                        "train-images-idx3-ubyte", "record 1", "784 features", "expected 100"),
                bad("idx: labels outside the model's classes", input, List.of("--model", p("five-classes.yaml"), "--train", good),
                        "train-images-idx3-ubyte", "label", "[0, 5)", "bad records by reason"),
                // CSV and LibSVM.
                bad("csv: value that is not a number", input, List.of("--model", tiny, "--train", p("not-a-number.csv")),
                        "not-a-number.csv line 2, column 3", "'abc'"),
                bad("csv: NaN feature", input, List.of("--model", tiny, "--train", p("nan.csv")),
                        "nan.csv line 2, column 3", "NaN"),
                bad("csv: label with a fraction", input, List.of("--model", tiny, "--train", p("fraction-label.csv")),
                        "fraction-label.csv line 2, column 1", "2.5"),
                bad("csv: too few columns", input, List.of("--model", tiny, "--train", p("short-row.csv")),
                        "short-row.csv line 2", "2 columns", "4"),
                bad("csv: label outside the model's classes", input, List.of("--model", tiny, "--train", p("label-range.csv")),
                        "label-range.csv line 2", "label 9", "[0, 4)"),
                bad("csv: several bad records, counted by reason", input, List.of("--model", tiny, "--train", p("many-bad.csv")),
                        "3 records are bad", "many-bad.csv line 2", "many-bad.csv line 3", "many-bad.csv line 5",
                        "2 × '…' is not a number"),
                bad("csv: gzip file cut short", input, List.of("--model", tiny, "--train", p("cut.csv.gz"), "--format", "csv"),
                        "--train", "cut.csv.gz", "cannot be read"),
                bad("flag: negative label column", usage, List.of("--model", tiny, "--train", p("nan.csv"),
                        "--label-column", "-1"), "--label-column", "-1",
                        "(for CSV without a label column, predict takes --no-label or --label-column none)"),
                bad("regression csv: a target that is not a number", input, List.of("--model", p("regression.yaml"),
                        "--train", p("houses.csv")), "houses.csv line 3", "column 1", "target 'high' is not a number",
                        "real-valued regression target"),
                bad("regression: two label columns for one output", input, List.of("--model", p("regression.yaml"),
                        "--train", p("houses.csv"), "--label-column", "0,1"), "--label-column", "[0, 1]",
                        "1 output unit", "expected 1 column, e.g. 0"),
                bad("classifier: two label columns", input, List.of("--model", tiny, "--train", p("nan.csv"),
                        "--label-column", "0,3"), "--label-column", "is a classifier",
                        "one column holding the class label"),
                bad("flag: --label-column none for training", usage, List.of("--model", tiny, "--train", p("nan.csv"),
                        "--label-column", "none"), "--label-column none", "needs labelled data"),
                bad("flag: label column not a number", usage, List.of("--model", tiny, "--train", p("nan.csv"),
                        "--label-column", "last"), "--label-column", "'last'", "none for data without labels"),
                bad("regression: stratified split", usage, List.of("--model", p("regression.yaml"), "--train",
                        p("houses.csv"), "--validation-split", "0.2", "--stratify"), "--stratify",
                        "no classes to stratify by"),
                bad("regression: IDX labels for two outputs", input, List.of("--model", p("two-targets.yaml"),
                        "--train", p("good/train-images-idx3-ubyte")), "train-images-idx3-ubyte",
                        "one number per image", "2 outputs"),
                bad("flag: quote as delimiter", usage, List.of("--model", tiny, "--train", p("nan.csv"),
                        "--delimiter", "\""), "--delimiter"),
                bad("csv: empty file", input, List.of("--model", tiny, "--train", p("empty.csv")), "empty.csv", "no example"),
                bad("libsvm: indices out of order", input, List.of("--model", tiny, "--train", p("order.libsvm")),
                        "order.libsvm line 2", "2:0.1"),
                bad("libsvm: index beyond the model's input", input, List.of("--model", tiny, "--train", p("beyond.libsvm")),
                        "beyond.libsvm line 2", "4"),
                bad("libsvm: pair without a colon", input, List.of("--model", tiny, "--train", p("colon.libsvm")),
                        "colon.libsvm line 2"),
                // Parquet.
                bad("parquet: not a Parquet file", input, List.of("--model", tiny, "--train", p("text.parquet")),
                        "text.parquet", "cannot be read as Parquet"),
                bad("parquet: no label column", input, List.of("--model", tiny, "--train", p("no-label.parquet")),
                        "no-label.parquet", "no column 'label'", "class, features", "--label-col"),
                bad("parquet: features column of text", input, List.of("--model", tiny, "--train", p("strings.parquet")),
                        "strings.parquet", "'features' holds string", "--features-col"),
                bad("parquet: label with a fraction", input, List.of("--model", tiny, "--train", p("fraction.parquet")),
                        "fraction.parquet", "record 2", "2.5"),
                bad("parquet: missing label", input, List.of("--model", tiny, "--train", p("null-label.parquet")),
                        "null-label.parquet", "record 2", "'label' is null"),
                bad("parquet: too few features", input, List.of("--model", tiny, "--train", p("short.parquet")),
                        "short.parquet", "record 2", "2 features", "expected 3"),
                // Paths.
                bad("path: empty folder", input, List.of("--model", tiny, "--train", p("empty-folder"), "--format", "csv"),
                        "empty-folder", "no data file"),
                bad("path: glob that matches nothing", input, List.of("--model", tiny, "--train", p("nothing-*.csv")),
                        "nothing-*.csv", "matches no file"),
                bad("path: format not told by the name", usage, List.of("--model", book, "--train", p("data.txt")),
                        "data.txt", "--format"),
                bad("path: output is a file", input, List.of("--model", book, "--train", good, "--output", p("a-file")),
                        "--output", "a-file", "expected a folder"),
                bad("path: output below a file", input, List.of("--model", book, "--train", good, "--output", p("a-file/out")),
                        "--output", "a-file/out"),
                // Flags.
                bad("flag: unknown format", usage, List.of("--model", book, "--train", good, "--format", "orc"),
                        "--format", "orc"),
                bad("flag: epochs not a number", usage, List.of("--model", book, "--train", good, "--epochs", "five"),
                        "--epochs", "five"),
                bad("flag: zero epochs", usage, List.of("--model", book, "--train", good, "--epochs", "0"), "--epochs", "0"),
                bad("flag: zero batch size", usage, List.of("--model", book, "--train", good, "--batch-size", "0"),
                        "--batch-size", "0"),
                bad("flag: batch larger than the data", input,
                        List.of("--model", book, "--train", good, "--batch-size", "500"), "--batch-size", "500", "200"),
                bad("flag: zero workers", usage, List.of("--model", book, "--train", good, "--workers", "-1"),
                        "--workers", "-1"),
                bad("flag: more workers than examples", input, List.of("--model", book, "--train", good, "--workers", "300",
                        "--batch-size", "10"), "--workers", "300", "200"),
                bad("flag: averaging frequency zero", usage,
                        List.of("--model", book, "--train", good, "--averaging-frequency", "0"),
                        "--averaging-frequency", "'0'", "epoch"),
                bad("flag: unknown batch scope", usage,
                        List.of("--model", book, "--train", good, "--batch-scope", "replica"),
                        "--batch-scope", "'replica'", "worker, global or auto"),
                bad("flag: unknown delta precision", usage,
                        List.of("--model", book, "--train", good, "--delta-precision", "half"),
                        "--delta-precision", "'half'", "float32, float16 or bfloat16"),
                bad("flag: unknown optimizer state", usage,
                        List.of("--model", book, "--train", good, "--optimizer-state", "shared"),
                        "--optimizer-state", "'shared'", "averaged or local"),
                bad("flag: validation split of one", usage,
                        List.of("--model", book, "--train", good, "--validation-split", "1"), "--validation-split", "1.0", "(0, 1)"),
                bad("flag: validation split of zero", usage,
                        List.of("--model", book, "--train", good, "--validation-split", "0"), "--validation-split", "0.0"),
                bad("flag: empty features column", usage,
                        List.of("--model", book, "--train", good, "--features-col", ""),
                        "--features-col: '' is not allowed", "a column name"),
                bad("flag: --pad-sequences for IDX data", usage,
                        List.of("--model", book, "--train", good, "--pad-sequences", "pre"),
                        "--pad-sequences applies to Parquet array columns", "is idx", "expected Parquet data"),
                bad("flag: --truncate-sequences none", usage,
                        List.of("--model", book, "--train", good, "--truncate-sequences", "none"),
                        "--truncate-sequences: 'none' is not allowed", "pre or post"),
                bad("flag: --stratify without a validation split", usage,
                        List.of("--model", book, "--train", good, "--stratify"), "--stratify", "--validation-split"),
                bad("flag: not a Spark master", usage,
                        List.of("--model", book, "--train", good, "--master", "bogus"), "--master", "'bogus'", "local[N]"),
                bad("flag: standalone master URL without a port", usage,
                        List.of("--model", book, "--train", good, "--master", "spark://127.0.0.1"), "--master",
                        "'spark://127.0.0.1'", "spark://HOST:PORT"),
                bad("flag: scale of zero", usage, List.of("--model", book, "--train", good, "--scale", "0"), "--scale", "0"),
                bad("flag: missing --train", usage, List.of("--model", book), "--train"),
                bad("flag: --no-label", usage, List.of("--model", book, "--train", good, "--no-label"),
                        "--no-label: 'dptrain train' needs labelled data (it learns from the labels)",
                        "only 'dptrain predict'"),
                // Spark settings of the round exchange (DEPLOY.md).
                bad("conf: the driver's plain TCP exchange under Spark's authentication", input,
                        List.of("--model", book, "--train", good, "--conf", "spark.dptrain.roundExchange=socket",
                                "--conf", "spark.dptrain.roundExchange.inProcess=false", "--conf",
                                "spark.authenticate=true", "--conf", "spark.authenticate.secret=s"),
                        "spark.dptrain.roundExchange=socket", "spark.authenticate=true",
                        "spark.dptrain.roundExchange=peers"),
                bad("conf: unknown round exchange", input,
                        List.of("--model", book, "--train", good, "--conf", "spark.dptrain.roundExchange=fast"),
                        "spark.dptrain.roundExchange=fast", "auto, jobs, peers or socket"),
                bad("conf: round exchange port out of range", input,
                        List.of("--model", book, "--train", good, "--conf", "spark.dptrain.roundExchange.port=70000"),
                        "spark.dptrain.roundExchange.port=70000", "65535"),
                bad("conf: in-process round exchange not a boolean", input,
                        List.of("--model", book, "--train", good, "--conf", "spark.dptrain.roundExchange.inProcess=yes"),
                        "spark.dptrain.roundExchange.inProcess=yes", "expected true or false"),
                bad("conf: slot wait not a duration", input,
                        List.of("--model", book, "--train", good, "--conf", "spark.dptrain.roundExchange.slotWait=soon"),
                        "spark.dptrain.roundExchange.slotWait=soon", "expected a duration such as 30s or 2min"),
                // How long a cluster master may take to accept the application (ERRORS.md, environment errors).
                bad("conf: master timeout not a duration", input,
                        List.of("--model", book, "--train", good, "--conf", "spark.dptrain.masterTimeout=soon"),
                        "spark.dptrain.masterTimeout=soon", "expected a duration above 0", "60s"),
                bad("conf: master timeout of zero", input,
                        List.of("--model", book, "--train", good, "--conf", "spark.dptrain.masterTimeout=0s"),
                        "spark.dptrain.masterTimeout=0s", "expected a duration above 0"),
                bad("conf: rounds in one job without a slot per worker", input,
                        List.of("--model", book, "--train", good, "--workers", "3", "--master", "local[2]",
                                "--conf", "spark.dptrain.roundExchange=socket"),
                        "spark.dptrain.roundExchange=socket", "--workers is 3", "2 task slots"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void failsWithAClearMessageAndLosesNothing(String what, int exitCode, List<String> flags, List<String> mentions)
            throws IOException {
        Path out = dir.resolve("out-" + what.replaceAll("[^a-z]+", "-"));
        TrainCommandTest.Run run = runIntoOutputWithAnEarlierModel(out, flags, true);
        ErrorCases.assertClearError(what, exitCode, mentions, run);
        assertEarlierModelUntouched(out);
    }

    @Test
    void cvRefusesDataWithoutLabels() {
        Path out = dir.resolve("out-cv-no-label");
        TrainCommandTest.Run run = TrainCommandTest.dptrain("cv", "--model", TrainCommandTest.BOOK_SPEC, "--train",
                p("good/train-images-idx3-ubyte"), "--no-label", "--master", "local[2]", "--output", out.toString());
        ErrorCases.assertClearError("cv --no-label", ExitCodes.USAGE, List.of("--no-label: 'dptrain cv' needs "
                + "labelled data (it trains and scores every fold on the labels)", "only 'dptrain predict'"), run);
        assertTrue(!Files.exists(out.resolve("cv.json")), "nothing written: " + out);
    }

    @Test
    void refusesToReplaceAFinishedModelWithoutOverwrite() throws IOException {
        Path out = dir.resolve("out-finished");
        TrainCommandTest.Run run = runIntoOutputWithAnEarlierModel(out,
                List.of("--model", TrainCommandTest.BOOK_SPEC, "--train", p("good/train-images-idx3-ubyte")), false);
        assertEquals(ExitCodes.INPUT, run.code(), run.err());
        assertTrue(run.err().contains("already holds a finished model") && run.err().contains("--overwrite"), run.err());
        assertEarlierModelUntouched(out);
    }

    @Test
    void refusesAnOutputFolderThatALiveRunHoldsEvenWithOverwrite() throws IOException {
        Path out = dir.resolve("out-held");
        Files.createDirectories(out);
        // A run in this very JVM holds the folder: its process is alive.
        try (OutputLock held = OutputLock.acquire(out.toString(), new Configuration(), "app-holder", n -> { })) {
            TrainCommandTest.Run run = runIntoOutputWithAnEarlierModel(out,
                    List.of("--model", TrainCommandTest.BOOK_SPEC, "--train", p("good/train-images-idx3-ubyte")), true);
            ErrorCases.assertClearError("output held by a live run", ExitCodes.INPUT,
                    List.of("--output " + out + " is in use by another dptrain run", "application app-holder",
                            "pid " + ProcessHandle.current().pid()), run);
            assertEquals("a good model from an earlier run", Files.readString(out.resolve("model.zip")));
            assertTrue(Files.exists(out.resolve(OutputLock.FILE)), "the holder's lock stays");
        }
    }

    @Test
    void refusesToReplaceAnotherCommandsFinishedRunWithoutOverwrite() throws IOException {
        Path out = dir.resolve("out-finished-other");
        Files.createDirectories(out);
        Files.writeString(out.resolve("provenance.json"), "{\"from\": \"an earlier cv run\"}");
        TrainCommandTest.Run run = TrainCommandTest.dptrain("train", "--model", TrainCommandTest.BOOK_SPEC, "--train",
                p("good/train-images-idx3-ubyte"), "--output", out.toString(), "--master", "local[2]");
        assertEquals(ExitCodes.INPUT, run.code(), run.err());
        assertTrue(run.err().contains("already holds a finished run (provenance.json)"), run.err());
        assertEquals("{\"from\": \"an earlier cv run\"}", Files.readString(out.resolve("provenance.json")));
    }

    /**
     * A data file without read permission, on the local filesystem and on HDFS. Root reads local files whatever
     * their mode (and CI runs as root), so there the local case cannot be made; HDFS checks every user but its
     * superuser, and the test HDFS's superuser is another user ({@link PermissionedHdfs}).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"local", "hdfs"})
    void namesAFileThatExistsButCannotBeRead(String filesystem) throws IOException {
        PermissionedHdfs hdfs = null;
        String locked;
        if (filesystem.equals("local")) {
            Assumptions.assumeFalse("root".equals(System.getProperty("user.name")), "root reads files whatever their mode");
            Path file = dir.resolve("locked.csv");
            Files.writeString(file, "1,0.5,0.25,0.125\n");
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
            locked = file.toString();
        } else {
            hdfs = PermissionedHdfs.start(dir.resolve("hdfs"));
            locked = hdfs.lockedFile("/data/locked.csv", "1,0.5,0.25,0.125\n");
        }
        try {
            Path out = dir.resolve("out-locked-" + filesystem);
            TrainCommandTest.Run run = runIntoOutputWithAnEarlierModel(out,
                    List.of("--model", p("three-inputs.yaml"), "--train", locked), true);
            assertEquals(ExitCodes.INPUT, run.code(), run.err());
            assertTrue(run.err().contains("locked.csv"), run.err());
            // HDFS's permission errors carry the NameNode's stack trace in their message.
            assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
            assertEarlierModelUntouched(out);
        } finally {
            if (hdfs != null) {
                hdfs.close();
            }
        }
    }

    private static TrainCommandTest.Run runIntoOutputWithAnEarlierModel(Path out, List<String> flags, boolean overwrite)
            throws IOException {
        Files.createDirectories(out);
        Files.writeString(out.resolve("model.zip"), "a good model from an earlier run");
        List<String> args = new ArrayList<>(List.of("train", "--conf", "spark.ui.enabled=false"));
        if (!flags.contains("--master")) {
            args.addAll(List.of("--master", "local[2]"));
        }
        if (!flags.contains("--output")) {
            args.addAll(List.of("--output", out.toString()));
        }
        if (overwrite) {
            args.add("--overwrite");
        }
        args.addAll(flags);
        return TrainCommandTest.dptrain(args.toArray(String[]::new));
    }

    private static void assertEarlierModelUntouched(Path out) throws IOException {
        assertEquals("a good model from an earlier run", Files.readString(out.resolve("model.zip")));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of("model.zip"), files.map(f -> f.getFileName().toString()).toList(), "nothing else written");
        }
    }
}
