package io.cohortflow.core.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the YAML files of conf/. A location is either a file path or {@code classpath:conf/NAME.yaml}; the shipped
 * defaults are on the classpath of every job jar.
 */
public final class ConfFiles {
    // Lower-case enum values read naturally in YAML ("unplanned: flag").
    static final ObjectMapper YAML = com.fasterxml.jackson.dataformat.yaml.YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(com.fasterxml.jackson.databind.MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .build();

    private static final String CLASSPATH = "classpath:";

    private ConfFiles() {
    }

    /** The location of a shipped default, e.g. {@code defaultLocation("topics.yaml")}. */
    public static String defaultLocation(String fileName) {
        return CLASSPATH + "conf/" + fileName;
    }

    public static <T> T read(String location, Class<T> type) {
        try (InputStream in = open(location)) {
            return YAML.readValue(in, type);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + location + ": " + e.getMessage(), e);
        }
    }

    private static InputStream open(String location) throws IOException {
        if (location.startsWith(CLASSPATH)) {
            String resource = location.substring(CLASSPATH.length());
            InputStream in = ConfFiles.class.getClassLoader().getResourceAsStream(resource);
            if (in == null) {
                throw new IOException("no classpath resource " + resource);
            }
            return in;
        }
        return Files.newInputStream(Path.of(location));
    }
}
