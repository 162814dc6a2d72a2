package io.cohortflow.core.segment;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.CelType;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelVariableResolver;
import io.cohortflow.core.codec.NamedValues;
import io.cohortflow.core.config.ConfFiles;
import io.cohortflow.core.feature.EventTimeline;
import io.cohortflow.core.feature.KeyedCounts;
import io.cohortflow.core.feature.FeatureSnapshot;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Compiles segment conditions with CEL and evaluates them against a user's features and scores.
 *
 * <p>CEL is not Turing-complete (no loops, no recursion; macros such as {@code exists} are bounded by their input)
 * and can call nothing but its standard functions: a condition cannot reach into the JVM. Conditions are type-checked
 * at load against these variables:
 * <pre>
 * recency_days double        frequency_30d int            monetary_value_90d double
 * feature_adoption_rate double  support_tickets_60d int   avg_session_duration double (minutes)
 * cart_open bool             cart_abandoned bool
 * purchases_365d int         monetary_value_365d double   tenure_days double   overdue_purchases double
 * cart_value double          max_price_viewed_24h double  categories_after_cart_24h int
 * count_1h, count_24h, count_7d, count_30d, count_60d, count_90d   map(string, int): canonical event -> count
 * categories_24h list(string)    features_used_90d list(string)
 * scores map(string, double): model scores (empty until a model is published)     persona string ("" until then)
 * </pre>
 * A condition that fails to parse, type-check, or return a bool is rejected with the compiler's message.
 */
public final class SegmentRules {
    /** The type of {@code events}: a user's {@link EventTimeline}, read through the behavioural operators only. */
    private static final CelType EVENTS = dev.cel.common.types.OpaqueType.create("cohortflow.Events");
    /** The behavioural operators: member functions of {@code events}; their last argument is the window. */
    private static final java.util.Set<String> OPERATORS = java.util.Set.of("count", "absent_for", "first_within",
            "then_within");
    private static final java.util.regex.Pattern WINDOW = java.util.regex.Pattern.compile("([1-9][0-9]{0,6})([mhd])");
    /** Windows read so far, by their text: an operator's window is parsed once, not on every evaluation. */
    private static final Map<String, Long> WINDOWS = new java.util.concurrent.ConcurrentHashMap<>();
    private static final List<Declared> DECLARED = declared();
    private static final Map<String, CelType> VARIABLES = java.util.Collections.unmodifiableMap(variables());
    private static final Cel CEL = build();

    /**
     * A definition compiled to a program.
     *
     * @param variables the variables the condition reads (from CEL's checked AST), e.g. {@code count_1h}, {@code scores}
     * @param version   a short, stable version of the condition text: changes name it in their cause
     * @param windows   the windows after which its behavioural operators' values can change as time passes, ms
     *                  ({@code events.count('x', '2h')}: 2 h; a sequence's window is not one), for the timers
     * @param direct    the condition as plain Java, which gives CEL's answer faster, or null when it is CEL's alone
     * @param thresholds the comparisons with a literal of the reads that the condition uses in no other way: of those
     *                   reads, the condition depends on these comparisons' outcomes only
     * @param decision   the condition as {@code &&}, {@code ||} and {@code !} of its thresholds and its reads of a
     *                   bool alone, in postfix ({@link #decide}: a place in {@code thresholds}, a read's place in
     *                   {@code reads} as {@link #read}, or {@link #AND}, {@link #OR}, {@link #NOT}), so that their
     *                   outcomes and values decide it without running it; empty when it is anything else
     */
    public record Compiled(SegmentDefinition definition, CelRuntime.Program program, java.util.Set<String> variables,
                           String version, java.util.Set<Long> windows, List<Read> reads, DirectCondition direct,
                           List<Threshold> thresholds, List<Integer> decision) {
        public Compiled {
            variables = java.util.Set.copyOf(variables);
            windows = java.util.Set.copyOf(windows);
            reads = List.copyOf(reads);
            thresholds = List.copyOf(thresholds);
            decision = List.copyOf(decision);
        }

        /**
         * Whether the condition's value can change with its reads' values unchanged: it reads {@code events} other than
         * through an operator with literal arguments (which is a read of its own), and so the moment matters.
         */
        public boolean readsTime() {
            return reads.contains(new Read("events", null));
        }

        /** Whether the condition reads a model's output ({@code scores} or {@code persona}): a model decides it. */
        public boolean readsModel() {
            return variables.contains("scores") || variables.contains("persona");
        }
    }

    /**
     * One value a condition reads: a variable ({@code key} null), or one entry of a map variable read with a literal
     * key ({@code count_1h['product_view']}, {@code scores['churn']}). A condition is a function of its reads' values
     * (and, if it reads {@code events}, of the time): while none of them changed, its value has not either.
     */
    public record Read(String variable, String key, String operator, List<String> arguments) {
        public Read {
            java.util.Objects.requireNonNull(variable, "variable");
            arguments = arguments == null ? List.of() : List.copyOf(arguments);
        }

        /** A variable, or one entry of a map variable ({@code key} not null). */
        public Read(String variable, String key) {
            this(variable, key, null, List.of());
        }

        /**
         * A behavioural operator called with literal arguments ({@code events.count('product_view', '2h')}): its value
         * depends on the moment, but changes only when that event happens or one of its buckets leaves the window.
         */
        public static Read operator(String operator, List<String> arguments) {
            return new Read("events", null, operator, arguments);
        }

        /** This read's value among {@code variables} (null when absent): an operator's is the operator's result. */
        public Object valueIn(Map<String, Object> variables) {
            return valueOf(variables.get(variable));
        }

        /**
         * {@link #valueIn}, for a reader that keeps this read's {@link #slot}: among the variables of
         * {@link SegmentRules#variables} the variable is taken by it, without a lookup by name (an evaluation takes
         * every read of every condition).
         */
        public Object valueIn(Map<String, Object> variables, int slot) {
            return valueOf(slot >= 0 && variables instanceof Variables v ? v.slot(slot) : variables.get(variable));
        }

        /** Where {@link #valueIn(Map, int)} finds the variable among {@link SegmentRules#variables}' (-1: nowhere). */
        public int slot() {
            return SegmentRules.slot(variable);
        }

        private Object valueOf(Object value) {
            if (operator != null) {
                return value instanceof EventTimeline events ? operate(events, operator, arguments) : null;
            }
            return key == null || !(value instanceof Map<?, ?> map) ? value : map.get(key);
        }

        /**
         * The CEL type the checker gave this read's value (a variable's, a map entry's, an operator's result), or null
         * when none is declared.
         */
        CelType declaredType() {
            if (operator != null) {
                return operator.equals("count") ? SimpleType.INT : SimpleType.BOOL;
            }
            CelType type = VARIABLES.get(variable);
            return key == null ? type : type instanceof dev.cel.common.types.MapType map ? map.valueType() : null;
        }

        /** An operator read's {@link Operation}, resolved; null for a read of a variable. */
        Operation operation() {
            return operator == null ? null : Operation.of(operator, arguments);
        }

        /**
         * This read made ready to be taken at every evaluation: an operator's {@link Operation} or a map entry's
         * place; null for a variable itself, which {@link #valueIn(Map, int)} takes by its slot.
         *
         * @throws IllegalArgumentException for an operator's window that is not one
         */
        public Resolved resolved() {
            return operator != null ? operation() : key != null ? new Entry(variable, key) : null;
        }

        /** The event an operator read counts (its first argument), or null. */
        public String event() {
            return operator == null || arguments.isEmpty() ? null : arguments.get(0);
        }

        /** The window an operator read looks back over, ms, or 0: a sequence's window is no expiry. */
        public long window() {
            return operator == null || operator.equals("then_within") ? 0 : SegmentRules.window(arguments.get(1));
        }
    }

    /** CEL's comparisons, as a {@link Threshold} applies them. */
    public enum Comparison {
        LESS("_<_"), AT_MOST("_<=_"), GREATER("_>_"), AT_LEAST("_>=_"), EQUAL("_==_"), NOT_EQUAL("_!=_");

        private final String function;

        Comparison(String function) {
            this.function = function;
        }

        /** The comparison CEL names {@code function} ({@code _>=_}), or null when it names none. */
        static Comparison of(String function) {
            for (Comparison comparison : values()) {
                if (comparison.function.equals(function)) {
                    return comparison;
                }
            }
            return null;
        }

        /** {@code x >= 3} for {@code 3 <= x}: the same comparison with its operands swapped. */
        Comparison swapped() {
            return switch (this) {
                case LESS -> GREATER;
                case AT_MOST -> AT_LEAST;
                case GREATER -> LESS;
                case AT_LEAST -> AT_MOST;
                default -> this;
            };
        }

        boolean orders() {
            return this != EQUAL && this != NOT_EQUAL;
        }

        /** Whether it holds for a left operand that compares to the right one as {@code c} (negative: less). */
        boolean holds(int c) {
            return switch (this) {
                case LESS -> c < 0;
                case AT_MOST -> c <= 0;
                case GREATER -> c > 0;
                case AT_LEAST -> c >= 0;
                case EQUAL -> c == 0;
                case NOT_EQUAL -> c != 0;
            };
        }
    }

    /**
     * A read compared with a literal, the read on the left ({@code count_7d['add_to_cart'] >= 3}; {@code 3 <= x} is
     * {@code x >= 3}). A condition that uses a read in such comparisons only is a function of their outcomes, not of
     * the read's value: a count moving from 7 to 8 changes nothing in {@code count >= 3}, so the engine need not run
     * the condition.
     *
     * @param literal    a {@link Long}, {@link Double}, {@link String} or {@link Boolean}
     * @param valueClass the Java class of the values of the read's declared type ({@link Long} for an int,
     *                   {@link Double}, {@link String}, {@link Boolean}), or null when it has no such type
     */
    public record Threshold(Read read, Comparison comparison, Object literal, Class<?> valueClass) {
        public Threshold {
            java.util.Objects.requireNonNull(read, "read");
            java.util.Objects.requireNonNull(comparison, "comparison");
            if (!(literal instanceof Long || literal instanceof Double || literal instanceof String
                    || literal instanceof Boolean)) {
                throw new IllegalArgumentException("not a literal of a comparison: " + literal);
            }
            if (valueClass != javaClass(read.declaredType())) { // kept only so that outcome need not look it up
                throw new IllegalArgumentException(read + " holds values of " + javaClass(read.declaredType())
                        + ", not " + valueClass);
            }
        }

        /** The comparison of {@code read}, of its declared type, with {@code literal}. */
        public Threshold(Read read, Comparison comparison, Object literal) {
            this(read, comparison, literal, javaClass(read.declaredType()));
        }

        private static Class<?> javaClass(CelType type) {
            return SimpleType.INT.equals(type) ? Long.class : SimpleType.DOUBLE.equals(type) ? Double.class
                    : SimpleType.STRING.equals(type) ? String.class : SimpleType.BOOL.equals(type) ? Boolean.class
                    : null;
        }

        /**
         * What the comparison gives for the read's {@code value}: a {@link Boolean}, CEL's answer, for a value of the
         * read's declared type that is an int or a double (not NaN) ordered or tested against a number (CEL orders a
         * double and an int by their values: {@code recency_days < 30} is how marketers write it), or a string or a
         * bool tested for equality; anything else (a value absent or of another type, NaN, a string ordered) is the
         * value itself, wrapped, so that the condition runs whenever such a value moves. Equal outcomes give equal
         * results in any evaluator, and a Boolean outcome is the comparison's value ({@link #decide}).
         */
        public Object outcome(Object value) {
            if (value == null || valueClass == null || value.getClass() != valueClass) {
                return new Unordered(value);
            }
            if (value instanceof Long x) {
                if (literal instanceof Long y) {
                    return comparison.holds(Long.compare(x, y));
                }
                if (literal instanceof Double y && !y.isNaN() && comparison.orders()) {
                    return comparison.holds(-DirectCondition.compareDoubleInt(y, x));
                }
            } else if (value instanceof Double x && !x.isNaN()) {
                if (literal instanceof Double y && !y.isNaN()) {
                    double p = x;
                    double q = y;
                    return comparison.holds(p < q ? -1 : p > q ? 1 : 0); // -0.0 and 0.0 are equal, as numbers
                }
                if (literal instanceof Long y && comparison.orders()) {
                    return comparison.holds(DirectCondition.compareDoubleInt(x, y));
                }
            } else if ((value instanceof String || value instanceof Boolean) && value.getClass() == literal.getClass()
                    && !comparison.orders()) {
                return comparison.holds(value.equals(literal) ? 0 : 1);
            }
            return new Unordered(value);
        }

        /** An {@link #outcome} as a truth value: 1 (holds), 0 (does not), or -1 when it is the value itself. */
        static int truth(Object outcome) {
            return outcome instanceof Boolean holds ? (holds ? 1 : 0) : -1;
        }

        /** A value whose comparison {@link #outcome} does not decide: it stands for itself. */
        private record Unordered(Object value) {
        }
    }

    /**
     * {@link Compiled#decision}'s operators; an operand is a threshold's place (0 and up) or a read's ({@link #read}).
     */
    public static final int AND = -1;
    public static final int OR = -2;
    public static final int NOT = -3;
    private static final int READS = -16;

    /** The operand of {@link Compiled#decision} for the read in place {@code place}. */
    public static int read(int place) {
        return READS - place;
    }

    /** The place of the read that a {@link #read} operand stands for. */
    public static int readPlace(int operand) {
        return READS - operand;
    }

    /**
     * A {@link Compiled#decision} (its places mapped as the caller keeps them) over {@code values}: a threshold's
     * outcome ({@link Threshold#outcome}) at {@code values[outcomes + place]}, a read's value at
     * {@code values[reads + place]}. 1 when the condition holds, 0 when it does not, -1 when an outcome or value is
     * not a truth value (a value absent, NaN, of another type: the condition must run). With every operand a truth
     * value, CEL's {@code &&}, {@code ||} and {@code !} are those of booleans.
     */
    public static int decide(int[] decision, Object[] values, int outcomes, int reads) {
        long stack = 0; // the operands' truths, the top one in bit 0
        for (int op : decision) {
            switch (op) {
                case AND -> stack = (stack >>> 1) & (stack | ~1L);
                case OR -> stack = (stack >>> 1) | (stack & 1);
                case NOT -> stack ^= 1;
                default -> {
                    int truth = op >= 0 ? Threshold.truth(values[outcomes + op])
                            : values[reads + readPlace(op)] instanceof Boolean b ? (b ? 1 : 0) : -1;
                    if (truth < 0) {
                        return -1;
                    }
                    stack = (stack << 1) | truth;
                }
            }
        }
        return (int) (stack & 1);
    }

    /** A behavioural operator's value: what CEL's binding of it returns, by the same code. */
    static Object operate(EventTimeline events, String operator, List<String> a) {
        return Operation.of(operator, a).apply(events);
    }

    /**
     * A behavioural operator with its arguments resolved once (the operator, the events, the window in ms), for the
     * readers that apply the same one at every evaluation: the engine's reads and direct conditions. With a thousand
     * segments, ninety such reads ran at every evaluation, each matching the operator's name and looking its window
     * up anew.
     */
    public static final class Operation implements Resolved {
        private enum Kind { COUNT, ABSENT_FOR, FIRST_WITHIN, THEN_WITHIN }

        private final Kind kind;
        private final String event;
        private final String then;
        private final long window;

        private Operation(Kind kind, String event, String then, long window) {
            this.kind = kind;
            this.event = event;
            this.then = then;
            this.window = window;
        }

        /** @throws IllegalArgumentException for an operator there is not, or a window that is not one */
        static Operation of(String operator, List<String> a) {
            return switch (operator) {
                case "count" -> new Operation(Kind.COUNT, a.get(0), null, window(a.get(1)));
                case "absent_for" -> new Operation(Kind.ABSENT_FOR, a.get(0), null, window(a.get(1)));
                case "first_within" -> new Operation(Kind.FIRST_WITHIN, a.get(0), null, window(a.get(1)));
                case "then_within" -> new Operation(Kind.THEN_WITHIN, a.get(0), a.get(1), window(a.get(2)));
                default -> throw new IllegalArgumentException("no operator " + operator);
            };
        }

        Object apply(EventTimeline events) {
            return switch (kind) {
                case COUNT -> events.count(event, window);
                case ABSENT_FOR -> events.absentFor(event, window);
                case FIRST_WITHIN -> events.firstWithin(event, window);
                case THEN_WITHIN -> events.thenWithin(event, then, window);
            };
        }

        @Override
        public Object valueIn(Map<String, Object> variables, int slot) {
            Object value = slot >= 0 && variables instanceof Variables v ? v.slot(slot) : variables.get("events");
            return value instanceof EventTimeline events ? apply(events) : null;
        }
    }

    /**
     * A {@link Read} made ready for a reader that takes it at every evaluation (the engine's {@code RuleReads}): the
     * same value as {@link Read#valueIn(Map, int)}, with what can be worked out once worked out once.
     */
    public interface Resolved {
        Object valueIn(Map<String, Object> variables, int slot);
    }

    /**
     * A fixed entry of a map variable ({@code count_7d['add_to_cart']}): in a snapshot's counts, by its place in their
     * key order ({@link KeyedCounts.Place}) instead of hashing the name at every read.
     */
    private static final class Entry implements Resolved {
        private final String variable;
        private final String key;
        private final KeyedCounts.Place place;

        Entry(String variable, String key) {
            this.variable = variable;
            this.key = key;
            this.place = new KeyedCounts.Place(key);
        }

        @Override
        public Object valueIn(Map<String, Object> variables, int slot) {
            Object value = slot >= 0 && variables instanceof Variables v ? v.slot(slot) : variables.get(variable);
            if (!(value instanceof KeyedCounts counts)) {
                return value instanceof Map<?, ?> map ? map.get(key) : value; // as Read.valueOf
            }
            int at = place.in(counts);
            return at < 0 ? null : (Object) counts.countAt(at);
        }
    }

    /** The shipped conf/segments.yaml. */
    public record File(List<SegmentDefinition> segments) {
        @JsonCreator
        public File(@JsonProperty("segments") List<SegmentDefinition> segments) {
            this.segments = List.copyOf(segments);
        }
    }

    private SegmentRules() {
    }

    /**
     * A variable a condition may read, as the catalog shows it to people: its CEL type, what it means and an example
     * value. The compiler's environment is built from this very list, so the catalog cannot drift from what conditions
     * can read.
     *
     * @param name    the variable, e.g. {@code recency_days}
     * @param type    its CEL type, e.g. {@code double}, {@code map(string, int)}
     * @param kind    {@code feature}, {@code count} (a count window), {@code score} or {@code persona}
     * @param meaning what it is, for people
     * @param example a value it can take, as CEL literal text, e.g. {@code count_7d["order_completed"] >= 2}
     */
    public record Variable(String name, String type, String kind, String meaning, String example) {
    }

    private record Declared(Variable variable, CelType type) {
    }

    private static List<Declared> declared() {
        List<Declared> list = new java.util.ArrayList<>();
        java.util.function.BiConsumer<CelType, String[]> add = (type, text) ->
                list.add(new Declared(new Variable(text[0], format(type), text[1], text[2], text[3]), type));
        add.accept(SimpleType.DOUBLE, new String[]{"recency_days", "feature",
                "whole days since the last active event (365 when never active)", "recency_days > 30"});
        add.accept(SimpleType.INT, new String[]{"frequency_30d", "feature",
                "sessions started in the last 30 days (a session ends after 30 minutes without events)",
                "frequency_30d >= 5"});
        add.accept(SimpleType.DOUBLE, new String[]{"monetary_value_90d", "feature", "revenue of the last 90 days",
                "monetary_value_90d > 500.0"});
        add.accept(SimpleType.DOUBLE, new String[]{"feature_adoption_rate", "feature",
                "key product features used in 90 days, as a share of those configured (0 to 1)",
                "feature_adoption_rate < 0.2"});
        add.accept(SimpleType.INT, new String[]{"support_tickets_60d", "feature",
                "support tickets created in the last 60 days", "support_tickets_60d >= 3"});
        add.accept(SimpleType.DOUBLE, new String[]{"avg_session_duration", "feature",
                "mean length of the last 30 days' sessions, in minutes", "avg_session_duration > 10.0"});
        add.accept(SimpleType.BOOL, new String[]{"cart_open", "feature",
                "something was added to the cart in the last 7 days and no order followed", "cart_open"});
        add.accept(SimpleType.BOOL, new String[]{"cart_abandoned", "feature",
                "the cart is open and nothing was added to it for 30 minutes", "cart_abandoned"});
        add.accept(SimpleType.INT, new String[]{"purchases_365d", "feature",
                "orders and payments in the last 365 days", "purchases_365d >= 4"});
        add.accept(SimpleType.DOUBLE, new String[]{"monetary_value_365d", "feature",
                "revenue of the last 365 days", "monetary_value_365d > 1000.0"});
        add.accept(SimpleType.DOUBLE, new String[]{"tenure_days", "feature",
                "whole days since the first active event still remembered (at most 365)", "tenure_days > 180.0"});
        add.accept(SimpleType.DOUBLE, new String[]{"overdue_purchases", "feature",
                "purchases the user would have made since last active, at their own pace of the year",
                "overdue_purchases >= 1.0"});
        add.accept(SimpleType.DOUBLE, new String[]{"cart_value", "feature",
                "what the cart's items cost (added in the last 30 days, no order since)", "cart_value > 100.0"});
        add.accept(SimpleType.DOUBLE, new String[]{"max_price_viewed_24h", "feature",
                "the highest price among the products viewed in the last 24 hours", "max_price_viewed_24h > 200.0"});
        add.accept(SimpleType.INT, new String[]{"categories_after_cart_24h", "feature",
                "distinct other categories viewed after the last add to cart, within 24 hours",
                "categories_after_cart_24h >= 1"});
        for (String window : FeatureSnapshot.COUNT_WINDOWS) {
            add.accept(MapType.create(SimpleType.STRING, SimpleType.INT), new String[]{"count_" + window, "count",
                    "how many times each canonical event happened in the last " + window + " (absent: never)",
                    "count_" + window + "['product_view'] >= 3"});
        }
        add.accept(ListType.create(SimpleType.STRING), new String[]{"categories_24h", "feature",
                "product categories viewed in the last 24 hours", "'jackets' in categories_24h"});
        add.accept(ListType.create(SimpleType.STRING), new String[]{"features_used_90d", "feature",
                "key product features used in the last 90 days", "'dashboards' in features_used_90d"});
        add.accept(EVENTS, new String[]{"events", "behaviour",
                "each event's history, for the operators: events.count(e, w) (times in the last w), "
                        + "events.absent_for(e, w) (has not done e for w), events.first_within(e, w) (first did e "
                        + "within w), events.then_within(e1, e2, w) (did e1 then e2 within w); w is '45m', '2h' or "
                        + "'14d', at most 90d; to the minute up to 1h, the hour up to 24h, the day beyond",
                "events.then_within('add_to_cart', 'order_completed', '1h')"});
        add.accept(MapType.create(SimpleType.STRING, SimpleType.DOUBLE), new String[]{"scores", "score",
                "the published model's scores, 0 to 1 (empty until a model is published)",
                "'churn' in scores && scores['churn'] > 0.7"});
        add.accept(SimpleType.STRING, new String[]{"persona", "persona",
                "the persona the clustering model puts the user in (empty until a model is published)",
                "persona == 'High-Value Bundle Purchaser'"});
        return List.copyOf(list);
    }

    private static String format(CelType type) {
        if (type instanceof MapType map) {
            return "map(" + format(map.keyType()) + ", " + format(map.valueType()) + ")";
        }
        if (type instanceof ListType list) {
            return "list(" + format(list.elemType()) + ")";
        }
        return type == EVENTS ? "events" : type.name();
    }

    private static Map<String, CelType> variables() {
        Map<String, CelType> vars = new LinkedHashMap<>();
        DECLARED.forEach(d -> vars.put(d.variable().name(), d.type()));
        return vars;
    }

    /** Every variable a condition may read, in declaration order: the catalog the console shows. */
    public static List<Variable> catalog() {
        return DECLARED.stream().map(Declared::variable).toList();
    }

    private static Cel build() {
        // Standard macros (has, all, exists, exists_one, map, filter) are bounded by their input: still no loops.
        var builder = CelFactory.standardCelBuilder()
                .setStandardMacros(dev.cel.parser.CelStandardMacro.STANDARD_MACROS)
                // recency_days > 30 as people write it: without this, CEL refuses to compare a double with an int
                .setOptions(dev.cel.common.CelOptions.current().enableHeterogeneousNumericComparisons(true).build())
                .setResultType(SimpleType.BOOL);
        VARIABLES.forEach(builder::addVar);
        builder.addFunctionDeclarations(
                dev.cel.common.CelFunctionDecl.newFunctionDeclaration("count", dev.cel.common.CelOverloadDecl
                        .newMemberOverload("events_count", SimpleType.INT, EVENTS, SimpleType.STRING, SimpleType.STRING)),
                dev.cel.common.CelFunctionDecl.newFunctionDeclaration("absent_for", dev.cel.common.CelOverloadDecl
                        .newMemberOverload("events_absent_for", SimpleType.BOOL, EVENTS, SimpleType.STRING,
                                SimpleType.STRING)),
                dev.cel.common.CelFunctionDecl.newFunctionDeclaration("first_within", dev.cel.common.CelOverloadDecl
                        .newMemberOverload("events_first_within", SimpleType.BOOL, EVENTS, SimpleType.STRING,
                                SimpleType.STRING)),
                dev.cel.common.CelFunctionDecl.newFunctionDeclaration("then_within", dev.cel.common.CelOverloadDecl
                        .newMemberOverload("events_then_within", SimpleType.BOOL, EVENTS, SimpleType.STRING,
                                SimpleType.STRING, SimpleType.STRING)));
        List<Class<?>> two = List.of(EventTimeline.class, String.class, String.class);
        builder.addFunctionBindings(
                dev.cel.runtime.CelFunctionBinding.from("events_count", two,
                        a -> operate((EventTimeline) a[0], "count", List.of((String) a[1], (String) a[2]))),
                dev.cel.runtime.CelFunctionBinding.from("events_absent_for", two,
                        a -> operate((EventTimeline) a[0], "absent_for", List.of((String) a[1], (String) a[2]))),
                dev.cel.runtime.CelFunctionBinding.from("events_first_within", two,
                        a -> operate((EventTimeline) a[0], "first_within", List.of((String) a[1], (String) a[2]))),
                dev.cel.runtime.CelFunctionBinding.from("events_then_within",
                        List.of(EventTimeline.class, String.class, String.class, String.class),
                        a -> operate((EventTimeline) a[0], "then_within",
                                List.of((String) a[1], (String) a[2], (String) a[3]))));
        return builder.build();
    }

    public static List<SegmentDefinition> defaults() {
        return load(ConfFiles.defaultLocation("segments.yaml"));
    }

    public static List<SegmentDefinition> load(String location) {
        return ConfFiles.read(location, File.class).segments();
    }

    /** Compiles a definition; throws {@link IllegalArgumentException} with the compiler's message when it is invalid. */
    public static Compiled compile(SegmentDefinition definition) {
        if (definition.deleted()) {
            throw new IllegalArgumentException("segment " + definition.id() + " is a deletion, not a condition");
        }
        try {
            CelAbstractSyntaxTree ast = CEL.compile(definition.condition()).getAst();
            Reads found = Reads.of(ast);
            List<Read> reads = found.reads();
            java.util.Set<String> referenced = new java.util.TreeSet<>();
            reads.forEach(read -> referenced.add(read.variable()));
            String version = java.util.UUID.nameUUIDFromBytes(
                    definition.condition().getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString().substring(0, 8);
            java.util.Set<Long> windows = windows(definition, ast);
            return new Compiled(definition, CEL.createProgram(ast), referenced, version, windows, reads,
                    DirectCondition.of(ast, VARIABLES.keySet()), found.thresholds(), found.decision());
        } catch (InvalidCondition e) {
            throw e;
        } catch (CelValidationException e) {
            throw new InvalidCondition("segment " + definition.id() + ": invalid condition '"
                    + definition.condition() + "': " + e.getMessage(), problems(e), e);
        } catch (CelEvaluationException | RuntimeException e) {
            throw new IllegalArgumentException("segment " + definition.id() + ": " + e.getMessage(), e);
        }
    }

    /**
     * What a checked condition reads: {@code m['k']} with a literal key on a declared map variable is a read of that
     * entry, and a behavioural operator with literal arguments a read of its result (in the order first read); any
     * other use of a declared variable reads all of it (after those). And the comparisons with a literal of the reads
     * the condition uses in no other way ({@link Threshold}): every occurrence of such a read is one side of a
     * comparison whose other side is a literal. A read that also occurs elsewhere (in a sum, as a bare bool, compared
     * with another read) counts by its value, and none of its comparisons is listed. One pass over the AST's nodes
     * finds the variables read through a key or an operator, a second both lists, with one recognizer of reads
     * ({@link #readAt}), so every threshold's read is among the reads.
     */
    private record Reads(List<Read> reads, List<Threshold> thresholds, List<Integer> decision) {
        static Reads of(CelAbstractSyntaxTree ast) {
            List<dev.cel.common.ast.CelExpr> nodes = dev.cel.common.navigation.CelNavigableAst.fromAst(ast).getRoot()
                    .<dev.cel.common.navigation.CelNavigableExpr>allNodes().map(node -> node.expr()).toList();
            java.util.Set<Long> keyed = new java.util.HashSet<>(); // variables read through a literal key or operator
            for (dev.cel.common.ast.CelExpr expr : nodes) {
                if (expr.getKind() == dev.cel.common.ast.CelExpr.ExprKind.Kind.CALL
                        && readAt(ast, expr, java.util.Set.of()) != null) {
                    keyed.add(expr.call().target().orElseGet(() -> expr.call().args().get(0)).id());
                }
            }
            java.util.Set<Read> entries = new java.util.LinkedHashSet<>();
            java.util.Set<Read> wholes = new java.util.LinkedHashSet<>();
            Map<Read, Integer> occurrences = new java.util.HashMap<>();
            Map<Read, Integer> compared = new java.util.HashMap<>();
            java.util.Set<Threshold> thresholds = new java.util.LinkedHashSet<>();
            for (dev.cel.common.ast.CelExpr expr : nodes) {
                Read read = readAt(ast, expr, keyed);
                if (read != null) {
                    (expr.getKind() == dev.cel.common.ast.CelExpr.ExprKind.Kind.IDENT ? wholes : entries).add(read);
                    occurrences.merge(read, 1, Integer::sum);
                }
                Threshold threshold = thresholdAt(ast, expr, keyed);
                if (threshold != null) {
                    thresholds.add(threshold);
                    compared.merge(threshold.read(), 1, Integer::sum);
                }
            }
            entries.addAll(wholes);
            List<Threshold> kept = thresholds.stream()
                    .filter(t -> occurrences.get(t.read()).equals(compared.get(t.read()))).toList();
            List<Read> reads = List.copyOf(entries);
            List<Integer> decision = new ArrayList<>();
            if (!decision(ast, ast.getExpr(), keyed, reads, kept, decision) || decision.size() > 60) {
                decision.clear(); // 60 operands at most: the truths are a long's bits
            }
            return new Reads(reads, kept, decision);
        }

        /**
         * Appends {@code expr} as {@code &&}, {@code ||} and {@code !} of {@code thresholds} and of reads of a bool
         * in postfix to {@code decision}; false when it is anything else.
         */
        private static boolean decision(CelAbstractSyntaxTree ast, dev.cel.common.ast.CelExpr expr,
                                        java.util.Set<Long> keyed, List<Read> reads, List<Threshold> thresholds,
                                        List<Integer> decision) {
            Read bare = readAt(ast, expr, keyed);
            if (bare != null) { // cart_abandoned, events.absent_for('order_completed', '7d')
                if (!SimpleType.BOOL.equals(bare.declaredType()) || !reads.contains(bare)) {
                    return false;
                }
                decision.add(read(reads.indexOf(bare)));
                return true;
            }
            Threshold threshold = thresholdAt(ast, expr, keyed);
            if (threshold != null) { // count_7d['add_to_cart'] >= 3, a comparison the condition depends on alone
                int place = thresholds.indexOf(threshold);
                if (place < 0) {
                    return false;
                }
                decision.add(place);
                return true;
            }
            if (expr.getKind() != dev.cel.common.ast.CelExpr.ExprKind.Kind.CALL || expr.call().target().isPresent()) {
                return false;
            }
            String function = expr.call().function();
            List<dev.cel.common.ast.CelExpr> args = expr.call().args();
            if (function.equals("_&&_") || function.equals("_||_")) {
                for (int i = 0; i < args.size(); i++) {
                    if (!decision(ast, args.get(i), keyed, reads, thresholds, decision)) {
                        return false;
                    }
                    if (i > 0) {
                        decision.add(function.equals("_&&_") ? AND : OR);
                    }
                }
                return !args.isEmpty();
            }
            if (function.equals("!_") && args.size() == 1) {
                if (!decision(ast, args.get(0), keyed, reads, thresholds, decision)) {
                    return false;
                }
                decision.add(NOT);
                return true;
            }
            return false;
        }
    }

    /** {@code expr} as a read compared with a literal, the read put on the left, or null when it is not one. */
    private static Threshold thresholdAt(CelAbstractSyntaxTree ast, dev.cel.common.ast.CelExpr expr,
                                         java.util.Set<Long> keyed) {
        Comparison comparison = expr.getKind() == dev.cel.common.ast.CelExpr.ExprKind.Kind.CALL
                ? Comparison.of(expr.call().function()) : null;
        if (comparison == null || expr.call().args().size() != 2) {
            return null;
        }
        dev.cel.common.ast.CelExpr left = expr.call().args().get(0);
        dev.cel.common.ast.CelExpr right = expr.call().args().get(1);
        Read onLeft = readAt(ast, left, keyed);
        Read onRight = readAt(ast, right, keyed);
        Object literal = onLeft != null ? literal(right) : onRight != null ? literal(left) : null;
        if (literal == null) {
            return null;
        }
        return onLeft != null ? new Threshold(onLeft, comparison, literal)
                : new Threshold(onRight, comparison.swapped(), literal);
    }

    /**
     * The read that {@code expr} is, or null: a behavioural operator with literal
     * arguments, a declared map's entry under a literal key, or a declared variable that is not the target of either
     * (those in {@code keyed}).
     */
    private static Read readAt(CelAbstractSyntaxTree ast, dev.cel.common.ast.CelExpr expr, java.util.Set<Long> keyed) {
        if (expr.getKind() == dev.cel.common.ast.CelExpr.ExprKind.Kind.IDENT) {
            String variable = declaredVariable(ast, expr);
            return variable == null || keyed.contains(expr.id()) ? null : new Read(variable, null);
        }
        if (expr.getKind() != dev.cel.common.ast.CelExpr.ExprKind.Kind.CALL) {
            return null;
        }
        dev.cel.common.ast.CelExpr.CelCall call = expr.call();
        if (OPERATORS.contains(call.function()) && call.target().isPresent()
                && "events".equals(declaredVariable(ast, call.target().get()))) {
            List<String> arguments = call.args().stream().map(SegmentRules::stringLiteral).toList();
            return arguments.contains(null) ? null : Read.operator(call.function(), arguments);
        }
        if (call.function().equals("_[_]") && call.args().size() == 2) {
            String variable = declaredVariable(ast, call.args().get(0));
            String key = stringLiteral(call.args().get(1));
            return variable != null && VARIABLES.get(variable) instanceof MapType && key != null
                    ? new Read(variable, key) : null;
        }
        return null;
    }

    private static String stringLiteral(dev.cel.common.ast.CelExpr expr) {
        return expr.getKind() == dev.cel.common.ast.CelExpr.ExprKind.Kind.CONSTANT
                && expr.constant().getKind() == dev.cel.common.ast.CelConstant.Kind.STRING_VALUE
                ? expr.constant().stringValue() : null;
    }

    /** An int, double, string or bool literal's value, or null. */
    private static Object literal(dev.cel.common.ast.CelExpr expr) {
        if (expr.getKind() != dev.cel.common.ast.CelExpr.ExprKind.Kind.CONSTANT) {
            return null;
        }
        dev.cel.common.ast.CelConstant constant = expr.constant();
        return switch (constant.getKind()) {
            case INT64_VALUE -> constant.int64Value();
            case DOUBLE_VALUE -> constant.doubleValue();
            case STRING_VALUE -> constant.stringValue();
            case BOOLEAN_VALUE -> constant.booleanValue();
            default -> null;
        };
    }

    /** The declared variable an identifier refers to (not a macro's own variable, such as {@code c} in exists). */
    private static String declaredVariable(CelAbstractSyntaxTree ast, dev.cel.common.ast.CelExpr expr) {
        if (expr.getKind() != dev.cel.common.ast.CelExpr.ExprKind.Kind.IDENT) {
            return null;
        }
        return ast.getReferenceMap().containsKey(expr.id())
                && VARIABLES.containsKey(ast.getReferenceMap().get(expr.id()).name())
                ? ast.getReferenceMap().get(expr.id()).name() : null;
    }

    /** A window as the operators take it: {@code 45m}, {@code 2h}, {@code 14d}, at most 90 days; ms. */
    static long window(String text) {
        Long known = text == null ? null : WINDOWS.get(text);
        if (known != null) {
            return known;
        }
        long ms = parseWindow(text);
        if (WINDOWS.size() < 10_000) { // windows are literals of the running conditions: a few
            WINDOWS.put(text, ms);
        }
        return ms;
    }

    private static long parseWindow(String text) {
        java.util.regex.Matcher m = WINDOW.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("a window is a whole number of m, h or d, such as '45m', '2h' or '14d'"
                    + ", not '" + text + "'");
        }
        long unit = switch (m.group(2)) {
            case "m" -> 60_000L;
            case "h" -> 3_600_000L;
            default -> 86_400_000L;
        };
        long ms = Long.parseLong(m.group(1)) * unit;
        if (ms > EventTimeline.MAX_WINDOW) {
            throw new IllegalArgumentException("a window is at most 90d (what the engine remembers), not '" + text + "'");
        }
        return ms;
    }

    /**
     * The windows of the condition's behavioural operators, each a string literal that {@link #window} reads: a
     * window computed at run time could not be checked here, nor timed.
     */
    private static java.util.Set<Long> windows(SegmentDefinition definition, CelAbstractSyntaxTree ast) {
        java.util.Set<Long> windows = new java.util.TreeSet<>();
        List<Problem> problems = new java.util.ArrayList<>();
        dev.cel.common.navigation.CelNavigableAst.fromAst(ast).getRoot()
                .<dev.cel.common.navigation.CelNavigableExpr>allNodes().forEach(node -> {
            dev.cel.common.ast.CelExpr expr = node.expr();
            if (expr.getKind() != dev.cel.common.ast.CelExpr.ExprKind.Kind.CALL
                    || !OPERATORS.contains(expr.call().function()) || expr.call().target().isEmpty()) {
                return;
            }
            dev.cel.common.ast.CelExpr last = expr.call().args().get(expr.call().args().size() - 1);
            String error = null;
            if (last.getKind() != dev.cel.common.ast.CelExpr.ExprKind.Kind.CONSTANT
                    || last.constant().getKind() != dev.cel.common.ast.CelConstant.Kind.STRING_VALUE) {
                error = expr.call().function() + ": the window must be written out, such as '2h'";
            } else {
                try {
                    long window = window(last.constant().stringValue());
                    if (!expr.call().function().equals("then_within")) { // a sequence's window is no expiry
                        windows.add(window);
                    }
                } catch (IllegalArgumentException e) {
                    error = expr.call().function() + ": " + e.getMessage();
                }
            }
            if (error != null) {
                Integer offset = ast.getSource().getPositionsMap().get(last.id());
                var location = offset == null ? Optional.<dev.cel.common.CelSourceLocation>empty()
                        : ast.getSource().getOffsetLocation(offset);
                problems.add(new Problem(error, location.map(dev.cel.common.CelSourceLocation::getLine).orElse(0),
                        location.map(l -> l.getColumn() + 1).orElse(0)));
            }
        });
        if (!problems.isEmpty()) {
            throw new InvalidCondition("segment " + definition.id() + ": invalid condition '" + definition.condition()
                    + "': " + problems.get(0).message(), problems, null);
        }
        return windows;
    }

    /**
     * One thing the compiler found wrong with a condition, where it is.
     *
     * @param message the compiler's message, e.g. {@code undeclared reference to 'recency'}
     * @param line    1-based line in the condition (0 when the compiler gives no position)
     * @param column  1-based column in that line (0 when none)
     */
    public record Problem(String message, int line, int column) {
    }

    /** A condition that does not compile: the compiler's problems, each with its position. */
    public static final class InvalidCondition extends IllegalArgumentException {
        private final transient List<Problem> problems;

        InvalidCondition(String message, List<Problem> problems, Throwable cause) {
            super(message, cause);
            this.problems = List.copyOf(problems);
        }

        public List<Problem> problems() {
            return problems;
        }
    }

    private static List<Problem> problems(CelValidationException e) {
        return e.getErrors().stream().map(issue -> {
            var location = issue.getSourceLocation();
            boolean known = location != null && location.getLine() > 0;
            // CEL's columns are 0-based; people count from 1.
            return new Problem(issue.getMessage(), known ? location.getLine() : 0,
                    known ? location.getColumn() + 1 : 0);
        }).toList();
    }

    /**
     * One node of a condition's boolean structure, for "why is she in this segment?": the condition is split at its
     * {@code &&}, {@code ||} and {@code !} into clauses, each evaluated on its own against the same variables.
     *
     * @param depth    nesting: 0 for the whole condition, 1 for its clauses, and so on
     * @param text     the clause as CEL text
     * @param operator {@code and}, {@code or}, {@code not}, or {@code clause} for a leaf
     * @param value    whether it holds; false when it cannot be evaluated (see {@code error})
     * @param error    why it could not be evaluated (a missing score, say), or null
     */
    public record Clause(int depth, String text, String operator, boolean value, String error) {
    }

    /**
     * The condition's clauses with their values for these variables, the whole condition first, then depth first.
     * Each is evaluated by the same compiler and runtime as the stream's rules; a clause that fails to evaluate is
     * false, as a segment is.
     */
    public static List<Clause> clauses(Compiled segment, Map<String, Object> variables) {
        try {
            CelAbstractSyntaxTree parsed = CEL.parse(segment.definition().condition()).getAst();
            List<Clause> out = new java.util.ArrayList<>();
            clauses(parsed.getExpr(), parsed.getSource(), 0, variables, out);
            Clause whole = out.get(0); // as its author wrote it
            out.set(0, new Clause(0, segment.definition().condition(), whole.operator(), whole.value(), whole.error()));
            return out;
        } catch (CelValidationException e) {
            throw new IllegalStateException("a compiled condition no longer parses: " + e.getMessage(), e);
        }
    }

    private static void clauses(dev.cel.common.ast.CelExpr expr, dev.cel.common.CelSource source, int depth,
                                Map<String, Object> variables, List<Clause> out) {
        String operator = "clause";
        List<dev.cel.common.ast.CelExpr> children = List.of();
        if (expr.getKind() == dev.cel.common.ast.CelExpr.ExprKind.Kind.CALL) {
            String function = expr.call().function();
            if (function.equals("_&&_") || function.equals("_||_") || function.equals("!_")) {
                operator = function.equals("_&&_") ? "and" : function.equals("_||_") ? "or" : "not";
                children = flatten(expr, function);
            }
        }
        CelAbstractSyntaxTree sub = CelAbstractSyntaxTree.newParsedAst(expr, source);
        String text = dev.cel.parser.CelUnparserFactory.newUnparser().unparse(sub);
        boolean value = false;
        String error = null;
        try {
            CelRuntime.Program program = CEL.createProgram(CEL.check(sub).getAst());
            CelVariableResolver resolver = name -> Optional.ofNullable(variables.get(name));
            value = Boolean.TRUE.equals(program.eval(resolver));
        } catch (CelValidationException | CelEvaluationException e) {
            error = e.getMessage();
        }
        out.add(new Clause(depth, text, operator, value, error));
        for (dev.cel.common.ast.CelExpr child : children) {
            clauses(child, source, depth + 1, variables, out);
        }
    }

    /** {@code a && b && c} parses as nested calls (balanced or not): its clauses are a, b and c, side by side. */
    private static List<dev.cel.common.ast.CelExpr> flatten(dev.cel.common.ast.CelExpr expr, String function) {
        if (function.equals("!_")) {
            return expr.call().args();
        }
        List<dev.cel.common.ast.CelExpr> out = new java.util.ArrayList<>();
        for (dev.cel.common.ast.CelExpr arg : expr.call().args()) {
            if (arg.getKind() == dev.cel.common.ast.CelExpr.ExprKind.Kind.CALL && arg.call().function().equals(function)) {
                out.addAll(flatten(arg, function));
            } else {
                out.add(arg);
            }
        }
        return out;
    }

    /** Compiles all, failing on the first invalid one (for a file that must be valid as a whole). */
    public static List<Compiled> compileAll(Collection<SegmentDefinition> definitions) {
        return definitions.stream().map(SegmentRules::compile).toList();
    }

    /**
     * The variables a condition sees for these features, scores and persona: an unmodifiable view that reads each
     * variable from the snapshot when asked (an evaluation asks for a few; building the map of all of them on every
     * evaluation cost more than running the conditions that had to run).
     */
    public static Map<String, Object> variables(FeatureSnapshot features, Map<String, Double> scores, String persona) {
        return new Variables(features, scores, persona == null ? "" : persona);
    }

    /** The variables by slot: the snapshot's {@link FeatureSnapshot#RULE_VARIABLES}, then the scores and persona. */
    private static final List<String> SLOTS;
    private static final Map<String, Integer> SLOT_OF;

    static {
        List<String> slots = new java.util.ArrayList<>(FeatureSnapshot.RULE_VARIABLES);
        slots.add("scores");
        slots.add("persona");
        SLOTS = List.copyOf(slots);
        Map<String, Integer> of = new java.util.HashMap<>();
        for (int i = 0; i < SLOTS.size(); i++) {
            of.put(SLOTS.get(i), i);
        }
        SLOT_OF = Map.copyOf(of);
    }

    /** A variable's slot among {@link #variables}' ({@link Variables#slot}), or -1 for a name that is none of them. */
    static int slot(String name) {
        Integer slot = SLOT_OF.get(name);
        return slot == null ? -1 : slot;
    }

    /**
     * {@link #variables(FeatureSnapshot, Map, String)}: a map in declaration order, read through. Each variable is
     * read from the snapshot once and kept: with 1,000 conditions an evaluation reads some variables hundreds of
     * times, and a direct condition reads them by slot, without a lookup by name.
     */
    static final class Variables extends java.util.AbstractMap<String, Object>
            implements java.util.function.Function<String, Object> {
        /** A slot read and found absent (a null slot is one not read yet). */
        private static final Object ABSENT = new Object();
        private final FeatureSnapshot features;
        private final Map<String, Double> scores;
        private final String persona;
        private final Object[] read = new Object[SLOTS.size()];
        private Map<String, Object> all;

        Variables(FeatureSnapshot features, Map<String, Double> scores, String persona) {
            this.features = features;
            this.scores = scores;
            this.persona = persona;
        }

        /** The variable in {@code slot} ({@link SegmentRules#slot}); null when absent. */
        Object slot(int slot) {
            Object value = read[slot];
            if (value == null) {
                String name = SLOTS.get(slot);
                value = switch (name) {
                    case "scores" -> scores;
                    case "persona" -> persona;
                    default -> features.ruleVariable(slot); // the snapshot's variables come first, in their order
                };
                read[slot] = value == null ? ABSENT : value;
            }
            return value == ABSENT ? null : value;
        }

        @Override
        public Object get(Object name) {
            int slot = name instanceof String variable ? SegmentRules.slot(variable) : -1;
            return slot < 0 ? null : slot(slot);
        }

        @Override
        public Object apply(String name) {
            return get(name);
        }

        @Override
        public boolean containsKey(Object name) {
            return get(name) != null;
        }

        @Override
        public java.util.Set<Entry<String, Object>> entrySet() {
            if (all == null) {
                Map<String, Object> vars = features.ruleVariables();
                vars.put("scores", scores);
                vars.put("persona", persona);
                all = java.util.Collections.unmodifiableMap(vars);
            }
            return all.entrySet();
        }
    }

    /**
     * What a profile publishes of the variables: all of them but {@code scores} and {@code persona} (fields of their
     * own), with the count windows' zeros left out (a count map names every event the taxonomy has, mostly zeros:
     * {@link #variables(SegmentProfile, Collection)} puts them back).
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> inputs(FeatureSnapshot snapshot) {
        Object[] values = snapshot.ruleValues(); // events: written as its map (@JsonValue) when the profile is encoded
        for (int place : COUNT_INPUTS) {
            values[place] = FeatureSnapshot.nonZero((Map<String, Long>) values[place]);
        }
        return new NamedValues<>(FeatureSnapshot.RULE_VARIABLE_NAMES, values);
    }

    /** The places of the count windows among a profile's inputs (the rule variables). */
    private static final int[] COUNT_INPUTS = FeatureSnapshot.COUNT_WINDOWS.stream()
            .mapToInt(window -> FeatureSnapshot.RULE_VARIABLE_NAMES.placeOf("count_" + window)).toArray();

    /**
     * The variables a condition sees for a published profile: its {@code inputs}, typed as the compiler declares them
     * (JSON brings small integers back as {@code Integer}; CEL's int is a {@code Long}), each count window naming
     * every one of {@code eventNames} (zero when the profile has none), with its scores and persona: what the stream
     * evaluated. Empty for a profile with no inputs (a merged id's last one, or one written before inputs existed):
     * there is nothing to evaluate a condition against.
     */
    @SuppressWarnings("unchecked")
    public static Optional<Map<String, Object>> variables(SegmentProfile profile, Collection<String> eventNames) {
        Optional<Map<String, Object>> vars = variables(profile);
        vars.ifPresent(v -> {
            for (String window : FeatureSnapshot.COUNT_WINDOWS) {
                Map<String, Object> counts = (Map<String, Object>) v.get("count_" + window);
                eventNames.forEach(event -> counts.putIfAbsent(event, 0L));
            }
        });
        return vars;
    }

    private static Optional<Map<String, Object>> variables(SegmentProfile profile) {
        if (profile.inputs().isEmpty()) {
            return Optional.empty();
        }
        Map<String, Object> vars = new java.util.HashMap<>();
        for (Declared declared : DECLARED) {
            String name = declared.variable().name();
            Object value = switch (name) {
                case "scores" -> profile.scores();
                case "persona" -> profile.persona() == null ? "" : profile.persona();
                case "events" -> EventTimeline.fromMap(profile.asOf(), profile.inputs().get("events"));
                default -> typed(declared.type(), profile.inputs().get(name));
            };
            vars.put(name, value);
        }
        return Optional.of(vars);
    }

    /** A JSON-decoded value as the declared type's Java form; an absent value is that type's zero. */
    static Object typed(CelType type, Object value) {
        if (type instanceof MapType map) {
            Map<String, Object> out = new java.util.HashMap<>();
            if (value instanceof Map<?, ?> in) {
                in.forEach((k, v) -> out.put(String.valueOf(k), typed(map.valueType(), v)));
            }
            return out;
        }
        if (type instanceof ListType list) {
            List<Object> out = new java.util.ArrayList<>();
            if (value instanceof Collection<?> in) {
                in.forEach(v -> out.add(typed(list.elemType(), v)));
            }
            return out;
        }
        if (type.equals(SimpleType.DOUBLE)) {
            return value instanceof Number n ? n.doubleValue() : 0.0;
        }
        if (type.equals(SimpleType.INT)) {
            return value instanceof Number n ? n.longValue() : 0L;
        }
        if (type.equals(SimpleType.BOOL)) {
            return Boolean.TRUE.equals(value);
        }
        return value == null ? "" : String.valueOf(value);
    }

    /** The declared type of each variable, by name, in declaration order. */
    public static Map<String, CelType> types() {
        return VARIABLES;
    }

    /**
     * Whether the user is in the segment. An evaluation error (a score the model does not provide, a missing map key)
     * means "not in": a segment never fails the job.
     */
    public static boolean matches(Compiled segment, Map<String, Object> variables) {
        return matches(segment, variables instanceof Variables read ? read
                : (java.util.function.Function<String, Object>) variables::get);
    }

    /** {@link #matches(Compiled, Map)} over any lookup of the variables by name (null: absent). */
    public static boolean matches(Compiled segment, java.util.function.Function<String, Object> variables) {
        if (segment.direct() != null) {
            try {
                return Boolean.TRUE.equals(segment.direct().eval(variables));
            } catch (DirectCondition.Undecided e) {
                // a value the checker did not declare: CEL decides, as for a condition it alone runs
            }
        }
        return celMatches(segment, variables);
    }

    /** {@link #matches(Compiled, java.util.function.Function)} by CEL's interpreter alone. */
    static boolean celMatches(Compiled segment, java.util.function.Function<String, Object> variables) {
        try {
            // A resolver reads the map in place; eval(Map) copies it into an activation for every rule. The copies
            // were over a third of the rules' cost: HotPathBenchmark.rulesOnly 16.5 -> 10.3 µs for the nine.
            CelVariableResolver resolver = name -> Optional.ofNullable(variables.apply(name));
            return Boolean.TRUE.equals(segment.program().eval(resolver));
        } catch (CelEvaluationException e) {
            return false;
        }
    }
}
