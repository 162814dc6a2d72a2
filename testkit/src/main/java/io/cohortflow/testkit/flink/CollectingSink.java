package io.cohortflow.testkit.flink;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A sink that keeps what it receives in memory, for jobs run on a MiniCluster in the test's own JVM. A sink is
 * serialized into the job graph, so its writers append to a list found by the sink's id; {@link #values()} reads it
 * after the job finished. Subtasks append concurrently; the order within one subtask is kept.
 */
public final class CollectingSink<T> implements Sink<T> {
    private static final long serialVersionUID = 1L;
    private static final Map<String, List<Object>> RECEIVED = new ConcurrentHashMap<>();

    private final String id = UUID.randomUUID().toString();

    public CollectingSink() {
        RECEIVED.put(id, Collections.synchronizedList(new ArrayList<>()));
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) {
        List<Object> received = RECEIVED.get(id);
        return new SinkWriter<>() {
            @Override
            public void write(T element, Context context) {
                received.add(element);
            }

            @Override
            public void flush(boolean endOfInput) {
            }

            @Override
            public void close() {
            }
        };
    }

    /** What every writer received so far. */
    @SuppressWarnings("unchecked")
    public List<T> values() {
        synchronized (RECEIVED.get(id)) {
            return List.copyOf((List<T>) (List<?>) RECEIVED.get(id));
        }
    }
}
