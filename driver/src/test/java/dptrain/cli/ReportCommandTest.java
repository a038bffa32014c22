package dptrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.report.TrainingReportTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dptrain report}: redraws report.html and history.png, or says which input file is wrong. */
class ReportCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path out;

    private void writeRun() throws IOException {
        JSON.writeValue(out.resolve("history.json").toFile(), TrainingReportTest.history(2, 1));
        JSON.writeValue(out.resolve("provenance.json").toFile(), TrainingReportTest.provenance(out.toString()));
    }

    @Test
    void redrawsTheReportFromHistoryAndProvenance() throws IOException {
        writeRun();
        TrainCommandTest.Run run = TrainCommandTest.dptrain("report", "--output", out.toString());
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertEquals("Wrote report.html and history.png to " + out + "\n", run.out());
        assertTrue(Files.readString(out.resolve("report.html")).contains("<svg"));
        assertTrue(Files.size(out.resolve("history.png")) > 0);
    }

    @Test
    void aFolderWithoutHistoryIsAnInputError() {
        TrainCommandTest.Run run = TrainCommandTest.dptrain("report", "--output", out.toString());
        assertEquals(ExitCodes.INPUT, run.code());
        assertEquals("dptrain: error: " + out.resolve("history.json") + ": no such file\n", run.err());
        assertFalse(Files.exists(out.resolve("report.html")));
    }

    @Test
    void invalidJsonIsAnInputErrorAndLeavesTheOldReportInPlace() throws IOException {
        writeRun();
        assertEquals(ExitCodes.OK, TrainCommandTest.dptrain("report", "--output", out.toString()).code());
        String good = Files.readString(out.resolve("report.html"));
        Files.writeString(out.resolve("history.json"), "{\"epochs\": [");
        TrainCommandTest.Run run = TrainCommandTest.dptrain("report", "--output", out.toString());
        assertEquals(ExitCodes.INPUT, run.code());
        assertTrue(run.err().startsWith("dptrain: error: " + out.resolve("history.json") + ": is not valid JSON at line 1"),
                run.err());
        assertFalse(run.err().contains("\tat "), "no stack trace without --verbose");
        assertFalse(run.err().contains("Source:"), "no parser internals: " + run.err());
        assertEquals(good, Files.readString(out.resolve("report.html")));
    }

    @Test
    void outputIsRequired() {
        TrainCommandTest.Run run = TrainCommandTest.dptrain("report");
        assertEquals(ExitCodes.USAGE, run.code());
        assertTrue(run.err().contains("Missing required option: '--output=DIR'"), run.err());
    }
}
