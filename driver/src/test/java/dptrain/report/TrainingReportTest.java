package dptrain.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.driver.files.InputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** report.html and history.png drawn from a run's history.json and provenance.json, without Spark. */
public class TrainingReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path out;

    /** A history.json as 'dptrain train' writes it: three epochs of two rounds, validation, a 3-class test matrix. */
    public static Map<String, Object> history(int epochs, int roundsPerEpoch) {
        List<Map<String, Object>> epochList = new ArrayList<>();
        List<Map<String, Object>> rounds = new ArrayList<>();
        for (int e = 1; e <= epochs; e++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", e);
            m.put("loss", 1.0 / e);
            m.put("accuracy", 0.6 + 0.1 * e);
            m.put("val_loss", 0.9 / e + 0.05 * e);
            m.put("val_accuracy", 0.55 + 0.08 * e);
            m.put("seconds", 2.5);
            m.put("examples", 1600);
            epochList.add(m);
            for (int r = 1; r <= roundsPerEpoch; r++) {
                Map<String, Object> round = new LinkedHashMap<>();
                round.put("epoch", e);
                round.put("round", r);
                round.put("examples", 1600 / roundsPerEpoch);
                round.put("loss", 1.0 / e);
                round.put("seconds", 1.0);
                round.put("broadcast_seconds", 0.05);
                round.put("compute_seconds", 0.8);
                round.put("combine_seconds", 0.05);
                round.put("scheduling_seconds", 0.07);
                round.put("update_seconds", 0.03);
                rounds.add(round);
            }
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("epochs", epochList);
        doc.put("rounds", rounds);
        doc.put("test_examples", 30);
        doc.put("test_loss", 0.4);
        doc.put("test_accuracy", 0.8);
        doc.put("test_confusion_matrix", new long[][] {{9, 1, 0}, {2, 7, 1}, {0, 2, 8}});
        doc.put("test_confusion_labels", List.of("0", "1", "2"));
        return doc;
    }

    public static Map<String, Object> provenance(String output) {
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("epochs", 3);
        parameters.put("train", Map.of("uri", "file:/data/<b>train</b>.csv", "format", "csv"));
        parameters.put("output", output);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("dptrain_version", "0.1.0");
        doc.put("spark_version", "4.2.0");
        doc.put("master", "local[2]");
        doc.put("parameters", parameters);
        doc.put("model", Map.of("source", "spec \"a\" & <b>", "layers", List.of("dense 512 relu")));
        return doc;
    }

    private void writeRun(Map<String, Object> history, String output) throws IOException {
        JSON.writeValue(out.resolve("history.json").toFile(), history);
        JSON.writeValue(out.resolve("provenance.json").toFile(), provenance(output));
    }

    private String report() throws IOException {
        TrainingReport.read(out.toString(), new Configuration()).write(out.toString(), new Configuration());
        return Files.readString(out.resolve("report.html"));
    }

    @Test
    void reportHoldsTheCurvesTimingChartsAndConfusionMatrixAsInlineSvgAndTables() throws IOException {
        writeRun(history(3, 2), "out/run");
        String html = report();
        for (String id : List.of("loss-chart", "accuracy-chart", "timing-chart", "throughput-chart")) {
            Matcher svg = Pattern.compile("<svg[^>]*id=['\"]" + id + "['\"].*?</svg>", Pattern.DOTALL).matcher(html);
            assertTrue(svg.find(), id + " missing");
            assertTrue(svg.group().contains("<path"), id + " draws nothing");
        }
        for (String label : List.of(">Epoch<", ">Loss<", ">Accuracy<", ">Seconds<", ">Examples/s<", ">Loss per epoch<",
                ">training loss<", ">validation loss<", ">compute<", ">broadcast<", ">Round (epoch.round)<")) {
            assertTrue(html.contains(label), label + " missing from the charts' text");
        }
        Matcher counts = Pattern.compile("<td class=\"count[^\"]*\"[^>]*>(\\d+)</td>").matcher(html);
        long sum = 0;
        int cells = 0;
        while (counts.find()) {
            sum += Long.parseLong(counts.group(1));
            cells++;
        }
        assertEquals(9, cells);
        assertEquals(30, sum);
        assertTrue(html.contains("Test loss / accuracy</th><td>0.4000 / 0.8000 (30 examples)"), html);
    }

    @Test
    void reportFetchesNothingAndEscapesTextFromItsInputs() throws IOException {
        writeRun(history(2, 1), "out/<script>alert(1)</script>");
        String html = report();
        assertFalse(html.contains("<script"), "input text must be escaped");
        assertTrue(html.contains("out/&lt;script&gt;alert(1)&lt;/script&gt;"));
        assertTrue(html.contains("file:/data/&lt;b&gt;train&lt;/b&gt;.csv"));
        assertTrue(html.contains("spec \\&quot;a\\&quot; &amp; &lt;b&gt;"), "model spec escaped");
        // Only the SVG namespace names a URL; nothing is loaded from one.
        assertFalse(Pattern.compile("(src|href)\\s*=\\s*\"(https?:)?//").matcher(html).find());
        assertFalse(html.contains("@import") || html.contains("url(http"));
        assertTrue(html.contains("default-src 'none'"), "a content security policy forbids any fetch");
    }

    @Test
    void manyRoundsAreSummedPerEpochInTheTimingChart() throws IOException {
        writeRun(history(2, 40), "out");
        String html = report();
        assertTrue(html.contains(">Time per epoch (rounds summed)<"));
        assertFalse(html.contains(">Round (epoch.round)<"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void aSingleEpochStillGetsReadableAxisTicks() throws IOException {
        Map<String, Object> history = history(1, 1);
        // Without validation each curve is a single point: a range of zero height.
        Map<String, Object> epoch = (Map<String, Object>) ((List<?>) history.get("epochs")).get(0);
        epoch.put("val_loss", null);
        epoch.put("val_accuracy", null);
        writeRun(history, "out");
        String html = report();
        Matcher ticks = Pattern.compile("<text[^>]*>([^<]*)</text>").matcher(html);
        while (ticks.find()) {
            assertFalse(ticks.group(1).matches("-?[0-9.]+E-?[0-9]+"), "unreadable tick " + ticks.group(1));
        }
    }

    @Test
    void historyPngIsAPngImage() throws IOException {
        writeRun(history(3, 1), "out");
        report();
        byte[] png = Files.readAllBytes(out.resolve("history.png"));
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4));
        assertTrue(png.length > 10_000, "a drawn chart, not an empty image: " + png.length + " bytes");
        try (var files = Files.list(out)) {
            assertEquals(List.of("history.json", "history.png", "provenance.json", "report.html"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files left");
        }
    }

    @Test
    void missingHistoryIsAnInputErrorNamingTheFile() throws IOException {
        JSON.writeValue(out.resolve("provenance.json").toFile(), provenance("out"));
        InputException e = assertThrows(InputException.class, () -> TrainingReport.read(out.toString(),
                new Configuration()));
        assertEquals(out.resolve("history.json") + ": no such file", e.getMessage());
    }

    @Test
    void invalidJsonIsAnInputErrorNamingFileLineAndColumn() throws IOException {
        writeRun(history(1, 1), "out");
        Files.writeString(out.resolve("provenance.json"), "{\n  \"master\": local\n}\n");
        InputException e = assertThrows(InputException.class, () -> TrainingReport.read(out.toString(),
                new Configuration()));
        assertTrue(e.getMessage().startsWith(out.resolve("provenance.json") + ": is not valid JSON at line 2, column "),
                e.getMessage());
    }

    @Test
    void aHistoryWithoutEpochsIsAnInputErrorNamingTheField() throws IOException {
        Map<String, Object> history = history(1, 1);
        ((Map<?, ?>) ((List<?>) history.get("epochs")).get(0)).remove("loss");
        writeRun(history, "out");
        InputException e = assertThrows(InputException.class, () -> TrainingReport.read(out.toString(),
                new Configuration()));
        assertEquals(out.resolve("history.json") + ": \"epochs[0].loss\" is missing; expected a number or null as "
                + "'dptrain train' writes it", e.getMessage());
    }
}
