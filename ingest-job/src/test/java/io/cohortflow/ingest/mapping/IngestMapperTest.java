package io.cohortflow.ingest.mapping;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.RejectReason;
import io.cohortflow.core.event.UnifiedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class IngestMapperTest {
    private static final long RECEIVED = Instant.parse("2026-03-02T12:00:00Z").toEpochMilli();
    private final IngestMapper mapper = mapper(EventTaxonomy.defaults());

    static IngestMapper mapper(EventTaxonomy taxonomy) {
        return new IngestMapper(taxonomy, IngestMapper.loadMappings(null), 32 * 1024, Duration.ofHours(1),
                Duration.ofDays(3650));
    }

    @Test
    void replayedHistoryIsExemptFromThePastToleranceButNotFromTheFuture() {
        String old = "{\"type\":\"track\",\"event\":\"Order Completed\",\"messageId\":\"o1\",\"userId\":\"17850\","
                + "\"timestamp\":\"2010-12-01T08:26:00Z\"}";
        byte[] payload = old.getBytes(StandardCharsets.UTF_8);
        assertThat(mapper.map(new RawEvent(payload, "web", RECEIVED)).rejected())
                .singleElement().satisfies(r -> assertThat(r.reason()).isEqualTo(RejectReason.TIMESTAMP_OUT_OF_RANGE));
        assertThat(mapper.map(new RawEvent(payload, "web", RECEIVED, true)).events()).singleElement()
                .satisfies(e -> assertThat(e.timestamp()).isEqualTo(Instant.parse("2010-12-01T08:26:00Z").toEpochMilli()));
        byte[] future = old.replace("2010-12-01", "2027-12-01").getBytes(StandardCharsets.UTF_8);
        assertThat(mapper.map(new RawEvent(future, "web", RECEIVED, true)).rejected()).singleElement()
                .satisfies(r -> assertThat(r.reason()).isEqualTo(RejectReason.TIMESTAMP_OUT_OF_RANGE));
    }

    @Test
    void mapsATrackCallWithCanonicalNameAndSkewCorrectedTime() {
        // The device clock is 2 hours fast: timestamp and sentAt carry it, receivedAt does not.
        UnifiedEvent e = one("web", """
                {"type":"track","event":"Product Added","messageId":"m1","anonymousId":"anon_1",
                 "timestamp":"2026-03-02T12:00:00.000Z","sentAt":"2026-03-02T12:00:05.000Z",
                 "receivedAt":"2026-03-02T10:00:06.000Z","properties":{"price":149.0,"sku":"s"},
                 "context":{"library":{"name":"analytics.js"}}}""");
        assertThat(e.type()).isEqualTo(EventType.TRACK);
        assertThat(e.event()).isEqualTo("add_to_cart");
        assertThat(e.timestamp()).isEqualTo(Instant.parse("2026-03-02T10:00:01Z").toEpochMilli());
        assertThat(e.receivedAt()).isEqualTo(Instant.parse("2026-03-02T10:00:06Z").toEpochMilli());
        assertThat(e.resolvedId()).isEqualTo("anon_1");
        assertThat(e.source()).isEqualTo("web");
        assertThat(e.properties()).containsEntry("price", 149.0);
        assertThat(e.context()).containsKey("library");
    }

    @Test
    void acceptsOffsetTimesAndOriginalTimestamp() {
        UnifiedEvent e = one("ios", "{\"type\":\"track\",\"event\":\"product_viewed\",\"messageId\":\"m\",\"anonymousId\":\"a\","
                + "\"originalTimestamp\":\"2026-03-02T13:00:00+02:00\"}");
        assertThat(e.timestamp()).isEqualTo(Instant.parse("2026-03-02T11:00:00Z").toEpochMilli());
        assertThat(e.event()).isEqualTo("product_view");
    }

    @Test
    void pageAndScreenCallsArePageViewsAndKeepTheirName() {
        UnifiedEvent page = one("web", """
                {"type":"page","name":"Men's Running Shoes","messageId":"m2","anonymousId":"a","userId":"u1",
                 "timestamp":"2026-03-02T11:59:00Z","properties":{"path":"/c/mens"}}""");
        assertThat(page.event()).isEqualTo("page_view");
        assertThat(page.resolvedId()).as("a known user id wins").isEqualTo("u1");
        assertThat(page.properties()).containsEntry("name", "Men's Running Shoes").containsEntry("path", "/c/mens");
        assertThat(page.timestamp()).as("no sentAt: timestamp as sent").isEqualTo(RECEIVED - 60_000);

        UnifiedEvent screen = one("android", "{\"type\":\"screen\",\"name\":\"Home\",\"messageId\":\"m3\",\"anonymousId\":\"a\"}");
        assertThat(screen.event()).isEqualTo("page_view");
        assertThat(screen.timestamp()).as("no time at all: receive time").isEqualTo(RECEIVED);
    }

    @Test
    void identifyAndAliasCarryNoEventNameButKeepTraitsAndPreviousId() {
        UnifiedEvent identify = one("web", """
                {"type":"identify","messageId":"m4","anonymousId":"anon_123xyz","userId":"user_jane",
                 "traits":{"email":"Jane.Doe@Example.com"}}""");
        assertThat(identify.event()).isNull();
        assertThat(identify.traits()).containsEntry("email", "Jane.Doe@Example.com");
        UnifiedEvent alias = one("server", "{\"type\":\"alias\",\"messageId\":\"m5\",\"userId\":\"u2\",\"previousId\":\"u1\"}");
        assertThat(alias.previousId()).isEqualTo("u1");
    }

    @Test
    void emailUserIdsAreNormalisedAndHashedBeforeTheyBecomeKeys() {
        UnifiedEvent a = one("server", "{\"type\":\"identify\",\"messageId\":\"m\",\"userId\":\" Jane.Doe@Example.com \"}");
        UnifiedEvent b = one("server", "{\"type\":\"identify\",\"messageId\":\"n\",\"userId\":\"jane.doe@example.com\"}");
        assertThat(a.userId()).startsWith("email_sha256:").hasSize("email_sha256:".length() + 64)
                .doesNotContain("jane").isEqualTo(b.userId());
        assertThat(a.resolvedId()).isEqualTo(a.userId());
    }

    @Test
    void placeholderIdsAreDroppedWhenARealOneRemains() {
        UnifiedEvent e = one("web", "{\"type\":\"track\",\"event\":\"X\",\"messageId\":\"m\",\"anonymousId\":\"a1\",\"userId\":\"null\"}");
        assertThat(e.userId()).isNull();
        assertThat(e.resolvedId()).isEqualTo("a1");
    }

    @Test
    void unplannedNamesAreAllowedFlaggedOrRejectedAsConfigured() {
        String payload = "{\"type\":\"track\",\"event\":\"Wishlist Shared\",\"messageId\":\"m\",\"userId\":\"u\"}";
        UnifiedEvent allowed = one(mapper(EventTaxonomy.defaults().withUnplanned(EventTaxonomy.Unplanned.ALLOW)), "web", payload);
        assertThat(allowed.event()).isEqualTo("wishlist_shared");
        assertThat(allowed.context()).doesNotContainKey("tracking_plan");
        UnifiedEvent flagged = one(mapper(EventTaxonomy.defaults().withUnplanned(EventTaxonomy.Unplanned.FLAG)), "web", payload);
        assertThat(flagged.context()).containsEntry("tracking_plan", "unplanned");
        MappingOutcome rejected = mapper(EventTaxonomy.defaults().withUnplanned(EventTaxonomy.Unplanned.REJECT))
                .map(raw("web", payload));
        assertThat(rejected.rejected()).extracting(MappingOutcome.Rejected::reason).containsExactly(RejectReason.UNPLANNED_EVENT);
        assertThat(EventNormalizer.snakeCase("videoPlaybackStarted")).isEqualTo("video_playback_started");
    }

    @Test
    void aBatchSharesSentAtAndContextAndRejectsOnlyItsBadCalls() {
        MappingOutcome outcome = mapper.map(raw("web", """
                {"sentAt":"2026-03-02T12:00:10Z","context":{"library":{"name":"analytics-node"}},
                 "batch":[
                   {"type":"track","event":"Order Completed","messageId":"b1","userId":"u1",
                    "timestamp":"2026-03-02T12:00:00Z","receivedAt":"2026-03-02T12:00:20Z","properties":{"revenue":99.5}},
                   {"type":"track","messageId":"b2","userId":"u1"},
                   {"type":"identify","messageId":"b3","userId":"u1","context":{"ip":"10.0.0.1"}}
                 ]}"""));
        assertThat(outcome.events()).extracting(UnifiedEvent::messageId).containsExactly("b1", "b3");
        UnifiedEvent order = outcome.events().get(0);
        assertThat(order.event()).isEqualTo("order_completed");
        assertThat(order.sentAt()).isEqualTo(Instant.parse("2026-03-02T12:00:10Z").toEpochMilli());
        assertThat(order.timestamp()).isEqualTo(Instant.parse("2026-03-02T12:00:10Z").toEpochMilli());
        assertThat(order.context()).containsKey("library");
        assertThat(outcome.events().get(1).context()).containsKeys("library", "ip");
        assertThat(outcome.rejected()).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(RejectReason.MISSING_EVENT_NAME);
            assertThat(new String(r.payload(), StandardCharsets.UTF_8)).contains("\"b2\"");
        });
    }

    @Test
    void stripeWebhooksMapToPaymentsAndRenewals() {
        UnifiedEvent charge = one("stripe", """
                {"id":"evt_1","type":"charge.succeeded","created":1772452800,
                 "data":{"object":{"id":"ch_1","amount":4900,"currency":"usd","invoice":"in_1",
                                   "metadata":{"user_id":"u0000042"}}}}""");
        assertThat(charge.event()).isEqualTo("payment_succeeded");
        assertThat(charge.messageId()).isEqualTo("evt_1");
        assertThat(charge.userId()).isEqualTo("u0000042");
        assertThat(charge.timestamp()).isEqualTo(1772452800_000L);
        assertThat(charge.properties()).containsEntry("amount", 49.0).containsEntry("currency", "USD")
                .containsEntry("charge_id", "ch_1");
        assertThat(charge.context()).containsEntry("integration", "stripe");

        UnifiedEvent renewal = one("stripe", """
                {"id":"evt_2","type":"invoice.paid","created":1772452800,
                 "data":{"object":{"id":"in_2","amount_paid":2900,"currency":"usd","receipt_email":"A@B.com",
                                   "lines":{"data":[{"plan":{"nickname":"pro"}}]}}}}""");
        assertThat(renewal.event()).isEqualTo("subscription_renewed");
        assertThat(renewal.userId()).as("email as the key, hashed").startsWith("email_sha256:");
        assertThat(renewal.properties()).containsEntry("plan", "pro").containsEntry("amount", 29.0);
    }

    @Test
    void zendeskHubspotAndSalesforceMapThroughTheirConfig() {
        UnifiedEvent ticket = one("zendesk", """
                {"id":"zd-1","type":"ticket.created","time":"2026-03-02T11:00:00Z",
                 "detail":{"id":881,"priority":"high","subject":"Export fails","requester":{"external_id":"u7","email":"x@y.z"}}}""");
        assertThat(ticket.event()).isEqualTo("support_ticket_created");
        assertThat(ticket.userId()).isEqualTo("u7");
        assertThat(ticket.properties()).containsEntry("ticket_id", 881).containsEntry("priority", "high");

        MappingOutcome emails = mapper.map(raw("hubspot", """
                {"portalId":1,"events":[
                  {"eventId":"h1","eventType":"email.open","occurredAt":1772449200000,"contact":{"userId":"u9"},"campaign":"spring"},
                  {"eventId":"h2","eventType":"email.click","occurredAt":1772449260000,"contact":{"email":"U9@x.com"},
                   "campaign":"spring","url":"https://shop.example.com/c"},
                  {"eventId":"h3","eventType":"email.bounce","occurredAt":1772449260000,"contact":{"userId":"u9"}}]}"""));
        assertThat(emails.events()).extracting(UnifiedEvent::event).containsExactly("email_opened", "email_clicked");
        assertThat(emails.events().get(1).properties()).containsEntry("link", "https://shop.example.com/c");
        assertThat(emails.rejected()).extracting(MappingOutcome.Rejected::reason).containsExactly(RejectReason.UNMAPPED_PAYLOAD);

        UnifiedEvent contact = one("salesforce", """
                {"event":{"type":"updated","replayId":12,"createdDate":"2026-03-02T09:00:00.000+00:00"},
                 "sobject":{"External_Id__c":"u0000042","Email":"ann@corp.com","FirstName":"Ann","Account":{"Name":"Corp"}}}""");
        assertThat(contact.type()).isEqualTo(EventType.IDENTIFY);
        assertThat(contact.userId()).isEqualTo("u0000042");
        assertThat(contact.traits()).containsEntry("first_name", "Ann").containsEntry("company", "Corp")
                .containsEntry("email", "ann@corp.com");
    }

    static List<BadInputCorpus.Case> corpus() {
        return BadInputCorpus.cases();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void deadLettersEveryKindOfBadInputWithItsReason(BadInputCorpus.Case bad) {
        MappingOutcome outcome = mapper.map(new RawEvent(bad.payload(), bad.source(), RECEIVED));
        assertThat(outcome.events()).isEmpty();
        assertThat(outcome.rejected()).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(bad.reason());
            assertThat(r.detail()).isNotBlank();
        });
    }

    @Test
    void aTombstoneIsAnEmptyRecordNotAnEmptyPayload() {
        MappingOutcome outcome = mapper.map(new RawEvent(null, "web", RECEIVED));
        assertThat(outcome.events()).isEmpty();
        assertThat(outcome.rejected()).singleElement().satisfies(r -> assertThat(r.reason()).isEqualTo(RejectReason.EMPTY_RECORD));
    }

    @Test
    void eachCallOfABatchIsHeldToTheSizeOfOneCallOnItsOwn() {
        String small = "{\"type\":\"track\",\"event\":\"Product Viewed\",\"messageId\":\"m%d\",\"anonymousId\":\"a\"}";
        String big = "{\"type\":\"track\",\"event\":\"Product Viewed\",\"messageId\":\"big\",\"anonymousId\":\"a\","
                + "\"properties\":{\"blob\":\"" + "x".repeat(40_000) + "\"}}";
        String batch = "{\"batch\":[" + small.formatted(1) + "," + big + "," + small.formatted(2) + "]}";
        MappingOutcome outcome = mapper.map(raw("web", batch));
        assertThat(outcome.events()).extracting(UnifiedEvent::messageId).containsExactly("m1", "m2");
        assertThat(outcome.rejected()).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(RejectReason.OVERSIZED);
            assertThat(new String(r.payload(), StandardCharsets.UTF_8)).contains("\"big\"");
        });
        assertThat(mapper.map(raw("web", big)).rejected()).extracting(MappingOutcome.Rejected::reason)
                .containsExactly(RejectReason.OVERSIZED);
    }

    @Test
    void aBatchOfTenThousandCallsMapsEveryOne() {
        StringBuilder batch = new StringBuilder("{\"batch\":[");
        for (int i = 0; i < 10_000; i++) {
            batch.append(i == 0 ? "" : ",").append("{\"type\":\"track\",\"event\":\"Product Viewed\",\"messageId\":\"m")
                    .append(i).append("\",\"anonymousId\":\"a").append(i % 50).append("\"}");
        }
        MappingOutcome outcome = mapper.map(raw("web", batch.append("]}").toString()));
        assertThat(outcome.rejected()).isEmpty();
        assertThat(outcome.events()).hasSize(10_000);
    }

    @Test
    void wholeNumberIdsBecomeTheirDigits() {
        assertThat(one("web", "{\"type\":\"identify\",\"messageId\":\"m\",\"userId\":17850.0}").userId())
                .isEqualTo("17850");
        assertThat(one("web", "{\"type\":\"identify\",\"messageId\":7,\"userId\":17850}").messageId())
                .isEqualTo("7");
    }

    @Test
    void aGroupCallKeepsItsGroupId() {
        UnifiedEvent group = one("web", "{\"type\":\"group\",\"messageId\":\"m\",\"userId\":\"u1\",\"groupId\":\"acme\"}");
        assertThat(group.properties()).containsEntry("groupId", "acme");
    }

    @Test
    void theCorpusHasAtLeastFortyDistinctKinds() {
        assertThat(new HashSet<>(corpus().stream().map(BadInputCorpus.Case::name).toList())).hasSizeGreaterThanOrEqualTo(40);
        assertThat(corpus().stream().map(BadInputCorpus.Case::reason).distinct().count()).isGreaterThanOrEqualTo(14);
    }

    private UnifiedEvent one(String source, String json) {
        return one(mapper, source, json);
    }

    private static UnifiedEvent one(IngestMapper mapper, String source, String json) {
        MappingOutcome outcome = mapper.map(raw(source, json));
        assertThat(outcome.rejected()).as("rejections").isEmpty();
        assertThat(outcome.events()).hasSize(1);
        return outcome.events().get(0);
    }

    private static RawEvent raw(String source, String json) {
        return new RawEvent(json.getBytes(StandardCharsets.UTF_8), source, RECEIVED);
    }
}
