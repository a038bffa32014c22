package dptrain.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.cli.Dptrain;
import dptrain.testing.FashionMnist;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Level;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * A real training run's report.html, opened in headless Chromium: the charts are drawn, labelled
 * and titled, the confusion matrix counts every test example, and the browser reports no errors.
 * Uses Debian's chromium and chromedriver (no Selenium Manager, no network); saves a screenshot to
 * target/report-screenshot.png.
 */
class ReportBrowserIT {
    private static final Path CHROMIUM = Path.of(System.getProperty("dptrain.chromium", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getProperty("dptrain.chromedriver", "/usr/bin/chromedriver"));

    @TempDir
    Path work;

    @Test
    void reportOfARealRunShowsItsChartsAndConfusionMatrixWithoutBrowserErrors() throws IOException {
        requireChromium();
        Path data = work.resolve("data");
        Path train = FashionMnist.writeSlice(data, "train", "train", 0, 2000);
        Path test = FashionMnist.writeSlice(data, "t10k", "test", 0, 500);
        Path out = work.resolve("run <&> \"quoted\"");
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        int code = Dptrain.run(new PrintWriter(stdout, true), new PrintWriter(stderr, true), "train",
                "--model", "../src/examples/mnist-mlp.yaml", "--train", train.toString(), "--test", test.toString(),
                "--validation-split", "0.2", "--epochs", "2", "--batch-size", "64", "--workers", "2",
                "--averaging-frequency", "5", "--master", "local[2]", "--output", out.toString(),
                "--conf", "spark.ui.enabled=false");
        assertEquals(0, code, stdout + "\n" + stderr);
        JsonNode history = new ObjectMapper().readTree(out.resolve("history.json").toFile());

        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // Root in a container has no user namespaces for Chromium's sandbox.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1300,900", "--no-first-run", "--disable-extensions");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriver driver = new ChromeDriver(service, options);
        try {
            driver.get(out.resolve("report.html").toUri().toString());
            assertTrue(driver.getTitle().contains("run <&> \"quoted\""), driver.getTitle());

            assertChart(driver, "loss-chart", List.of("Loss per epoch", "Epoch", "Loss", "training loss",
                    "validation loss"));
            assertChart(driver, "accuracy-chart", List.of("Accuracy per epoch", "Epoch", "Accuracy",
                    "training accuracy", "validation accuracy"));
            assertChart(driver, "timing-chart", List.of("Time per round", "Round (epoch.round)", "Seconds",
                    "broadcast", "compute", "combine", "scheduling", "update"));
            assertChart(driver, "throughput-chart", List.of("Training throughput", "Round", "Examples/s"));

            List<WebElement> rows = driver.findElements(By.cssSelector("#confusion-matrix tbody tr"));
            assertEquals(10, rows.size(), "one row per Fashion-MNIST class");
            long sum = 0;
            for (WebElement row : rows) {
                List<WebElement> cells = row.findElements(By.cssSelector("td.count"));
                assertEquals(10, cells.size(), "one column per class");
                for (WebElement cell : cells) {
                    sum += Long.parseLong(cell.getText().trim());
                }
            }
            assertEquals(500, history.get("test_examples").asLong());
            assertEquals(500, sum, "the confusion matrix counts every test example once");

            List<LogEntry> problems = driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                    .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue()).toList();
            assertTrue(problems.isEmpty(), "browser console: " + problems);

            long height = (Long) ((JavascriptExecutor) driver).executeScript(
                    "return Math.ceil(document.documentElement.scrollHeight)");
            driver.manage().window().setSize(new Dimension(1300, (int) Math.min(height + 100, 8000)));
            Path screenshot = Path.of("target", "report-screenshot.png");
            Files.createDirectories(screenshot.getParent());
            Files.write(screenshot, driver.getScreenshotAs(OutputType.BYTES));
        } finally {
            driver.quit();
            service.stop();
        }
    }

    /** The chart is laid out with a size, draws paths with geometry, and shows {@code labels} as text. */
    private static void assertChart(ChromeDriver driver, String id, List<String> labels) {
        WebElement svg = driver.findElement(By.id(id));
        assertTrue(svg.isDisplayed(), id + " is not displayed");
        assertTrue(svg.getSize().getWidth() > 300 && svg.getSize().getHeight() > 200, id + " size " + svg.getSize());
        Number drawn = (Number) ((JavascriptExecutor) driver).executeScript(
                "return Array.from(arguments[0].querySelectorAll('path'))"
                        + ".filter(p => { const b = p.getBBox(); return b.width > 0 || b.height > 0; }).length",
                svg);
        assertTrue(drawn.intValue() > 0, id + " draws no visible path");
        List<String> texts = svg.findElements(By.tagName("text")).stream().map(WebElement::getText)
                .map(String::trim).toList();
        for (String label : labels) {
            assertTrue(texts.contains(label), id + " lacks the text '" + label + "'; it shows " + texts);
        }
    }

    /**
     * CI (CI=true) must have Chromium, so the test fails there without it; a developer's machine
     * without it skips, naming what to install.
     */
    private static void requireChromium() {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        String missing = "Chromium and its driver are needed at " + CHROMIUM + " and " + CHROMEDRIVER
                + ": apt-get install -y chromium chromium-driver (.ci/run installs them)";
        if (!installed && System.getenv("CI") != null) {
            fail(missing);
        }
        Assumptions.assumeTrue(installed, missing);
    }
}
