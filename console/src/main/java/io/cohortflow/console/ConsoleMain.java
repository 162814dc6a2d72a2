package io.cohortflow.console;

import java.util.concurrent.CountDownLatch;

/** {@code java -jar console-*-app.jar --bootstrap-servers H:P [options]} ({@link ConsoleOptions}). */
public final class ConsoleMain {
    private ConsoleMain() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "log4j2-console.properties");
        }
        ConsoleOptions options;
        try {
            options = ConsoleOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("usage: ConsoleMain --bootstrap-servers H:P [--data-dir console-data] [--port 8090]"
                    + " [--host 0.0.0.0] [--tokens FILE] [--segments FILE] [--registry DIR] [--topics-config FILE]"
                    + " [--preview-threads N]");
            System.exit(2);
            return;
        }
        Console console = Console.start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            console.close();
            stopped.countDown();
        }, "console-shutdown"));
        System.out.printf("console at http://localhost:%d/ (Ctrl-C stops it)%n", console.port());
        stopped.await();
    }
}
