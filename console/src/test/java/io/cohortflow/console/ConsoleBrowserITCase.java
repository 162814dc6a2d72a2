package io.cohortflow.console;

import io.cohortflow.console.api.Tokens;
import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.ingest.IngestJob;
import io.cohortflow.ingest.IngestOptions;
import io.cohortflow.jobs.kafka.PipelineLag;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.segmentation.SegmentationJob;
import io.cohortflow.segmentation.SegmentationOptions;
import io.cohortflow.simulator.KafkaDeliverySink;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.SharedKafka;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A marketer's session in a real Chromium (the Debian chromium and chromium-driver, driven by Selenium), against the
 * running product: a real broker, the simulator's traffic through the ingest job, the segmentation job live on a
 * MiniCluster, and the console following its topics. She signs in, writes a segment in the editor, previews it,
 * publishes it, sees its members enter, and opens a member's profile to see why she is in.
 */
@ExtendWith(SharedKafka.class)
class ConsoleBrowserITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    static final String WRITE = "browser-test-write-token";
    static final Instant START = Instant.parse("2026-03-02T00:00:00Z");
    static final String CONDITION = "count_90d['product_view'] >= 2 && count_90d['add_to_cart'] >= 1";
    static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void aMarketerBuildsPreviewsAndPublishesASegmentAndSeesWhyAMemberIsIn(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "console-browser");
        try (KafkaDeliverySink sink = new KafkaDeliverySink(broker.bootstrapServers(), topics.name(TopicsConfig.RAW))) {
            new Simulator(SimulatorConfig.of(5, 120, 2, START)).forEach(sink::send);
            sink.flush();
        }
        runIngest(broker, topics);
        JobClient segmentation = startSegmentation(broker, topics);
        try {
            awaitQuiet(broker, topics);
            Path tokens = Files.createTempFile("console-tokens", ".yaml");
            Files.writeString(tokens, "tokens:\n  - {name: marketer, sha256: " + Tokens.sha256(WRITE)
                    + ", access: write}\n");
            Path registry = KafkaTestSupport.copyTree(io.cohortflow.testkit.Repository.root()
                            .resolve("model-registry/src/test/resources/current-registry"),
                    KafkaTestSupport.tempDir("console-browser-registry").resolve("registry"));
            try (Console console = Console.start(ConsoleOptions.local(broker.bootstrapServers(),
                    KafkaTestSupport.tempDir("console-browser"), 0, tokens.toString(), topics)
                    .withRegistry(registry.toUri().toString()))) {
                assertThat(console.awaitCaughtUp(WAIT)).isTrue();
                Set<String> expected = matchingInStoredProfiles(broker, topics);
                assertThat(expected).as("a segment some are in and some are not").isNotEmpty();
                System.out.printf("browser test: %d stored profiles match %s%n", expected.size(), CONDITION);
                session(broker, topics, console.port(), expected);
            }
        } finally {
            segmentation.cancel().get();
        }
    }

    private void session(LocalKafkaBroker broker, TopicsConfig topics, int port, Set<String> expected)
            throws Exception {
        WebDriver browser = chromium();
        try {
            WebDriverWait wait = new WebDriverWait(browser, WAIT);
            String base = "http://127.0.0.1:" + port;
            browser.get(base + "/editor");
            assertThat(browser.getCurrentUrl()).as("signed out: sent to sign in").endsWith("/login");
            browser.findElement(By.id("token")).sendKeys(WRITE);
            browser.findElement(By.id("sign-in")).click();
            wait.until(ExpectedConditions.urlContains("/segments"));
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#segments tbody tr")));
            browser.findElement(By.cssSelector("#segments .chart-button[data-id='product_viewer_3x_1h']")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("chart-status"), "hours with changes"));
            screenshot(browser, "segments");

            // Create the segment in the editor: the catalog is there, the condition is checked as it is typed.
            browser.get(base + "/editor");
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#catalog .insert")));
            browser.findElement(By.id("segment-id")).sendKeys("browsed_and_carted");
            browser.findElement(By.id("segment-name")).sendKeys("Browsed and carted");
            WebElement condition = browser.findElement(By.id("condition"));
            condition.sendKeys("count_90d['product_view'] >= 2 && recency > 1");
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("validation"), "undeclared reference"));
            assertThat(browser.findElement(By.id("validation")).getText()).contains("line 1, column 35");
            condition.clear();
            condition.sendKeys(CONDITION);
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("validation"), "Valid."));

            // Preview: as many as the stored profiles that match, counted here without the console.
            browser.findElement(By.id("preview")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"), "Preview ready."));
            long previewed = Long.parseLong(browser.findElement(By.id("preview-count")).getText().replace(",", ""));
            assertThat(previewed).isEqualTo(expected.size());
            assertThat(browser.findElement(By.id("preview-of")).getText()).as("not everyone")
                    .doesNotStartWith("of " + expected.size() + " ");
            assertThat(browser.findElement(By.id("delete")).isDisplayed()).as("nothing to delete yet").isFalse();
            List<String> sample = browser.findElements(By.cssSelector("#sample tbody tr td:first-child")).stream()
                    .map(WebElement::getText).toList();
            assertThat(sample).isNotEmpty().allSatisfy(id -> assertThat(expected).contains(id));
            assertThat(browser.findElements(By.cssSelector("#overlap tbody tr"))).isNotEmpty();
            screenshot(browser, "editor");

            // Publish: the stream takes the definition, and the members enter.
            browser.findElement(By.id("publish")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"), "Published"));
            assertThat(browser.findElement(By.id("delete")).isDisplayed()).isTrue();
            Set<String> entered = awaitEntered(broker, topics, "browsed_and_carted", expected.size());
            assertThat(entered).isEqualTo(expected);

            // A member's profile, and why she is in.
            String member = sample.get(0);
            browser.get(base + "/profiles?id=" + member);
            By why = By.cssSelector("#memberships button.why[data-segment='browsed_and_carted']");
            wait.until(ExpectedConditions.elementToBeClickable(why));
            browser.findElement(why).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("explanation"),
                    "is in Browsed and carted"));
            List<WebElement> clauses = browser.findElements(By.cssSelector("#explanation li.clause"));
            assertThat(clauses).hasSize(3);
            assertThat(clauses).allSatisfy(c -> assertThat(c.getAttribute("class")).contains("ok"));
            assertThat(clauses.get(1).getText()).contains("count_90d[\"product_view\"] >= 2");
            // The explain control does the same for any segment, in or out.
            new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("explain-segment")))
                    .selectByValue("frequent_visitor");
            browser.findElement(By.id("explain")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("explanation"), "Frequent visitors"));
            assertThat(browser.findElements(By.cssSelector("#explanation li.clause"))).singleElement()
                    .satisfies(c -> assertThat(c.getText()).contains("frequency_30d >= 8"));
            browser.findElement(By.cssSelector("#memberships button.why[data-segment='browsed_and_carted']")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("explanation"),
                    "is in Browsed and carted"));
            assertThat(browser.findElement(By.id("history")).getText()).contains("ENTER");
            screenshot(browser, "profile");

            browser.get(base + "/models");
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("models-status"), "bundle v1 is current"));
            assertThat(browser.findElement(By.id("versions")).getText()).contains("churn_auc");
            screenshot(browser, "models");
            browser.get(base + "/dead-letters");
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#totals tbody tr td.num")));
            assertThat(browser.findElement(By.id("totals")).getText()).as("the simulator's broken payloads")
                    .contains("INVALID_JSON");
            screenshot(browser, "dead-letters");
        } finally {
            browser.quit();
        }
    }

    /** With {@code -Dconsole.screenshots=DIR}, saves the page as DIR/NAME.png (the README's pictures). */
    private static void screenshot(WebDriver browser, String name) throws java.io.IOException {
        String dir = System.getProperty("console.screenshots");
        if (dir != null) {
            ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("window.scrollTo(0, 0)");
            Path file = Path.of(dir).resolve(name + ".png");
            Files.createDirectories(file.getParent());
            Files.write(file, ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(
                    org.openqa.selenium.OutputType.BYTES));
        }
    }

    static WebDriver chromium() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(firstExisting("/usr/bin/chromium", "/usr/bin/chromium-browser"));
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,1000");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(firstExisting("/usr/bin/chromedriver",
                        "/usr/lib/chromium/chromedriver"))).build();
        return new ChromeDriver(service, options);
    }

    private static String firstExisting(String... paths) {
        for (String path : paths) {
            if (new File(path).canExecute()) {
                return path;
            }
        }
        throw new IllegalStateException("none of " + List.of(paths) + " is installed: .ci/run installs chromium and"
                + " chromium-driver (apt-get install chromium chromium-driver)");
    }

    /** Who the condition matches in segments.profiles as it stands: the latest profile of each id, evaluated here. */
    private static Set<String> matchingInStoredProfiles(LocalKafkaBroker broker, TopicsConfig topics) {
        Map<String, byte[]> latest = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                topics.name(TopicsConfig.PROFILES))) {
            latest.put(new String(record.key(), StandardCharsets.UTF_8), record.value());
        }
        SegmentRules.Compiled compiled = SegmentRules.compile(new SegmentDefinition("x", "x", CONDITION, null, false));
        Set<String> names = EventTaxonomy.defaults().canonicalNames();
        SegmentProfileCodec codec = new SegmentProfileCodec();
        Set<String> matching = new TreeSet<>();
        latest.forEach((id, value) -> {
            if (value != null) {
                SegmentProfile profile = codec.decode(value);
                SegmentRules.variables(profile, names).filter(v -> SegmentRules.matches(compiled, v))
                        .ifPresent(v -> matching.add(id));
            }
        });
        return matching;
    }

    private static Set<String> awaitEntered(LocalKafkaBroker broker, TopicsConfig topics, String segment, int count)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Set<String> entered = Set.of();
        while (System.nanoTime() < deadline) {
            entered = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.CHANGES),
                            new SegmentChangeCodec()).stream()
                    .filter(c -> c.segmentId().equals(segment) && c.type() == ChangeType.ENTER)
                    .map(SegmentChange::userId).collect(Collectors.toCollection(TreeSet::new));
            if (entered.size() >= count) {
                return entered;
            }
            Thread.sleep(250);
        }
        return entered;
    }

    // ---- the product --------------------------------------------------------------------------------------------

    private static void runIngest(LocalKafkaBroker broker, TopicsConfig topics) throws Exception {
        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", broker.bootstrapServers(),
                "--transaction-timeout", "60s", "--group-id", "it-ingest-" + topics.name(TopicsConfig.RAW),
                "--history-path", KafkaTestSupport.tempDir("history-").toUri().toString()));
        args.addAll(KafkaTestSupport.topicArgs(topics));
        IngestOptions options = IngestOptions.parse(args.toArray(String[]::new));
        StreamExecutionEnvironment env = env();
        IngestJob.configure(env, options);
        IngestJob.fromOptions(options, true).build(env);
        env.execute("ingest");
    }

    private static String segmentationGroup(TopicsConfig topics) {
        return "it-segmentation-" + topics.name(TopicsConfig.CHANGES);
    }

    private static JobClient startSegmentation(LocalKafkaBroker broker, TopicsConfig topics) throws Exception {
        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", broker.bootstrapServers(),
                "--transaction-timeout", "60s", "--group-id", segmentationGroup(topics), "--idleness", "2s"));
        args.addAll(KafkaTestSupport.topicArgs(topics));
        SegmentationOptions options = SegmentationOptions.parse(args.toArray(String[]::new));
        StreamExecutionEnvironment env = env();
        SegmentationJob.configure(env, options);
        SegmentationJob.fromOptions(options, false).build(env);
        return env.executeAsync("segmentation");
    }

    private static StreamExecutionEnvironment env() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(MiniClusters.PARALLELISM);
        return env;
    }

    /**
     * Waits until segmentation has read all of events.unified (the offsets Flink commits on a checkpoint; each of
     * ingest's transactional writers can leave a commit marker after the last record, which no record follows) and
     * its outputs then stay as they are over several checkpoints: with no new events, event time stands still and
     * the job has nothing more to say.
     */
    private static void awaitQuiet(LocalKafkaBroker broker, TopicsConfig topics) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<String> outputs = List.of(topics.name(TopicsConfig.PROFILES), topics.name(TopicsConfig.CHANGES));
        try (var admin = broker.admin()) {
            Map<Object, Long> last = Map.of();
            int steady = 0;
            while (steady < 4) { // 4 × 1 s: eight checkpoints with nothing new
                assertThat(System.nanoTime()).as("segmentation read everything and went quiet").isLessThan(deadline);
                Map<Integer, Long> lag = PipelineLag.lag(admin, segmentationGroup(topics),
                        topics.name(TopicsConfig.UNIFIED));
                Map<Object, Long> now = new HashMap<>();
                lag.forEach((partition, behind) -> now.put("unified-" + partition, behind));
                for (String topic : outputs) {
                    var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
                            .stream().map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition()))
                            .collect(Collectors.toMap(tp -> tp, tp -> org.apache.kafka.clients.admin.OffsetSpec.latest()));
                    admin.listOffsets(partitions).all().get().forEach((tp, info) -> now.put(tp, info.offset()));
                }
                boolean read = PipelineLag.caughtUp(lag, 2L * MiniClusters.PARALLELISM);
                steady = read && now.equals(last) ? steady + 1 : 0;
                last = now;
                Thread.sleep(1000);
            }
        }
    }
}
