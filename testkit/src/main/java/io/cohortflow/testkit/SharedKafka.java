package io.cohortflow.testkit;

import io.cohortflow.kafka.local.LocalKafkaBroker;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One real Kafka broker (KRaft, in-process, loopback) shared by every test class of a test JVM, started on first use
 * and stopped when the JUnit run ends. Tests get it as a {@link LocalKafkaBroker} parameter or from {@link #broker()}.
 * Each test uses its own topic names (see {@link KafkaTestSupport#uniqueTopics}) so tests do not see each other's data.
 */
public final class SharedKafka implements BeforeAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SharedKafka.class);

    private static volatile LocalKafkaBroker broker;

    /** Holds the broker in the root context so JUnit closes it after the last test class. */
    private record Holder(LocalKafkaBroker broker) implements AutoCloseable {
        @Override
        public void close() {
            SharedKafka.broker = null;
            broker.close();
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(Holder.class, k -> {
            LocalKafkaBroker started = LocalKafkaBroker.start();
            System.out.printf("[testkit] Kafka broker started at %s in %d ms%n", started.bootstrapServers(),
                    started.startupTime().toMillis());
            broker = started;
            return new Holder(started);
        }, Holder.class);
    }

    public static LocalKafkaBroker broker() {
        LocalKafkaBroker current = broker;
        if (current == null) {
            throw new IllegalStateException("annotate the test class with @ExtendWith(SharedKafka.class)");
        }
        return current;
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LocalKafkaBroker.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return broker();
    }
}
