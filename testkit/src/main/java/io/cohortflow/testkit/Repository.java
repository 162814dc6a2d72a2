package io.cohortflow.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files of this repository, for tests that check shipped configuration and deployment files. */
public final class Repository {
    private Repository() {
    }

    /** The repository root: the nearest directory above the working directory holding conf/topics.yaml. */
    public static Path root() {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("conf/topics.yaml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no repository root (conf/topics.yaml) above " + here);
    }

    public static Path conf() {
        return root().resolve("conf");
    }

    /**
     * The lines of the README's bash block that contains {@code marker}, continuation lines joined: for tests that run
     * the README's commands as written.
     */
    public static java.util.List<String> readmeBashBlock(String marker) {
        String readme;
        try {
            readme = Files.readString(root().resolve("README.md"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        java.util.regex.Matcher blocks = java.util.regex.Pattern.compile("```bash\\n(.*?)```",
                java.util.regex.Pattern.DOTALL).matcher(readme);
        while (blocks.find()) {
            String body = blocks.group(1);
            if (body.contains(marker)) {
                return java.util.List.of(body.replace("\\\n", " ").strip().split("\n"));
            }
        }
        throw new AssertionError("no bash block with " + marker + " in the README");
    }
}
