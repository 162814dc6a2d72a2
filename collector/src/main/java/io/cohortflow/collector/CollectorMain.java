package io.cohortflow.collector;

import java.util.concurrent.CountDownLatch;

/** {@code java -cp collector.jar io.cohortflow.collector.CollectorMain --bootstrap-servers H:P [options]}. */
public final class CollectorMain {
    private CollectorMain() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "log4j2-collector.properties");
        }
        CollectorOptions options;
        try {
            options = CollectorOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("usage: CollectorMain --bootstrap-servers H:P [--port 8088] [--host 0.0.0.0] "
                    + "[--write-keys FILE] [--webhooks FILE] [--topics-config FILE] [--topic.raw NAME] [--max-call-bytes 32768] "
                    + "[--max-batch-bytes 512000] [--produce-timeout 10s] [--rate-limit CALLS_PER_S]");
            System.exit(2);
            return;
        }
        Collector collector = Collector.start(options, WriteKeys.load(options.writeKeys()),
                Webhooks.load(options.webhooks(), System::getenv));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            collector.close();
            stopped.countDown();
        }, "collector-shutdown"));
        System.out.printf("collector listening on port %d (Ctrl-C drains and stops it)%n", collector.port());
        stopped.await();
    }
}
