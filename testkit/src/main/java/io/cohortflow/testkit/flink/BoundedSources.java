package io.cohortflow.testkit.flink;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.datagen.functions.FromElementsGeneratorFunction;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;

import java.util.List;

/**
 * Bounded sources of given elements, for running a job through its {@code Io} seam without Kafka. Elements are
 * emitted in list order by one reader; with a parallelism above one the list is split into contiguous ranges, so keep
 * such sources at parallelism 1 when order matters. At the end of input the watermark jumps to the end of time, so
 * every event-time timer fires, as at the end of a bounded Kafka read.
 */
public final class BoundedSources {
    private BoundedSources() {
    }

    @SuppressWarnings("unchecked")
    public static <T> Source<T, ?, ?> of(TypeInformation<T> type, List<T> elements) {
        if (elements.isEmpty()) {
            return empty(type);
        }
        T[] array = (T[]) elements.toArray();
        return new DataGeneratorSource<>(new FromElementsGeneratorFunction<>(type, array), array.length, type);
    }

    public static <T> Source<T, ?, ?> empty(TypeInformation<T> type) {
        return new EmptySource<>(type);
    }
}
