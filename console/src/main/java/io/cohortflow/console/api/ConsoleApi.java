package io.cohortflow.console.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.cohortflow.console.store.ConsoleStore;
import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentRules;
import io.vertx.core.http.Cookie;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The console's HTTP API, under {@code /v1}. Every route but {@code /v1/health} needs a token, as
 * {@code Authorization: Bearer TOKEN} or the pages' session cookie; a read token reads, previews and explains, a
 * write token also publishes and deletes. Errors are JSON: {@code {"error": "...", ...}}.
 *
 * <pre>
 * GET    /v1/health                          caught up with the topics? about how many profiles are held
 *        /healthz, /readyz                   probes: alive; ready once the store caught up (503 before)
 * GET    /v1/catalog                         every variable a condition may read: type, meaning, example; event names
 * GET    /v1/profiles/{id}                   features, scores, persona, memberships with ENTER times, traits
 *                                            (an id merged into a user resolves to the user)
 * GET    /v1/profiles/{id}/changes?limit=N   the membership history, oldest first (default the latest 100)
 * GET    /v1/profiles/{id}/explain/{segment} each clause of the segment's condition with its value for the person
 * GET    /v1/segments                        the running definitions with their sizes
 * GET    /v1/segments/{id}                   one, with its size
 * GET    /v1/segments/{id}/sizes             its size at the end of each hour it changed in
 * PUT    /v1/segments/{id}                   {name, condition, description}: validated, published (write)
 * DELETE /v1/segments/{id}                   published as a deletion: its members EXIT (write)
 * POST   /v1/validate                        {condition}: problems with line and column, variables read
 * POST   /v1/preview                         {condition}: matches now, a sample with values, overlap
 * GET    /v1/models                          the registry's versions, metrics, provenance, promotions
 * GET    /v1/models/versions/{v}/report      the training report of a version (HTML)
 * POST   /v1/models/promote                  {version, reason}: through the gate, announced (write)
 * POST   /v1/models/rollback                 back to the version promoted before (write)
 * GET    /v1/dead-letters                    counts by reason and hour, totals, the latest samples of each reason
 * </pre>
 */
public final class ConsoleApi {
    /** The cookie the pages keep the token in (HttpOnly, SameSite=Strict). */
    public static final String COOKIE = "cohortflow_token";
    private static final String ACCESS = "access";
    private static final int MAX_HOPS = 8;

    private final ObjectMapper json = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    private final ConsoleStore store;
    private final Definitions definitions;
    private final Preview preview;
    private final Tokens tokens;
    private final Publisher publisher;
    private final Set<String> eventNames;
    private final java.util.function.BooleanSupplier caughtUp;
    private final ModelsApi models;

    /** Publishes a definition (or a deletion) to segments.definitions and returns once Kafka has it. */
    @FunctionalInterface
    public interface Publisher {
        void publish(SegmentDefinition definition) throws Exception;
    }

    public ConsoleApi(ConsoleStore store, Definitions definitions, Preview preview, Tokens tokens, Publisher publisher,
                      Set<String> eventNames, java.util.function.BooleanSupplier caughtUp, ModelsApi models) {
        this.models = models;
        this.store = store;
        this.definitions = definitions;
        this.preview = preview;
        this.tokens = tokens;
        this.publisher = publisher;
        this.eventNames = Set.copyOf(eventNames);
        this.caughtUp = caughtUp;
    }

    public void mount(Router router) {
        router.route("/v1/*").handler(BodyHandler.create().setBodyLimit(64 * 1024));
        router.get("/v1/health").handler(ctx -> send(ctx, 200, Map.of("caughtUp", caughtUp.getAsBoolean(),
                "profilesEstimate", store.estimatedProfiles())));
        // Probes, open as the health route: alive, and ready once the store caught up with the topics.
        router.get("/healthz").handler(ctx -> ctx.response().end("ok"));
        router.get("/readyz").handler(ctx -> ctx.response().setStatusCode(caughtUp.getAsBoolean() ? 200 : 503)
                .end(caughtUp.getAsBoolean() ? "ready" : "catching up with the topics"));
        router.route("/v1/*").handler(this::authenticate);
        router.route("/v1/*").handler(this::sameOrigin);
        router.route("/v1/*").failureHandler(ctx -> send(ctx, ctx.statusCode() > 0 ? ctx.statusCode() : 500,
                Map.of("error", ctx.failure() == null ? "request failed" : String.valueOf(ctx.failure()))));
        router.get("/v1/catalog").handler(ctx -> send(ctx, 200, catalog()));
        router.get("/v1/profiles/:id").blockingHandler(ctx -> profile(ctx), false);
        router.get("/v1/profiles/:id/changes").blockingHandler(ctx -> changes(ctx), false);
        router.get("/v1/profiles/:id/explain/:segment").blockingHandler(ctx -> explain(ctx), false);
        router.get("/v1/segments").blockingHandler(ctx -> send(ctx, 200, segments()), false);
        router.get("/v1/segments/:id").blockingHandler(ctx -> segment(ctx), false);
        router.get("/v1/segments/:id/sizes").blockingHandler(ctx -> send(ctx, 200,
                store.sizeOverTime(ctx.pathParam("id"))), false);
        router.put("/v1/segments/:id").handler(this::requireWrite).blockingHandler(ctx -> put(ctx), false);
        router.delete("/v1/segments/:id").handler(this::requireWrite).blockingHandler(ctx -> delete(ctx), false);
        router.post("/v1/validate").blockingHandler(ctx -> validate(ctx), false);
        router.post("/v1/preview").blockingHandler(ctx -> preview(ctx), false);
        router.get("/v1/models").blockingHandler(ctx -> withModels(ctx, () -> send(ctx, 200, models.list())), false);
        router.get("/v1/models/versions/:version/report").blockingHandler(ctx -> withModels(ctx, () -> {
            int version;
            try {
                version = Integer.parseInt(ctx.pathParam("version"));
            } catch (NumberFormatException e) {
                send(ctx, 400, Map.of("error", "a version is a number"));
                return;
            }
            models.report(version).ifPresentOrElse(html -> ctx.response().putHeader("Content-Type",
                            "text/html; charset=utf-8").putHeader("Content-Security-Policy", "default-src 'none'; "
                            + "style-src 'unsafe-inline'; img-src data:").end(io.vertx.core.buffer.Buffer.buffer(html)),
                    () -> send(ctx, 404, Map.of("error", "version " + version + " has no training report")));
        }), false);
        router.post("/v1/models/promote").handler(this::requireWrite).blockingHandler(ctx -> promote(ctx), false);
        router.post("/v1/models/rollback").handler(this::requireWrite).blockingHandler(ctx -> withModels(ctx,
                () -> outcome(ctx, models.rollback())), false);
        router.get("/v1/dead-letters").blockingHandler(ctx -> deadLetters(ctx), false);
        router.route("/v1/*").handler(ctx -> send(ctx, 404, Map.of("error", "no route " + ctx.request().method()
                + " " + ctx.request().path())));
    }

    /**
     * Requests that change something or read a body come as JSON, and a browser's only from the console's own pages:
     * a form of another site cannot ride the session cookie (a form can post text/plain, not application/json, and
     * the browser says where a request comes from in Sec-Fetch-Site, or Origin).
     */
    private void sameOrigin(RoutingContext ctx) {
        io.vertx.core.http.HttpMethod method = ctx.request().method();
        if (method == io.vertx.core.http.HttpMethod.GET || method == io.vertx.core.http.HttpMethod.HEAD) {
            ctx.next();
            return;
        }
        String type = ctx.request().getHeader("Content-Type");
        if (ctx.body() != null && ctx.body().length() > 0
                && (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json"))) {
            send(ctx, 415, Map.of("error", "send JSON, with Content-Type: application/json"));
            return;
        }
        if (!fromThisSite(ctx)) {
            send(ctx, 403, Map.of("error", "a request from another site"));
            return;
        }
        ctx.next();
    }

    /** Whether a browser's request comes from the console's own pages (a request that is not a browser's does). */
    public static boolean fromThisSite(RoutingContext ctx) {
        String site = ctx.request().getHeader("Sec-Fetch-Site");
        if (site != null) {
            return site.equals("same-origin") || site.equals("none");
        }
        String origin = ctx.request().getHeader("Origin");
        String host = ctx.request().getHeader("Host");
        return origin == null || host != null && (origin.equals("http://" + host) || origin.equals("https://" + host));
    }

    // ---- models and dead letters -------------------------------------------------------------------------------

    private void withModels(RoutingContext ctx, Runnable then) {
        if (models == null) {
            send(ctx, 404, Map.of("error", "this console has no model registry (--registry)"));
            return;
        }
        try {
            then.run();
        } catch (IllegalStateException | IllegalArgumentException | java.io.UncheckedIOException e) {
            send(ctx, 409, Map.of("error", String.valueOf(e.getMessage())));
        }
    }

    private void promote(RoutingContext ctx) {
        JsonNode body = body(ctx);
        if (body == null) {
            return;
        }
        if (body.get("version") == null || !body.get("version").canConvertToInt()) {
            send(ctx, 400, Map.of("error", "a version number is required"));
            return;
        }
        withModels(ctx, () -> outcome(ctx, models.promote(body.get("version").asInt(), text(body, "reason", null))));
    }

    private void outcome(RoutingContext ctx, ModelsApi.Outcome outcome) {
        send(ctx, outcome.promoted() ? 200 : 409, outcome);
    }

    private void deadLetters(RoutingContext ctx) {
        Map<String, Map<Long, Long>> byHour = store.deadLettersByHour();
        Map<String, Long> totals = new java.util.TreeMap<>();
        byHour.forEach((reason, hours) -> totals.put(reason, hours.values().stream().mapToLong(Long::longValue).sum()));
        send(ctx, 200, Map.of("totals", totals, "byHour", byHour, "samples", store.deadLetterSamples()));
    }

    // ---- auth ---------------------------------------------------------------------------------------------------

    private void authenticate(RoutingContext ctx) {
        Optional<Tokens.Token> token = tokens.check(presented(ctx));
        if (token.isEmpty()) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
            send(ctx, 401, Map.of("error", "a valid API token is required (Authorization: Bearer TOKEN)"));
            return;
        }
        ctx.put(ACCESS, token.get().access());
        ctx.next();
    }

    /** The token a request presents: its bearer header, else the pages' cookie. */
    public static String presented(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return header.substring(7).trim();
        }
        Cookie cookie = ctx.request().getCookie(COOKIE);
        return cookie == null ? null : cookie.getValue();
    }

    private void requireWrite(RoutingContext ctx) {
        if (ctx.get(ACCESS) != Tokens.Access.WRITE) {
            send(ctx, 403, Map.of("error", "this token is read-only; publishing and deleting need a write token"));
            return;
        }
        ctx.next();
    }

    // ---- catalog and segments ----------------------------------------------------------------------------------

    private Map<String, Object> catalog() {
        return Map.of("variables", SegmentRules.catalog(), "events", eventNames.stream().sorted().toList());
    }

    private List<Map<String, Object>> segments() {
        Map<String, Long> sizes = store.sizes();
        List<Map<String, Object>> out = new ArrayList<>();
        for (Definitions.Entry entry : definitions.all()) {
            out.add(segmentJson(entry, sizes.getOrDefault(entry.definition().id(), 0L)));
        }
        return out;
    }

    private static Map<String, Object> segmentJson(Definitions.Entry entry, long size) {
        SegmentDefinition d = entry.definition();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", d.id());
        out.put("name", d.name());
        out.put("condition", d.condition());
        out.put("description", d.description());
        out.put("source", entry.source());
        out.put("size", size);
        return out;
    }

    private void segment(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        definitions.get(id).ifPresentOrElse(
                entry -> send(ctx, 200, segmentJson(entry, store.sizes().getOrDefault(id, 0L))),
                () -> send(ctx, 404, Map.of("error", "no segment " + id)));
    }

    private void put(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        JsonNode body = body(ctx);
        if (body == null) {
            return;
        }
        SegmentDefinition definition;
        try {
            definition = new SegmentDefinition(id, text(body, "name", id), text(body, "condition", null),
                    text(body, "description", null), false);
        } catch (IllegalArgumentException | NullPointerException e) {
            send(ctx, 400, Map.of("error", String.valueOf(e.getMessage())));
            return;
        }
        if (compiled(ctx, definition).isEmpty()) {
            return;
        }
        publish(ctx, definition, () -> {
            definitions.apply(definition);
            send(ctx, 200, segmentJson(new Definitions.Entry(definition, "topic"),
                    store.sizes().getOrDefault(id, 0L)));
        });
    }

    private void delete(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        if (definitions.get(id).isEmpty()) {
            send(ctx, 404, Map.of("error", "no segment " + id));
            return;
        }
        SegmentDefinition deletion = SegmentDefinition.tombstone(id);
        publish(ctx, deletion, () -> {
            definitions.apply(deletion);
            send(ctx, 200, Map.of("deleted", id));
        });
    }

    private void publish(RoutingContext ctx, SegmentDefinition definition, Runnable then) {
        try {
            publisher.publish(definition);
        } catch (Exception e) {
            send(ctx, 503, Map.of("error", "could not publish to segments.definitions: " + e.getMessage()));
            return;
        }
        then.run();
    }

    private void validate(RoutingContext ctx) {
        JsonNode body = body(ctx);
        if (body == null) {
            return;
        }
        try {
            SegmentRules.Compiled compiled = SegmentRules.compile(draft(text(body, "condition", "")));
            send(ctx, 200, Map.of("valid", true, "variables", compiled.variables().stream().sorted().toList()));
        } catch (SegmentRules.InvalidCondition e) {
            send(ctx, 200, Map.of("valid", false, "problems", e.problems()));
        } catch (IllegalArgumentException e) {
            send(ctx, 200, Map.of("valid", false, "problems", List.of(new SegmentRules.Problem(e.getMessage(), 0, 0))));
        }
    }

    private void preview(RoutingContext ctx) {
        JsonNode body = body(ctx);
        if (body == null) {
            return;
        }
        compiled(ctx, draft(text(body, "condition", ""))).ifPresent(draft -> send(ctx, 200, preview.run(draft)));
    }

    /** A condition under edit, compiled under a placeholder id. */
    private static SegmentDefinition draft(String condition) {
        return new SegmentDefinition("draft", "Draft", condition, null, false);
    }

    /** The definition compiled; if it does not compile, answers 400 with the compiler's problems and positions. */
    private Optional<SegmentRules.Compiled> compiled(RoutingContext ctx, SegmentDefinition definition) {
        if (definition.condition() == null || definition.condition().isBlank()) {
            send(ctx, 400, Map.of("error", "a condition is required"));
            return Optional.empty();
        }
        try {
            return Optional.of(SegmentRules.compile(definition));
        } catch (SegmentRules.InvalidCondition e) {
            send(ctx, 400, Map.of("error", "invalid condition", "problems", e.problems()));
        } catch (IllegalArgumentException e) {
            send(ctx, 400, Map.of("error", String.valueOf(e.getMessage())));
        }
        return Optional.empty();
    }

    // ---- profiles -----------------------------------------------------------------------------------------------

    /** The person an id stands for: its profile, or the profile of the user it merged into (followed). */
    private record Resolved(SegmentProfile profile, String asked) {
    }

    private Optional<Resolved> resolve(String id) {
        Optional<SegmentProfile> profile = store.profile(id);
        for (int hop = 0; hop < MAX_HOPS && profile.isPresent() && profile.get().mergedInto() != null; hop++) {
            Optional<SegmentProfile> next = store.profile(profile.get().mergedInto());
            if (next.isEmpty()) {
                break; // the user's first profile is not in yet: show the last word of the id
            }
            profile = next;
        }
        return profile.map(p -> new Resolved(p, id));
    }

    private void withProfile(RoutingContext ctx, Consumer<Resolved> then) {
        String id = ctx.pathParam("id");
        resolve(id).ifPresentOrElse(then, () -> send(ctx, 404, Map.of("error", "no profile for " + id)));
    }

    private void profile(RoutingContext ctx) {
        withProfile(ctx, resolved -> {
            SegmentProfile p = resolved.profile();
            Map<String, Long> entered = store.enteredAt(p.userId(), p.segments());
            List<Map<String, Object>> memberships = new ArrayList<>();
            for (String segment : p.segments()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("segmentId", segment);
                m.put("name", definitions.get(segment).map(e -> e.definition().name()).orElse(segment));
                m.put("kind", segment.startsWith(UserSegments.PERSONA_PREFIX) ? "persona" : "rule");
                m.put("enteredAt", entered.get(segment));
                memberships.add(m);
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("userId", p.userId());
            out.put("resolvedFrom", resolved.asked().equals(p.userId()) ? null : resolved.asked());
            out.put("asOf", p.asOf());
            out.put("memberships", memberships);
            out.put("features", p.features());
            out.put("scores", p.scores());
            out.put("persona", p.persona());
            out.put("model", p.model());
            out.put("traits", p.traits());
            out.put("inputs", p.inputs());
            send(ctx, 200, out);
        });
    }

    private void changes(RoutingContext ctx) {
        int limit;
        try {
            limit = Math.max(1, Math.min(10_000, Integer.parseInt(ctx.queryParams().get("limit") == null ? "100"
                    : ctx.queryParams().get("limit"))));
        } catch (NumberFormatException e) {
            send(ctx, 400, Map.of("error", "limit must be a number"));
            return;
        }
        int max = limit;
        withProfile(ctx, resolved -> {
            List<SegmentChange> history = store.changes(resolved.profile().userId(), max);
            send(ctx, 200, Map.of("userId", resolved.profile().userId(), "changes", history));
        });
    }

    private void explain(RoutingContext ctx) {
        String segmentId = ctx.pathParam("segment");
        Optional<Definitions.Entry> entry = definitions.get(segmentId);
        if (entry.isEmpty()) {
            send(ctx, 404, Map.of("error", "no segment " + segmentId));
            return;
        }
        withProfile(ctx, resolved -> {
            SegmentProfile p = resolved.profile();
            Optional<Map<String, Object>> variables = store.variables(p);
            if (variables.isEmpty()) {
                send(ctx, 409, Map.of("error", "the profile of " + p.userId() + " carries no rule inputs to explain"));
                return;
            }
            SegmentRules.Compiled compiled = SegmentRules.compile(entry.get().definition());
            Map<String, Object> inputs = new LinkedHashMap<>();
            compiled.variables().stream().sorted().forEach(v -> inputs.put(v, variables.get().get(v)));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("userId", p.userId());
            out.put("segmentId", segmentId);
            out.put("name", entry.get().definition().name());
            out.put("condition", entry.get().definition().condition());
            out.put("asOf", p.asOf());
            out.put("matches", SegmentRules.matches(compiled, variables.get()));
            out.put("member", p.segments().contains(segmentId));
            out.put("clauses", SegmentRules.clauses(compiled, variables.get()));
            out.put("inputs", inputs);
            send(ctx, 200, out);
        });
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private JsonNode body(RoutingContext ctx) {
        try {
            JsonNode node = json.readTree(ctx.body().asString() == null ? "" : ctx.body().asString());
            if (node == null || !node.isObject()) {
                send(ctx, 400, Map.of("error", "the body must be a JSON object"));
                return null;
            }
            return node;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            send(ctx, 400, Map.of("error", "the body is not JSON: " + e.getOriginalMessage()));
            return null;
        }
    }

    private static String text(JsonNode body, String field, String fallback) {
        JsonNode node = body.get(field);
        return node == null || node.isNull() ? fallback : node.asText();
    }

    private void send(RoutingContext ctx, int status, Object body) {
        try {
            ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8")
                    .putHeader("Cache-Control", "no-store").end(json.writeValueAsString(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            ctx.fail(e);
        }
    }
}
