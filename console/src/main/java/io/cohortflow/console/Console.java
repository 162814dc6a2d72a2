package io.cohortflow.console;

import io.cohortflow.console.api.ConsoleApi;
import io.cohortflow.console.api.Definitions;
import io.cohortflow.console.api.Preview;
import io.cohortflow.console.api.Tokens;
import io.cohortflow.console.store.ConsoleStore;
import io.cohortflow.console.store.TopicFollower;
import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.segment.SegmentChangeCodec;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentDefinitionCodec;
import io.cohortflow.core.segment.SegmentRules;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The console service: follows segments.profiles, segments.changes and segments.definitions into its store, and
 * serves the API ({@link ConsoleApi}) and the pages ({@link io.cohortflow.console.web.Pages}) on one port.
 */
public final class Console implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Console.class);

    private final ConsoleOptions options;
    private final java.util.Set<String> eventNames;
    private final ConsoleStore store;
    private final Definitions definitions;
    private final Preview preview;
    private final KafkaProducer<byte[], byte[]> producer;
    private final List<TopicFollower> followers;
    private final Vertx vertx;
    private HttpServer server;

    private Console(ConsoleOptions options) {
        this.options = options;
        this.eventNames = new java.util.TreeSet<>(EventTaxonomy.defaults().canonicalNames());
        this.store = ConsoleStore.open(options.dataDir(), eventNames);
        this.definitions = new Definitions(SegmentRules.load(options.segments()));
        this.preview = new Preview(store, options.previewThreads());
        this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
                new ByteArraySerializer(), new ByteArraySerializer());
        TopicsConfig topics = options.topics();
        SegmentChangeCodec changes = new SegmentChangeCodec();
        SegmentDefinitionCodec definitionCodec = new SegmentDefinitionCodec();
        io.cohortflow.core.event.DeadLetterCodec deadLetters = new io.cohortflow.core.event.DeadLetterCodec();
        this.followers = List.of(
                new TopicFollower(options.bootstrapServers(), topics.name(TopicsConfig.PROFILES), store, true,
                        (batch, record) -> batch.profile(new String(record.key(), StandardCharsets.UTF_8),
                                record.value())),
                new TopicFollower(options.bootstrapServers(), topics.name(TopicsConfig.CHANGES), store, true,
                        (batch, record) -> batch.change(changes.decode(record.value()))),
                new TopicFollower(options.bootstrapServers(), topics.name(TopicsConfig.DLQ), store, true,
                        (batch, record) -> batch.deadLetter(deadLetters.decode(record.value()))),
                new TopicFollower(options.bootstrapServers(), topics.name(TopicsConfig.DEFINITIONS), store, false,
                        (batch, record) -> definitions.apply(record.value() == null
                                ? SegmentDefinition.tombstone(new String(record.key(), StandardCharsets.UTF_8))
                                : definitionCodec.decode(record.value())), definitions::reset));
        this.vertx = Vertx.vertx();
    }

    /** Starts following the topics and serving; returns once it listens (the store may still be catching up). */
    public static Console start(ConsoleOptions options) throws Exception {
        Tokens tokens = Tokens.load(options.tokens());
        if (tokens.isEmpty()) {
            LOG.warn("no API tokens in {}: every request will be refused (see conf/console/tokens.yaml)",
                    options.tokens());
        }
        Console console = new Console(options);
        try {
            console.followers.forEach(TopicFollower::start);
            console.listen(tokens);
            return console;
        } catch (Exception e) {
            console.close();
            throw e;
        }
    }

    private void listen(Tokens tokens) throws Exception {
        Router router = Router.router(vertx);
        String definitionsTopic = options.topics().name(TopicsConfig.DEFINITIONS);
        SegmentDefinitionCodec codec = new SegmentDefinitionCodec();
        ConsoleApi api = new ConsoleApi(store, definitions, preview, tokens,
                definition -> producer.send(new ProducerRecord<>(definitionsTopic,
                        definition.id().getBytes(StandardCharsets.UTF_8), codec.encode(definition)))
                        .get(10, TimeUnit.SECONDS),
                eventNames, this::caughtUp, models());
        api.mount(router);
        new io.cohortflow.console.web.Pages(tokens, options.registry()).mount(router);
        server = vertx.createHttpServer(new HttpServerOptions().setHost(options.host()).setPort(options.port())
                        .setCompressionSupported(true))
                .requestHandler(router).listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        LOG.info("console listening on {}:{} (store {})", options.host(), server.actualPort(), options.dataDir());
    }

    private io.cohortflow.console.api.ModelsApi models() {
        if (options.registry() == null) {
            return null;
        }
        return new io.cohortflow.console.api.ModelsApi(
                new io.cohortflow.registry.ModelRegistry(java.net.URI.create(options.registry())),
                new io.cohortflow.registry.Gate(options.gateMetric(), options.gateFloor(), options.gateMaxRegression()),
                options.bootstrapServers(), options.topics().name(TopicsConfig.MODELS),
                options.topics().name(TopicsConfig.PRIVACY_STATUS));
    }

    public int port() {
        return server.actualPort();
    }

    /**
     * Whether the store holds everything the topics had when the console started, and every follower is reading
     * (none is retrying after a failure): what readiness reports.
     */
    public boolean caughtUp() {
        return followers.stream().allMatch(f -> f.caughtUp() && f.failure().isEmpty());
    }

    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (TopicFollower follower : followers) {
            if (!follower.awaitCaughtUp(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
                return false;
            }
        }
        return true;
    }

    public ConsoleStore store() {
        return store;
    }

    @Override
    public void close() {
        if (server != null) {
            server.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
        }
        vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
        followers.forEach(TopicFollower::close);
        producer.close(Duration.ofSeconds(5));
        preview.close();
        store.close();
    }
}
