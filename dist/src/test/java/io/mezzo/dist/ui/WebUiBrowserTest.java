package io.mezzo.dist.ui;

import static io.mezzo.testkit.Protos.shellTask;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mezzo.agent.Agent;
import io.mezzo.dist.Cluster;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.Timeouts;
import java.io.File;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web UI in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver},
 * driven through Selenium WebDriver) against a real master and agent in this JVM: every page
 * loads with no console error, the overview's numbers match {@code /state}, a task launched while
 * the page is open appears without a reload, the task page tails its output through the master,
 * and the drain button drains the agent. A screenshot of each page goes to {@code
 * target/ui-screenshots/}. Skipped, with a printed notice, where the browser or its driver is not
 * installed ({@code apt-get install chromium chromium-driver}); {@code -Dmezzo.chromium} and
 * {@code -Dmezzo.chromedriver} point elsewhere. Selenium Manager is never used (no download).
 */
@Timeout(240)
class WebUiBrowserTest {

    private static final Path CHROMIUM = Path.of(System.getProperty("mezzo.chromium", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getProperty("mezzo.chromedriver", "/usr/bin/chromedriver"));
    private static final Path SCREENSHOTS = Path.of("target", "ui-screenshots");
    private static final Duration WAIT = Duration.ofSeconds(45);

    @TempDir
    static Path work;

    private static Cluster cluster;
    private static Agent agent;
    private static Cluster.Framework framework;
    private static ChromeDriver browser;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String notice = "WebUiBrowserTest skipped: no " + (Files.isExecutable(CHROMIUM) ? CHROMEDRIVER : CHROMIUM)
                    + " (install Debian's chromium and chromium-driver to run the web UI's browser tests)";
            System.out.println(notice);
            Assumptions.assumeTrue(false, notice);
        }
        cluster = new Cluster(work);
        agent = cluster.agent("cpus:2;mem:1536;disk:1024");
        framework = cluster.framework(Cluster.frameworkInfo("ui-demo").build());
        cluster.settle();

        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--no-first-run", "--disable-extensions", "--disable-background-networking");
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().scriptTimeout(Duration.ofSeconds(20));
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String base() {
        return "http://127.0.0.1:" + cluster.master.httpPort() + "/";
    }

    private static JsonObject getJson(String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    /** Opens {@code hash} and waits until the page named {@code page} has rendered. */
    private static void open(String hash, String page) {
        String before = rendered();
        browser.get(base() + hash);
        waitForPage(page, before);
    }

    private static void waitForPage(String page, String before) {
        new WebDriverWait(browser, WAIT).ignoring(StaleElementReferenceException.class).until(d -> {
            WebElement main = d.findElement(By.id("main"));
            return page.equals(main.getAttribute("data-page")) && main.getAttribute("data-rendered") != null
                    && !main.getAttribute("data-rendered").equals(before);
        });
        assertThat(browser.findElement(By.id("main")).getAttribute("data-error")).as("the " + page + " page's error")
                .isNull();
    }

    private static String rendered() {
        try {
            return browser.findElement(By.id("main")).getAttribute("data-rendered");
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static void screenshot(String name) throws Exception {
        Files.write(SCREENSHOTS.resolve(name + ".png"), browser.getScreenshotAs(OutputType.BYTES));
    }

    /** Fails on any console error the page logged since the last call. */
    private static void assertNoConsoleErrors(String where) {
        List<String> errors = new ArrayList<>();
        for (LogEntry e : browser.manage().logs().get(LogType.BROWSER)) {
            if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
                errors.add(e.getMessage());
            }
        }
        assertThat(errors).as("browser console errors on " + where).isEmpty();
    }

    /** A resource amount as the UI prints it (cpus 0.5, mem 512 MB / 1.5 GB). */
    private static String human(String name, long milli) {
        double v = milli / 1000.0;
        String unit = "";
        if (name.equals("mem") || name.equals("disk")) {
            unit = " MB";
            if (v >= 1024) {
                v /= 1024;
                unit = " GB";
            }
        }
        return BigDecimal.valueOf(Math.round(v * 100) / 100.0).stripTrailingZeros().toPlainString() + unit;
    }

    private static long scalar(JsonArray resources, String name) {
        long sum = 0;
        for (JsonElement r : resources) {
            JsonObject o = r.getAsJsonObject();
            if (o.get("name").getAsString().equals(name) && o.has("scalar")) {
                sum += o.getAsJsonObject("scalar").get("milli").getAsLong();
            }
        }
        return sum;
    }

    /**
     * The text of the first element matching {@code css}, read in one script: the page re-renders
     * as events arrive, so an element found in one call may be gone by the next.
     */
    private static String text(String css) {
        Object t = ((JavascriptExecutor) browser).executeScript(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", css);
        assertThat(t).as("an element matching " + css).isNotNull();
        return t.toString().trim();
    }

    private static long count(String css) {
        return (Long) ((JavascriptExecutor) browser).executeScript(
                "return document.querySelectorAll(arguments[0]).length;", css);
    }

    /** Clicks the element matching {@code css}, finding it again if a re-render replaced it. */
    private static void click(String css) {
        new WebDriverWait(browser, WAIT).ignoring(StaleElementReferenceException.class).until(d -> {
            d.findElement(By.cssSelector(css)).click();
            return true;
        });
    }

    @Test
    void everyPageLoadsUpdatesLiveTailsOutputAndDrains() throws Exception {
        String agentId = agent.agentId().orElseThrow().value();
        String frameworkId = framework.frameworkId.getValue();

        // Overview: its numbers are /state's.
        open("#/", "overview");
        JsonObject state = getJson("state");
        assertThat(text("#count-agents")).isEqualTo(String.valueOf(state.getAsJsonArray("agents").size())).isEqualTo("1");
        assertThat(text("#count-frameworks")).isEqualTo(String.valueOf(state.getAsJsonArray("frameworks").size()));
        assertThat(text("#count-tasks")).isEqualTo(String.valueOf(state.getAsJsonArray("tasks").size()));
        assertThat(text("#epoch")).isEqualTo(state.getAsJsonObject("master_info").get("epoch").getAsString());
        for (String r : List.of("cpus", "mem", "disk")) {
            assertThat(text("[data-resource=" + r + "] [data-kind=total]")).as(r)
                    .isEqualTo(human(r, scalar(state.getAsJsonArray("total_resources"), r)));
            assertThat(text("[data-resource=" + r + "] [data-kind=used]")).as(r)
                    .isEqualTo(human(r, scalar(state.getAsJsonArray("used_resources"), r)));
        }
        assertThat(text("[data-resource=mem] [data-kind=total]")).isEqualTo("1.5 GB");
        assertThat(text("[data-counts=agents] [data-state=REGISTERED]")).isEqualTo("1");
        screenshot("overview");
        assertNoConsoleErrors("the overview");

        open("#/agents", "agents");
        assertThat(count("tr[data-agent='" + agentId + "']")).isEqualTo(1);
        screenshot("agents");
        open("#/frameworks", "frameworks");
        assertThat(count("tr[data-framework='" + frameworkId + "']")).isEqualTo(1);
        screenshot("frameworks");
        open("#/frameworks/" + frameworkId, "frameworks");
        assertThat(text("h1")).contains("ui-demo");
        screenshot("framework");
        open("#/roles", "roles");
        assertThat(count("tr[data-role]")).isPositive();
        screenshot("roles");
        assertNoConsoleErrors("the agents, frameworks and roles pages");

        // A task launched while the tasks page is open appears without a reload.
        open("#/tasks", "tasks");
        ((JavascriptExecutor) browser).executeScript("window.notReloaded = true;");
        Offer offer = framework.takeOffer(agentId);
        framework.driver.launch(offer.getId(), List.of(shellTask("ui-talker", offer,
                "echo hello-from-the-ui-task; i=0; while true; do echo line $i; i=$((i+1)); sleep 0.3; done")));
        Awaitility.await("the new task on the page").atMost(WAIT).until(() -> count("tr[data-task='ui-talker']") > 0);
        Awaitility.await().atMost(WAIT).untilAsserted(() -> assertThat(text("tr[data-task='ui-talker'] .state"))
                .isEqualTo("RUNNING"));
        assertThat(((JavascriptExecutor) browser).executeScript("return window.notReloaded === true;")).isEqualTo(true);
        assertThat(framework.nextUpdate("ui-talker").getState()).isIn(TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
        screenshot("tasks");

        // The task page tails its stdout through the master, and keeps following it.
        String before = rendered();
        click("tr[data-task='ui-talker'] a");
        waitForPage("tasks", before);
        Awaitility.await("the task's output").atMost(WAIT).until(() -> count("#output") > 0
                && text("#output").contains("hello-from-the-ui-task"));
        Awaitility.await("more of the task's output, followed").atMost(WAIT).until(() -> text("#output").contains("line 5"));
        assertThat(text("h1")).contains("ui-talker");
        screenshot("task");
        assertNoConsoleErrors("the tasks and task pages");

        // The agent page: usage from the agent, then the drain button drains it.
        open("#/agents/" + agentId, "agents");
        Awaitility.await("usage from the agent").atMost(WAIT).until(() -> count("#usage table") > 0);
        assertThat(text("#usage")).contains("ui-talker");
        screenshot("agent");
        new WebDriverWait(browser, WAIT).ignoring(StaleElementReferenceException.class).until(d -> {
            d.findElement(By.id("grace")).sendKeys("1");
            return true;
        });
        click("button[data-action=drain]");
        new WebDriverWait(browser, WAIT).until(ExpectedConditions.alertIsPresent()).accept();
        Awaitility.await("the master says the agent drains").atMost(WAIT).until(() -> {
            for (JsonElement a : getJson("agents").getAsJsonArray("agents")) {
                JsonObject o = a.getAsJsonObject();
                if (o.getAsJsonObject("agent_info").getAsJsonObject("id").get("value").getAsString().equals(agentId)) {
                    String s = o.get("state").getAsString();
                    return s.equals("DRAINING") || s.equals("DRAINED");
                }
            }
            return false;
        });
        Awaitility.await("the page shows it").atMost(WAIT).untilAsserted(() -> assertThat(text("h1 .state"))
                .isIn("DRAINING", "DRAINED"));
        assertNoConsoleErrors("the agent page");
    }
}
