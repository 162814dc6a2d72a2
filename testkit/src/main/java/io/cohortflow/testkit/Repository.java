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
}
