package io.cohortflow.simulator;

/** Where deliveries go: a Kafka topic or JSON-lines files. */
public interface DeliverySink extends AutoCloseable {
    void send(Delivery delivery);

    /** Blocks until everything sent so far is durably written. */
    void flush();

    @Override
    void close();
}
