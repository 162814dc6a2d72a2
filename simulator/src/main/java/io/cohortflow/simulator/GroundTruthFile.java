package io.cohortflow.simulator;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** The ground truth as JSON lines, one {@link GroundTruth} per person. */
public final class GroundTruthFile {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private GroundTruthFile() {
    }

    public static void write(Path file, List<GroundTruth> truth) {
        write(file, truth, false);
    }

    /** Adds {@code truth} at the end of the file (a part of the population, after the parts before it). */
    public static void append(Path file, List<GroundTruth> truth) {
        write(file, truth, true);
    }

    private static void write(Path file, List<GroundTruth> truth, boolean append) {
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            try (BufferedWriter out = append
                    ? Files.newBufferedWriter(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)
                    : Files.newBufferedWriter(file)) {
                for (GroundTruth t : truth) {
                    out.write(MAPPER.writeValueAsString(t));
                    out.newLine();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<GroundTruth> read(Path file) {
        try {
            List<GroundTruth> truth = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank()) {
                    truth.add(MAPPER.readValue(line, GroundTruth.class));
                }
            }
            return truth;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
