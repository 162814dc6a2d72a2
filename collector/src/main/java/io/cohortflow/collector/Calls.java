package io.cohortflow.collector;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one request to the Tracking API carries, as the records events.raw gets: one per call, so that each call can
 * fail alone downstream (ingest judges every call and dead-letters a bad one with its reason).
 *
 * <ul>
 *   <li>{@code /v1/track}, {@code identify}, {@code page}, {@code screen}, {@code group}, {@code alias}: the body
 *       is one call; its {@code type} is the route's when it has none.</li>
 *   <li>{@code /v1/batch} and {@code /v1/import}: {@code {"batch": [call, ...], "sentAt", "context"}}. Each call
 *       gets the envelope's {@code sentAt} and {@code context} where it has none of its own (its own context keys
 *       win), so it reads the same alone.</li>
 *   <li>analytics.js's short routes: {@code /v1/t}, {@code i}, {@code p}, {@code s}, {@code g}, {@code a} and
 *       {@code b} (its batching dispatcher).</li>
 * </ul>
 * Each call's {@code receivedAt} is the collector's receive time. The write key never goes downstream. A record's
 * key is the call's anonymousId, else its userId: one device's calls share a partition and keep their order, as
 * ingest expects.
 *
 * <p>The body is read once with a streaming parser, which checks all of it and notes where each member of the body
 * and of each call begins and ends. A call's record is then its own bytes, member by member, without the members
 * the collector sets or drops, plus the ones it adds: no tree is built and nothing is printed again, which is most
 * of what a request costs the collector (JSON trees took 43% of its event loop under load). Only a call whose own
 * {@code context} must be merged with the envelope's goes through a tree.
 */
final class Calls {
    static final Set<String> SINGLE = Set.of("track", "identify", "page", "screen", "group", "alias");
    static final Set<String> BATCH = Set.of("batch", "import");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory FACTORY = JSON.getFactory();

    /** One record for events.raw. */
    record Call(String key, byte[] payload) {
    }

    /** A request the collector refuses as a whole, with the reason for its 400. */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * One member of an object: its name, its place among the object's members, where it begins (the name's opening
     * quote, a byte offset into the body) and its value's first token. {@code text} is the value's text for the
     * members the collector reads ({@code anonymousId}, {@code userId}, {@code writeKey}) when it is a string or a
     * number, else null. {@code collectors}: a member the collector sets itself ({@code writeKey}, {@code receivedAt}),
     * never passed on as sent.
     */
    private record Member(String name, int index, int start, JsonToken value, String text, boolean collectors) {
    }

    /**
     * A value of the body: where it begins and ends (exclusive), and for an object its members in order, with the last
     * of each name the collector reads (the last one wins, as in a tree).
     */
    private static final class Value {
        final int start;
        int end;
        final List<Member> members;
        Member anonymousId;
        Member userId;
        Member writeKey;
        Member type;
        Member sentAt;
        Member context;

        Value(int start, List<Member> members) {
            this.start = start;
            this.members = members;
        }

        void add(Member member) {
            members.add(member);
            switch (member.name) {
                case "anonymousId" -> anonymousId = member;
                case "userId" -> userId = member;
                case "writeKey" -> writeKey = member;
                case "type" -> type = member;
                case "sentAt" -> sentAt = member;
                case "context" -> context = member;
                default -> {
                }
            }
        }

        /**
         * Where the member ends: before the spaces and comma ahead of the next member's name, or the spaces ahead of
         * the closing brace. The parser has checked that only those lie between, so nothing needs the value's end.
         */
        int end(byte[] bytes, Member member) {
            int end = member.index + 1 < members.size() ? members.get(member.index + 1).start : this.end - 1;
            end = skipSpaceBack(bytes, end);
            if (member.index + 1 < members.size()) {
                end = skipSpaceBack(bytes, end - 1); // the comma
            }
            return end;
        }

        /** Where the member's value begins: past its name, the colon and the spaces around it. */
        static int valueStart(byte[] bytes, Member member) {
            int i = member.start + 1;
            while (bytes[i] != '"') {
                i += bytes[i] == '\\' ? 2 : 1;
            }
            i = skipSpace(bytes, i + 1);
            return skipSpace(bytes, i + 1); // past the colon
        }

        private static int skipSpace(byte[] bytes, int i) {
            while (isSpace(bytes[i])) {
                i++;
            }
            return i;
        }

        private static int skipSpaceBack(byte[] bytes, int end) {
            while (isSpace(bytes[end - 1])) {
                end--;
            }
            return end;
        }

        private static boolean isSpace(byte b) {
            return b == ' ' || b == '\n' || b == '\r' || b == '\t';
        }
    }

    /** A request's body, read and checked: a JSON object, and the calls of its {@code batch} array if it has one. */
    static final class Body {
        private final byte[] bytes;
        private final Value root;
        private final List<Value> batch;

        private Body(byte[] bytes, Value root, List<Value> batch) {
            this.bytes = bytes;
            this.root = root;
            this.batch = batch;
        }
    }

    private Calls() {
    }

    /** The body, checked to be one JSON object (and nothing after it), else refused. */
    static Body parse(byte[] body) throws Refused {
        try (JsonParser parser = FACTORY.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new Refused("the body must be a JSON object");
            }
            if (parser.currentTokenLocation().getByteOffset() < 0) {
                // Jackson detected UTF-16 or UTF-32 and reads characters: records are copied by byte offsets.
                throw new Refused("the body must be UTF-8");
            }
            List<Value> batch = null;
            Value root = new Value(offset(parser.currentTokenLocation().getByteOffset()), new ArrayList<>());
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                int start = offset(parser.currentTokenLocation().getByteOffset());
                JsonToken token = parser.nextToken();
                if (name.equals("batch") && token == JsonToken.START_ARRAY) {
                    batch = new ArrayList<>();
                    while (parser.nextToken() != JsonToken.END_ARRAY) {
                        batch.add(item(parser));
                    }
                    root.add(new Member(name, root.members.size(), start, token, null, false));
                } else {
                    root.add(member(parser, name, root.members.size(), start, token));
                }
            }
            root.end = end(parser);
            if (parser.nextToken() != null) {
                throw new Refused("the body has more after its JSON object");
            }
            return new Body(body, root, batch);
        } catch (JsonProcessingException e) {
            throw new Refused("the body is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new Refused("the body could not be read: " + e.getMessage());
        }
    }

    /** The batch's item at the parser's current token: a call (an object) with its members, or anything else. */
    private static Value item(JsonParser parser) throws IOException {
        int start = offset(parser.currentTokenLocation().getByteOffset());
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            if (parser.currentToken().isStructStart()) {
                parser.skipChildren();
            } else {
                parser.finishToken();
            }
            Value other = new Value(start, null);
            other.end = end(parser);
            return other;
        }
        Value call = new Value(start, new ArrayList<>(12));
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            int memberStart = offset(parser.currentTokenLocation().getByteOffset());
            call.add(member(parser, name, call.members.size(), memberStart, parser.nextToken()));
        }
        call.end = end(parser);
        return call;
    }

    /**
     * A member whose value is the parser's current token; the parser moves past an object or array value, a string is
     * skipped (not decoded) at the next token.
     */
    private static Member member(JsonParser parser, String name, int index, int start, JsonToken token)
            throws IOException {
        boolean read = name.equals("anonymousId") || name.equals("userId") || name.equals("writeKey");
        String text = read && (token == JsonToken.VALUE_STRING || token.isNumeric()) ? parser.getText() : null;
        if (token.isStructStart()) {
            parser.skipChildren();
        }
        return new Member(name, index, start, token, text, name.equals("writeKey") || name.equals("receivedAt"));
    }

    private static int end(JsonParser parser) {
        return offset(parser.currentLocation().getByteOffset());
    }

    private static int offset(long offset) {
        if (offset < 0 || offset > Integer.MAX_VALUE) {
            throw new IllegalStateException("the parser does not know its byte offset");
        }
        return (int) offset;
    }

    /** The body's own write key ({@code writeKey}), if it carries one. */
    static String writeKey(Body body) {
        Member key = body.root.writeKey;
        return key != null && key.value == JsonToken.VALUE_STRING ? key.text : null;
    }

    /** How many calls the body carries (for the rate limit). */
    static int count(String route, Body body) {
        return BATCH.contains(route) && body.batch != null ? body.batch.size() : 1;
    }

    /**
     * The records of a request to {@code route} received at {@code receivedAt} (epoch ms), which each call gets as its
     * {@code receivedAt}, whatever it said itself: the receive time is the collector's to set, as Segment's API sets
     * it, since ingest corrects device clocks with it.
     */
    static List<Call> split(String route, Body body, long receivedAt) throws Refused {
        String receivedText = java.time.Instant.ofEpochMilli(receivedAt).toString();
        byte[] received = ("\"receivedAt\":\"" + receivedText + '"').getBytes(StandardCharsets.UTF_8);
        if (SINGLE.contains(route)) {
            Value call = body.root;
            boolean untyped = call.type == null || call.type.value == JsonToken.VALUE_NULL;
            Out out = new Out(body.bytes, call.end - call.start + received.length + 32);
            out.call(call, untyped, received, untyped ? ("\"type\":\"" + route + '"').getBytes(StandardCharsets.UTF_8) : null);
            return List.of(new Call(key(call), out.bytes()));
        }
        if (body.batch == null) {
            throw new Refused("a batch needs a \"batch\" array of calls");
        }
        Member sentAt = body.root.sentAt;
        Member context = body.root.context;
        byte[] sharedSentAt = sentAt == null ? null : member(body, "sentAt", sentAt);
        boolean sharedContext = context != null && context.value == JsonToken.START_OBJECT;
        byte[] contextBytes = sharedContext ? member(body, "context", context) : null;
        List<Call> calls = new ArrayList<>(body.batch.size());
        for (Value item : body.batch) {
            if (item.members == null) { // not a call: ingest dead-letters it on its own
                calls.add(new Call(null, Arrays.copyOfRange(body.bytes, item.start, item.end)));
                continue;
            }
            Member own = item.context;
            if (sharedContext && own != null && own.value == JsonToken.START_OBJECT) {
                calls.add(merged(body, item, context, sentAt, receivedText));
                continue;
            }
            Out out = new Out(body.bytes, item.end - item.start + received.length
                    + (sharedSentAt == null ? 0 : sharedSentAt.length) + (contextBytes == null ? 0 : contextBytes.length) + 8);
            out.call(item, false, received, item.sentAt == null ? sharedSentAt : null, own == null ? contextBytes : null);
            calls.add(new Call(key(item), out.bytes()));
        }
        return calls;
    }

    /** A call whose context and the envelope's are both objects: merged in a tree, the call's own keys winning. */
    private static Call merged(Body body, Value item, Member context, Member sentAt, String receivedAt) {
        try {
            ObjectNode call = (ObjectNode) JSON.readTree(body.bytes, item.start, item.end - item.start);
            call.remove("writeKey");
            call.put("receivedAt", receivedAt);
            if (sentAt != null && !call.has("sentAt")) {
                call.set("sentAt", value(body, sentAt));
            }
            ObjectNode merged = (ObjectNode) value(body, context);
            merged.setAll((ObjectNode) call.get("context"));
            call.set("context", merged);
            return new Call(key(item), JSON.writeValueAsBytes(call));
        } catch (IOException e) {
            throw new IllegalStateException("a call read once could not be read again", e);
        }
    }

    /** The value of one of the body's own members, as a tree. */
    private static com.fasterxml.jackson.databind.JsonNode value(Body body, Member member) throws IOException {
        int from = Value.valueStart(body.bytes, member);
        return JSON.readTree(body.bytes, from, body.root.end(body.bytes, member) - from);
    }

    /** The member as sent, from its name to its value's end, with its name written plainly. */
    private static byte[] member(Body body, String name, Member member) {
        byte[] head = ("\"" + name + "\":").getBytes(StandardCharsets.UTF_8);
        int from = Value.valueStart(body.bytes, member);
        int to = body.root.end(body.bytes, member);
        byte[] out = Arrays.copyOf(head, head.length + to - from);
        System.arraycopy(body.bytes, from, out, head.length, to - from);
        return out;
    }

    /** A call's record, written as its kept members' own bytes, then the added members. */
    private static final class Out {
        private final byte[] source;
        private byte[] buffer;
        private int length;

        Out(byte[] source, int capacity) {
            this.source = source;
            this.buffer = new byte[capacity];
        }

        /**
         * The object's members but the collector's own ({@code writeKey}, {@code receivedAt}) and, with
         * {@code untyped}, its {@code type}; then the {@code added} ones (null: none).
         */
        void call(Value object, boolean untyped, byte[]... added) {
            put((byte) '{');
            boolean first = true;
            for (Member m : object.members) {
                if (!m.collectors && !(untyped && m.name.equals("type"))) {
                    if (!first) {
                        put((byte) ',');
                    }
                    put(source, m.start, object.end(source, m));
                    first = false;
                }
            }
            for (byte[] member : added) {
                if (member != null) {
                    if (!first) {
                        put((byte) ',');
                    }
                    put(member, 0, member.length);
                    first = false;
                }
            }
            put((byte) '}');
        }

        private void put(byte b) {
            ensure(1);
            buffer[length++] = b;
        }

        private void put(byte[] bytes, int from, int to) {
            ensure(to - from);
            System.arraycopy(bytes, from, buffer, length, to - from);
            length += to - from;
        }

        private void ensure(int more) {
            if (length + more > buffer.length) {
                buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + more));
            }
        }

        byte[] bytes() {
            return length == buffer.length ? buffer : Arrays.copyOf(buffer, length);
        }
    }

    /** The call's anonymousId, else its userId (a string that is not blank, or a number), else null. */
    private static String key(Value call) {
        for (Member id : new Member[] {call.anonymousId, call.userId}) {
            if (id != null && id.text != null && !id.text.isBlank()) {
                return id.text;
            }
        }
        return null;
    }

    /**
     * analytics.js (Analytics 2.0) posts to the first letter of the call's type ({@code /v1/t}, {@code /v1/p},
     * {@code /v1/i}, {@code /v1/g}, {@code /v1/a}) and, when it batches, to {@code /v1/b}; both spellings are the
     * same route here.
     */
    private static final Map<String, String> SHORT = Map.of("t", "track", "i", "identify",
            "p", "page", "s", "screen", "g", "group", "a", "alias", "b", "batch");

    /** The route's name, without a trailing slash, lower-case; null when it is not one of the API's. */
    static String route(String pathParam) {
        if (pathParam == null) {
            return null;
        }
        String route = pathParam.toLowerCase(java.util.Locale.ROOT);
        route = SHORT.getOrDefault(route, route);
        return SINGLE.contains(route) || BATCH.contains(route) ? route : null;
    }
}
