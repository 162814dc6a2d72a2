package io.cohortflow.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortflow.console.api.Tokens;
import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentDefinitionCodec;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.SharedKafka;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console's API against a real broker: profiles and changes published as the segmentation job publishes them
 * (the job's own codecs, on the product's topics), the console following them into its RocksDB store, and real HTTP
 * requests. What the console answers is checked against the stream's own evaluation of the snapshots the profiles
 * came from, not against the console's store.
 */
@ExtendWith(SharedKafka.class)
class ConsoleApiITCase {
    static final String READ = "read-token-for-tests";
    static final String WRITE = "write-token-for-tests";
    static final int PEOPLE = 3000;
    static final long T0 = 1_760_000_000_000L;
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static LocalKafkaBroker broker;
    static TopicsConfig topics;
    static Console console;
    static List<SimulatedProfiles.Simulated> people = new ArrayList<>();
    static List<SegmentRules.Compiled> shipped;

    @BeforeAll
    static void start(LocalKafkaBroker kafka) throws Exception {
        broker = kafka;
        topics = KafkaTestSupport.uniqueTopics(broker, "console-api");
        shipped = SegmentRules.compileAll(SegmentRules.defaults());
        SimulatedProfiles simulated = new SimulatedProfiles(7, shipped);
        for (int i = 0; i < PEOPLE; i++) {
            people.add(simulated.next(String.format("user_%05d", i), T0 + i));
        }
        try (var producer = producer()) {
            SegmentProfileCodec profiles = new SegmentProfileCodec();
            for (SimulatedProfiles.Simulated person : people) {
                send(producer, topics.name(TopicsConfig.PROFILES), person.profile().userId(),
                        profiles.encode(person.profile()));
            }
            // The seed's visitor: anonymous, then signed up as user_jane; her anonymous id's last profile says so.
            SegmentProfile jane = janeProfile();
            send(producer, topics.name(TopicsConfig.PROFILES), "user_jane", profiles.encode(jane));
            send(producer, topics.name(TopicsConfig.PROFILES), "anon_123xyz", profiles.encode(new SegmentProfile(
                    "anon_123xyz", T0, List.of(), Map.of(), Map.of(), null, "none", "user_jane", Map.of(), Map.of())));
            SegmentChangeCodec changes = new SegmentChangeCodec();
            for (SegmentChange change : janeChanges()) {
                send(producer, topics.name(TopicsConfig.CHANGES), change.userId(), changes.encode(change));
            }
            producer.flush();
        }
        Path registry = KafkaTestSupport.copyTree(
                io.cohortflow.testkit.Repository.root().resolve("model-registry/src/test/resources/current-registry"),
                KafkaTestSupport.tempDir("console-registry").resolve("registry"));
        console = Console.start(ConsoleOptions.local(broker.bootstrapServers(),
                KafkaTestSupport.tempDir("console-api"), 0, tokens().toString(), topics)
                .withRegistry(registry.toUri().toString()));
        assertThat(console.awaitCaughtUp(Duration.ofSeconds(60))).as("the console caught up").isTrue();
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
    }

    @Test
    void everyRequestNeedsATokenAndOnlyAWriteTokenPublishes() throws Exception {
        assertThat(call("GET", "/v1/segments", null, null).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/v1/segments", "not-a-token", null).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/v1/segments", READ, null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/v1/health", null, null).statusCode()).as("health is open").isEqualTo(200);
        String body = "{\"name\":\"Buyers\",\"condition\":\"purchases_365d >= 2\"}";
        HttpResponse<String> refused = call("PUT", "/v1/segments/buyers_ro", READ, body);
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("read-only");
        assertThat(call("DELETE", "/v1/segments/cart_abandoner", READ, null).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/v1/preview", READ, "{\"condition\":\"cart_open\"}").statusCode())
                .as("a preview is a read").isEqualTo(200);

        // Another site's form cannot ride a session: writes come as JSON, and from this site.
        HttpResponse<String> form = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + console.port()
                        + "/v1/models/rollback")).POST(HttpRequest.BodyPublishers.ofString("x=1"))
                .header("Content-Type", "text/plain").header("Authorization", "Bearer " + WRITE).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(form.statusCode()).isEqualTo(415);
        HttpResponse<String> crossSite = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + console.port() + "/v1/preview")).POST(HttpRequest.BodyPublishers.ofString(
                        "{\"condition\":\"cart_open\"}")).header("Content-Type", "application/json")
                .header("Sec-Fetch-Site", "cross-site").header("Authorization", "Bearer " + READ).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(crossSite.statusCode()).isEqualTo(403);
        HttpResponse<String> unknown = call("GET", "/v1/nothing-here", READ, null);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("\"error\"");
    }

    @Test
    void aSegmentsSizeIsItsMembersAmongTheStoredProfiles() throws Exception {
        JsonNode segments = JSON.readTree(call("GET", "/v1/segments", READ, null).body());
        Map<String, Long> sizes = new HashMap<>();
        segments.forEach(seg -> sizes.put(seg.get("id").asText(), seg.get("size").asLong()));
        for (SegmentRules.Compiled segment : shipped) {
            String id = segment.definition().id();
            long members = people.stream().filter(p -> p.profile().segments().contains(id)).count()
                    + (id.equals("cart_abandoner") ? 1 : 0); // user_jane
            assertThat(sizes.get(id)).as(id).isEqualTo(members);
        }
    }

    @Test
    void anInvalidConditionIsRefusedWithTheCompilersMessageAndItsPosition() throws Exception {
        HttpResponse<String> response = call("PUT", "/v1/segments/broken", WRITE,
                "{\"name\":\"Broken\",\"condition\":\"cart_open && recency > 3\"}");
        assertThat(response.statusCode()).isEqualTo(400);
        JsonNode problem = JSON.readTree(response.body()).get("problems").get(0);
        assertThat(problem.get("message").asText()).contains("undeclared reference to 'recency'");
        assertThat(problem.get("line").asInt()).isEqualTo(1);
        assertThat(problem.get("column").asInt()).isEqualTo(14);
        assertThat(call("GET", "/v1/segments/broken", READ, null).statusCode()).as("nothing published").isEqualTo(404);

        JsonNode typeError = JSON.readTree(call("POST", "/v1/validate", READ,
                "{\"condition\":\"frequency_30d == 'often'\"}").body());
        assertThat(typeError.get("valid").asBoolean()).isFalse();
        assertThat(typeError.get("problems").get(0).get("message").asText()).contains("no matching overload");
        JsonNode valid = JSON.readTree(call("POST", "/v1/validate", READ,
                "{\"condition\":\"recency_days > 30 && count_7d['order_completed'] >= 1\"}").body());
        assertThat(valid.get("valid").asBoolean()).isTrue();
        assertThat(valid.get("variables")).extracting(JsonNode::asText).containsExactly("count_7d", "recency_days");
        assertThat(call("PUT", "/v1/segments/Bad%20Id", WRITE, "{\"condition\":\"cart_open\"}").statusCode())
                .isEqualTo(400);
        assertThat(call("POST", "/v1/preview", READ, "not json").statusCode()).isEqualTo(400);
    }

    @Test
    void previewCountsWhatTheStreamWouldMatchAndItsOverlapWithEverySegment() throws Exception {
        String condition = "recency_days <= 30 && (count_30d['add_to_cart'] >= 2 || cart_open)"
                + " && !('api' in features_used_90d) && count_7d['user_signup'] == 0";
        SegmentRules.Compiled compiled = SegmentRules.compile(
                new SegmentDefinition("check", "Check", condition, null, false));
        List<SimulatedProfiles.Simulated> matching = people.stream()
                .filter(p -> SegmentRules.matches(compiled, p.streamVariables())).toList();
        assertThat(matching).as("a condition that some match and some do not").hasSizeBetween(50, PEOPLE - 50);

        JsonNode preview = JSON.readTree(call("POST", "/v1/preview", READ,
                JSON.writeValueAsString(Map.of("condition", condition))).body());
        assertThat(preview.get("matched").asLong()).isEqualTo(matching.size());
        assertThat(preview.get("evaluated").asLong()).as("everyone with inputs: the people and user_jane")
                .isEqualTo(PEOPLE + 1);
        List<String> sample = new ArrayList<>();
        preview.get("sample").forEach(m -> sample.add(m.get("userId").asText()));
        assertThat(sample).as("the first 20 members by id").containsExactlyElementsOf(
                matching.stream().map(p -> p.profile().userId()).sorted().limit(20).toList());
        JsonNode first = preview.get("sample").get(0).get("values");
        TreeSet<String> names = new TreeSet<>();
        first.fieldNames().forEachRemaining(names::add);
        assertThat(names)
                .containsExactly("cart_open", "count_30d", "count_7d", "features_used_90d", "recency_days");

        Map<String, Long> overlap = new HashMap<>();
        preview.get("overlap").forEach(o -> overlap.put(o.get("segmentId").asText(), o.get("both").asLong()));
        for (SegmentRules.Compiled segment : shipped) {
            String id = segment.definition().id();
            long both = matching.stream().filter(p -> p.profile().segments().contains(id)).count();
            assertThat(overlap.getOrDefault(id, 0L)).as("overlap with " + id).isEqualTo(both);
        }
        assertThat(overlap).as("some overlap to check").isNotEmpty();
    }

    @Test
    void theFourBehaviouralOperatorsPreviewAsTheStreamEvaluatesThem() throws Exception {
        for (String condition : List.of(
                "events.count('product_view', '30m') >= 2 || events.count('add_to_cart', '14d') >= 2",
                "events.count('order_completed', '90d') > 0 && events.absent_for('order_completed', '7d')",
                "events.first_within('add_to_cart', '3d')",
                "events.then_within('product_view', 'add_to_cart', '2d')")) {
            SegmentRules.Compiled compiled = SegmentRules.compile(
                    new SegmentDefinition("check", "Check", condition, null, false));
            long expected = people.stream().filter(p -> SegmentRules.matches(compiled, p.streamVariables())).count()
                    // and user_jane, whose profile the test wrote by hand (read as core reads a profile)
                    + SegmentRules.variables(janeProfile(), SimulatedProfiles.TAXONOMY)
                    .filter(v -> SegmentRules.matches(compiled, v)).stream().count();
            assertThat(expected).as(condition + ": some match, some do not").isBetween(10L, PEOPLE - 10L);
            HttpResponse<String> response = call("POST", "/v1/preview", READ,
                    JSON.writeValueAsString(Map.of("condition", condition)));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            assertThat(JSON.readTree(response.body()).get("matched").asLong()).as(condition).isEqualTo(expected);
        }
        HttpResponse<String> invalid = call("POST", "/v1/validate", READ,
                "{\"condition\":\"events.count('product_view', '3 weeks') > 1\"}");
        assertThat(JSON.readTree(invalid.body()).get("problems").get(0).get("message").asText())
                .contains("a window is a whole number of m, h or d");
        JsonNode why = JSON.readTree(call("GET", "/v1/profiles/user_00001", READ, null).body());
        assertThat(why.get("inputs").has("events")).isTrue();
    }

    @Test
    void publishingAndDeletingGoToTheDefinitionsTopicAsTheCliDoes() throws Exception {
        HttpResponse<String> put = call("PUT", "/v1/segments/repeat_buyers", WRITE,
                "{\"name\":\"Repeat buyers\",\"condition\":\"purchases_365d >= 2\",\"description\":\"two or more\"}");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(JSON.readTree(call("GET", "/v1/segments/repeat_buyers", READ, null).body())
                .get("condition").asText()).isEqualTo("purchases_365d >= 2");
        assertThat(call("DELETE", "/v1/segments/repeat_buyers", WRITE, null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/v1/segments/repeat_buyers", READ, null).statusCode()).isEqualTo(404);

        List<SegmentDefinition> published = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                topics.name(TopicsConfig.DEFINITIONS), new SegmentDefinitionCodec());
        assertThat(published).filteredOn(d -> d.id().equals("repeat_buyers")).extracting(SegmentDefinition::deleted,
                SegmentDefinition::condition).containsExactly(
                org.assertj.core.groups.Tuple.tuple(false, "purchases_365d >= 2"),
                org.assertj.core.groups.Tuple.tuple(true, null));
    }

    @Test
    void aProfileResolvesHerAnonymousIdAndShowsEnterTimesHistoryAndWhySheIsIn() throws Exception {
        JsonNode profile = JSON.readTree(call("GET", "/v1/profiles/anon_123xyz", READ, null).body());
        assertThat(profile.get("userId").asText()).isEqualTo("user_jane");
        assertThat(profile.get("resolvedFrom").asText()).isEqualTo("anon_123xyz");
        JsonNode membership = profile.get("memberships").get(0);
        assertThat(membership.get("segmentId").asText()).isEqualTo("cart_abandoner");
        assertThat(membership.get("enteredAt").asLong()).as("her latest ENTER").isEqualTo(T0 + 3_600_000);
        assertThat(profile.get("features").get("cart_value").asDouble()).isEqualTo(149.0);
        assertThat(profile.get("scores").get("churn").asDouble()).isEqualTo(0.2);

        JsonNode history = JSON.readTree(call("GET", "/v1/profiles/user_jane/changes", READ, null).body());
        assertThat(history.get("changes")).extracting(c -> c.get("type").asText())
                .containsExactly("ENTER", "EXIT", "ENTER");

        JsonNode why = JSON.readTree(call("GET", "/v1/profiles/anon_123xyz/explain/cart_abandoner", READ, null)
                .body());
        assertThat(why.get("matches").asBoolean()).isTrue();
        assertThat(why.get("member").asBoolean()).isTrue();
        assertThat(why.get("clauses").get(0).get("text").asText()).isEqualTo("cart_abandoned");
        JsonNode notIn = JSON.readTree(call("GET", "/v1/profiles/user_jane/explain/frequent_visitor", READ, null)
                .body());
        assertThat(notIn.get("matches").asBoolean()).isFalse();
        assertThat(notIn.get("inputs").get("frequency_30d").asLong()).isEqualTo(2);

        assertThat(call("GET", "/v1/profiles/nobody", READ, null).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/v1/profiles/user_jane/explain/no_such", READ, null).statusCode()).isEqualTo(404);
        JsonNode catalog = JSON.readTree(call("GET", "/v1/catalog", READ, null).body());
        assertThat(catalog.get("variables")).extracting(v -> v.get("name").asText())
                .contains("recency_days", "count_7d", "scores", "persona");
        assertThat(catalog.get("events")).extracting(JsonNode::asText).contains("add_to_cart", "order_completed");
    }

    @Test
    void anErasedPersonLeavesTheStoreProfileAndHistory() throws Exception {
        String id = "user_erased";
        SegmentProfile profile = janeProfile();
        try (var producer = producer()) {
            send(producer, topics.name(TopicsConfig.PROFILES), id, new SegmentProfileCodec().encode(
                    new SegmentProfile(id, T0, profile.segments(), profile.features(), profile.scores(),
                            profile.persona(), profile.model(), null, Map.of(), profile.inputs())));
            send(producer, topics.name(TopicsConfig.CHANGES), id, new SegmentChangeCodec().encode(
                    change(id, ChangeType.ENTER, T0, new Cause("rule", "cart_abandoner", "v1"), 0)));
            producer.flush();
        }
        await(() -> call("GET", "/v1/profiles/" + id + "/changes", READ, null).body().contains("ENTER"));
        try (var producer = producer()) {
            send(producer, topics.name(TopicsConfig.CHANGES), id, new SegmentChangeCodec().encode(
                    change(id, ChangeType.EXIT, T0 + 1, new Cause("privacy", "req-1", null), 1)));
            send(producer, topics.name(TopicsConfig.PROFILES), id, null);
            producer.flush();
        }
        await(() -> call("GET", "/v1/profiles/" + id, READ, null).statusCode() == 404);
        assertThat(console.store().changes(id, 100)).as("her history is gone").isEmpty();
        // A change computed before her erasure that reaches the console after it finds no place; one of her return,
        // later, does.
        try (var producer = producer()) {
            send(producer, topics.name(TopicsConfig.CHANGES), id, new SegmentChangeCodec().encode(
                    change(id, ChangeType.ENTER, T0 + 2, new Cause("rule", "cart_abandoner", "v1"), 2)));
            SegmentChange back = change(id, ChangeType.ENTER, T0 + 3, new Cause("rule", "cart_abandoner", "v1"), 3);
            send(producer, topics.name(TopicsConfig.CHANGES), id, new SegmentChangeCodec().encode(new SegmentChange(
                    back.changeId(), id, back.segmentId(), back.segmentName(), back.type(), back.eventTime(),
                    System.currentTimeMillis() + 60_000, back.cause(), back.features(), back.model())));
            producer.flush();
        }
        await(() -> !console.store().changes(id, 100).isEmpty());
        assertThat(console.store().changes(id, 100)).extracting(SegmentChange::eventTime).containsExactly(T0 + 3);
    }

    @Test
    void theModelsPageReadsTheRegistryAndPromotesThroughTheGate() throws Exception {
        JsonNode models = JSON.readTree(call("GET", "/v1/models", READ, null).body());
        assertThat(models.get("current").asInt()).isEqualTo(1);
        JsonNode v1 = models.get("versions").get(0);
        assertThat(v1.get("current").asBoolean()).isTrue();
        assertThat(v1.get("metrics").get("churn_auc").asDouble()).isGreaterThan(0.5);
        HttpResponse<String> report = call("GET", v1.get("report").asText(), READ, null);
        assertThat(report.statusCode()).isEqualTo(200);
        assertThat(report.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).contains("html"));

        assertThat(call("POST", "/v1/models/promote", READ, "{\"version\": 1}").statusCode()).isEqualTo(403);
        HttpResponse<String> rollback = call("POST", "/v1/models/rollback", WRITE, "{}");
        assertThat(rollback.statusCode()).as("nothing promoted before v1").isEqualTo(409);
        assertThat(rollback.body()).contains("no earlier promotion");
        HttpResponse<String> promoted = call("POST", "/v1/models/promote", WRITE, "{\"version\": 1, \"reason\": \"again\"}");
        assertThat(promoted.statusCode()).as(promoted.body()).isEqualTo(200);
        List<io.cohortflow.core.model.ModelPublished> announced = KafkaTestSupport.readAllCommitted(
                broker.bootstrapServers(), topics.name(TopicsConfig.MODELS), new io.cohortflow.core.model.ModelPublishedCodec());
        assertThat(announced).extracting(io.cohortflow.core.model.ModelPublished::version).containsExactly(1);
        assertThat(call("POST", "/v1/models/promote", WRITE, "{\"version\": 7}").statusCode())
                .as("no such version").isEqualTo(409);
    }

    @Test
    void deadLettersAreCountedByReasonAndHourWithTheirLatestSamples() throws Exception {
        io.cohortflow.core.event.DeadLetterCodec codec = new io.cohortflow.core.event.DeadLetterCodec();
        try (var producer = producer()) {
            for (int i = 0; i < 25; i++) {
                send(producer, topics.name(TopicsConfig.DLQ), "k" + i, codec.encode(new io.cohortflow.core.event.DeadLetter(
                        i < 22 ? "INVALID_JSON" : "MISSING_ID", "bad " + i, "web", T0 + i * 1_800_000L,
                        "{\"type\":\"track\"," + "x".repeat(i == 0 ? 5000 : 10), false, 5020, "00", false)));
            }
            producer.flush();
        }
        await(() -> JSON.readTree(call("GET", "/v1/dead-letters", READ, null).body()).get("totals").size() == 2);
        JsonNode dead = JSON.readTree(call("GET", "/v1/dead-letters", READ, null).body());
        assertThat(dead.get("totals").get("INVALID_JSON").asLong()).isEqualTo(22);
        assertThat(dead.get("totals").get("MISSING_ID").asLong()).isEqualTo(3);
        long hours = 0;
        for (JsonNode n : iterable(dead.get("byHour").get("INVALID_JSON").elements())) {
            hours += n.asLong();
        }
        assertThat(hours).isEqualTo(22);
        long distinctHours = java.util.stream.LongStream.range(0, 22).map(i -> (T0 + i * 1_800_000L) / 3_600_000L)
                .distinct().count();
        assertThat(dead.get("byHour").get("INVALID_JSON").size()).as("the hours they fell in").isEqualTo(distinctHours);
        List<String> details = new ArrayList<>();
        dead.get("samples").forEach(d -> details.add(d.get("detail").asText()));
        assertThat(details).as("the latest 20 of a reason, and all 3 of the other, newest first").hasSize(23)
                .startsWith("bad 24", "bad 23", "bad 22", "bad 21").doesNotContain("bad 0", "bad 1");
    }

    // ---- fixtures -------------------------------------------------------------------------------------------------

    static SegmentProfile janeProfile() {
        SimulatedProfiles.Simulated base = new SimulatedProfiles(99, shipped).next("user_jane", T0);
        Map<String, Object> inputs = new HashMap<>(base.profile().inputs());
        inputs.put("cart_open", true);
        inputs.put("cart_abandoned", true);
        inputs.put("cart_value", 149.0);
        inputs.put("frequency_30d", 2L);
        Map<String, Double> features = new HashMap<>(base.profile().features());
        features.put("cart_value", 149.0);
        return new SegmentProfile("user_jane", T0 + 3_600_000, List.of("cart_abandoner"), features,
                Map.of("churn", 0.2), null, "bundle@v1", null, Map.of(), inputs);
    }

    static List<SegmentChange> janeChanges() {
        Cause rule = new Cause("rule", "cart_abandoner", "v1");
        return List.of(change("user_jane", ChangeType.ENTER, T0, rule, 0),
                change("user_jane", ChangeType.EXIT, T0 + 60_000, rule, 1),
                change("user_jane", ChangeType.ENTER, T0 + 3_600_000, rule, 2));
    }

    static SegmentChange change(String user, ChangeType type, long at, Cause cause, long ordinal) {
        return SegmentChange.of(user, "cart_abandoner", "Cart abandoner", type, at, ordinal, at, cause, Map.of(),
                "none");
    }

    static Path tokens() throws Exception {
        Path file = KafkaTestSupport.tempDir("console-tokens").resolve("tokens.yaml");
        Files.writeString(file, "tokens:\n"
                + "  - {name: reader, sha256: " + Tokens.sha256(READ) + ", access: read}\n"
                + "  - {name: writer, sha256: " + Tokens.sha256(WRITE) + ", access: write}\n");
        return file;
    }

    static KafkaProducer<byte[], byte[]> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG, 5), new ByteArraySerializer(), new ByteArraySerializer());
    }

    static void send(KafkaProducer<byte[], byte[]> producer, String topic, String key, byte[] value) {
        producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value));
    }

    static HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + console.port() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static <T> Iterable<T> iterable(java.util.Iterator<T> it) {
        return () -> it;
    }

    interface Check {
        boolean holds() throws Exception;
    }

    static void await(Check check) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!check.holds()) {
            assertThat(System.nanoTime()).as("waited 30 s").isLessThan(deadline);
            Thread.sleep(50);
        }
    }
}
