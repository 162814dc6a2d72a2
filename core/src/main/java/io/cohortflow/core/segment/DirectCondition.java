package io.cohortflow.core.segment;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.CelType;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import io.cohortflow.core.feature.EventTimeline;
import io.cohortflow.core.feature.KeyedCounts;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A checked condition of the shapes marketers write, evaluated by plain Java instead of CEL's interpreter: reads of
 * variables and of map entries ({@code count_7d['add_to_cart']}, {@code scores.churn}), literals, comparisons,
 * {@code + - * / %} and negation, {@code && || !}, {@code ?:}, {@code in} a list or map, the macros that test a list
 * ({@code exists}, {@code all}, {@code exists_one}) with {@code contains}, {@code startsWith} and {@code endsWith} on
 * strings, and the behavioural operators with literal arguments. Anything else (the macros that build lists,
 * functions such as {@code size}, lists and maps written out) leaves the whole condition to CEL: {@link #of}
 * returns null.
 *
 * <p>It gives CEL's answer, errors included: a missing map key, an int overflow and the like are an error value that
 * {@code &&} and {@code ||} absorb as CEL's commutative operators do ({@code false && error} is false, {@code true ||
 * error} true), and a condition that ends in an error does not match. Where a value at run time is not of the type
 * the checker declared (a variable that is absent, say), it does not guess: {@link #eval} throws {@link Undecided} and
 * the caller asks CEL. {@code DirectConditionTest} compares the two on generated conditions and values.
 *
 * <p>Why: with a thousand segments, an event moves reads that hundreds of conditions share, and CEL's interpreter
 * (dispatch by overload, an activation per evaluation) took most of the evaluation's time (issue "Speed to lead",
 * P1b).
 */
public final class DirectCondition {
    /** CEL's error value: what CEL's evaluation would have failed with, absorbed only by {@code &&} and {@code ||}. */
    static final Object ERROR = new Object() {
        @Override
        public String toString() {
            return "error";
        }
    };

    /** A value CEL would have handled in a way this class does not model: CEL decides this evaluation. */
    static final class Undecided extends RuntimeException {
        private static final Undecided INSTANCE = new Undecided();

        private Undecided() {
            super("left to CEL", null, false, false);
        }
    }

    /**
     * One node of the expression: its value for the variables, {@link #ERROR}, or {@link Undecided} thrown. Each kind
     * of node is its own lambda, with its operands' errors checked in it, though that repeats: one shared helper for
     * the strict operators and one for {@code &&}/{@code ||} made their call sites megamorphic, and JMH
     * {@code engineApply} with 1,000 segments about 30% slower.
     */
    @FunctionalInterface
    private interface Node {
        Object eval(Function<String, Object> variables);
    }

    /** The AST could not be mapped: the condition is CEL's. */
    private static final class Unsupported extends Exception {
        Unsupported(String what) {
            super(what, null, false, false);
        }
    }

    /** The string functions evaluated directly. */
    private static final Set<String> STRING_TESTS = Set.of("contains", "startsWith", "endsWith");

    private final Node root;

    private DirectCondition(Node root) {
        this.root = root;
    }

    /** The condition as direct Java, or null when it uses something this class leaves to CEL. */
    static DirectCondition of(CelAbstractSyntaxTree checked, Set<String> declared) {
        try {
            return new DirectCondition(new Builder(checked, declared, new java.util.ArrayDeque<>())
                    .node(checked.getExpr()));
        } catch (Unsupported e) {
            return null;
        }
    }

    /**
     * The condition's value for {@code variables} (read by name; null when absent): {@link Boolean#TRUE}, {@link
     * Boolean#FALSE} or {@link #ERROR}.
     *
     * @throws Undecided when a value is not what the checker declared: ask CEL
     */
    Object eval(Function<String, Object> variables) {
        return root.eval(variables);
    }

    /** @param locals the variables of the comprehensions around the node being built (a macro's, such as exists') */
    private record Builder(CelAbstractSyntaxTree ast, Set<String> declared, java.util.Deque<String> locals) {
        Node node(CelExpr expr) throws Unsupported {
            return switch (expr.getKind()) {
                case CONSTANT -> constant(expr.constant());
                case IDENT -> ident(expr);
                case SELECT -> select(expr);
                case CALL -> call(expr);
                case COMPREHENSION -> comprehension(expr.comprehension());
                default -> throw new Unsupported(expr.getKind().toString());
            };
        }

        /**
         * A macro's loop ({@code exists}, {@code all}, {@code exists_one}) over a list's elements or a map's keys, as
         * CEL's interpreter runs it: the accumulator from its initial value, a step per element while the loop
         * condition holds, then the result. Its two variables shadow the declared ones inside it.
         */
        private Node comprehension(CelExpr.CelComprehension loop) throws Unsupported {
            if (!loop.iterVar2().isEmpty()) {
                throw new Unsupported("a two-variable comprehension");
            }
            CelType range = type(loop.iterRange());
            if (!(range instanceof ListType) && !(range instanceof MapType)) {
                throw new Unsupported("a loop over " + range);
            }
            Node over = node(loop.iterRange());
            Node init = node(loop.accuInit());
            String item = loop.iterVar();
            String accu = loop.accuVar();
            locals.push(item);
            locals.push(accu);
            try {
                Node condition = node(loop.loopCondition());
                Node step = node(loop.loopStep());
                Node result = node(loop.result());
                return variables -> {
                    Object container = over.eval(variables);
                    if (container == ERROR) {
                        return ERROR;
                    }
                    Iterable<?> items = container instanceof List<?> list ? list
                            : container instanceof Map<?, ?> map ? map.keySet() : null;
                    if (items == null) {
                        throw Undecided.INSTANCE;
                    }
                    Object[] frame = {null, init.eval(variables)};
                    Function<String, Object> scoped = name -> name.equals(accu) ? frame[1]
                            : name.equals(item) ? frame[0] : variables.apply(name);
                    for (Object element : items) {
                        if (Boolean.FALSE.equals(condition.eval(scoped))) {
                            break;
                        }
                        frame[0] = element;
                        frame[1] = step.eval(scoped);
                    }
                    return result.eval(scoped);
                };
            } finally {
                locals.pop();
                locals.pop();
            }
        }

        private CelType type(CelExpr expr) throws Unsupported {
            return ast.getType(expr.id()).orElseThrow(() -> new Unsupported("no type"));
        }

        private static Node constant(CelConstant constant) throws Unsupported {
            Object value = switch (constant.getKind()) {
                case BOOLEAN_VALUE -> constant.booleanValue();
                case INT64_VALUE -> constant.int64Value();
                case DOUBLE_VALUE -> constant.doubleValue();
                case STRING_VALUE -> constant.stringValue();
                default -> throw new Unsupported(constant.getKind().toString());
            };
            return variables -> value;
        }

        private Node ident(CelExpr expr) throws Unsupported {
            String local = expr.ident().name();
            if (locals.contains(local)) { // an element or the accumulator: a value of any type, or an error
                return variables -> variables.apply(local);
            }
            var reference = ast.getReferenceMap().get(expr.id());
            if (reference == null || !declared.contains(reference.name()) || reference.value().isPresent()) {
                throw new Unsupported("identifier " + expr.ident().name());
            }
            String name = reference.name();
            int slot = SegmentRules.slot(name);
            Class<?> expected = javaClass(type(expr));
            return variables -> {
                Object value = slot >= 0 && variables instanceof SegmentRules.Variables read ? read.slot(slot)
                        : variables.apply(name);
                if (value == null || (expected != null && !expected.isInstance(value))) {
                    throw Undecided.INSTANCE;
                }
                return value;
            };
        }

        /** {@code scores.churn}: a map's entry by a field name (a presence test, {@code has()}, is CEL's). */
        private Node select(CelExpr expr) throws Unsupported {
            if (expr.select().testOnly() || !(type(expr.select().operand()) instanceof MapType)) {
                throw new Unsupported("select");
            }
            Node map = node(expr.select().operand());
            String key = expr.select().field();
            Class<?> expected = javaClass(type(expr));
            return variables -> entry(map.eval(variables), key, expected);
        }

        private Node call(CelExpr expr) throws Unsupported {
            CelExpr.CelCall call = expr.call();
            if (call.target().isPresent()) {
                return STRING_TESTS.contains(call.function()) ? stringTest(call) : operator(expr);
            }
            List<Node> args = new ArrayList<>();
            for (CelExpr arg : call.args()) {
                args.add(node(arg));
            }
            String function = call.function();
            return switch (function) {
                case "_&&_" -> and(args);
                case "_||_" -> or(args);
                case "!_" -> not(args.get(0));
                case "@not_strictly_false" -> notStrictlyFalse(args.get(0));
                case "_?_:_" -> conditional(args.get(0), args.get(1), args.get(2));
                case "_==_", "_!=_" -> equality(call, args, function.equals("_!=_"));
                case "_<_", "_<=_", "_>_", "_>=_" -> comparison(call, args, function);
                case "_+_", "_-_", "_*_", "_/_", "_%_" -> arithmetic(call, args, function);
                case "-_" -> negation(call, args.get(0));
                case "@in" -> in(call, args);
                case "_[_]" -> index(expr, call, args);
                default -> throw new Unsupported(function);
            };
        }

        /** {@code c.contains('Running Shoes')}, {@code startsWith}, {@code endsWith}: a string against a string. */
        private Node stringTest(CelExpr.CelCall call) throws Unsupported {
            if (call.args().size() != 1 || !type(call.target().get()).equals(SimpleType.STRING)
                    || !type(call.args().get(0)).equals(SimpleType.STRING)) {
                throw new Unsupported(call.function());
            }
            Node target = node(call.target().get());
            Node argument = node(call.args().get(0));
            String function = call.function();
            return variables -> {
                Object x = target.eval(variables);
                if (x == ERROR) {
                    return ERROR;
                }
                Object y = argument.eval(variables);
                if (y == ERROR) {
                    return ERROR;
                }
                if (!(x instanceof String text) || !(y instanceof String part)) {
                    throw Undecided.INSTANCE;
                }
                return switch (function) {
                    case "contains" -> text.contains(part);
                    case "startsWith" -> text.startsWith(part);
                    default -> text.endsWith(part);
                };
            };
        }

        /** {@code events.count('product_view', '2h')}: a behavioural operator with literal arguments. */
        private Node operator(CelExpr expr) throws Unsupported {
            CelExpr.CelCall call = expr.call();
            List<String> arguments = new ArrayList<>();
            for (CelExpr arg : call.args()) {
                if (arg.getKind() != CelExpr.ExprKind.Kind.CONSTANT
                        || arg.constant().getKind() != CelConstant.Kind.STRING_VALUE) {
                    throw new Unsupported("an operator's argument that is not a literal");
                }
                arguments.add(arg.constant().stringValue());
            }
            CelExpr target = call.target().get();
            var reference = target.getKind() == CelExpr.ExprKind.Kind.IDENT
                    ? ast.getReferenceMap().get(target.id()) : null;
            if (reference == null || !reference.name().equals("events")) {
                throw new Unsupported("a member call");
            }
            SegmentRules.Operation operation;
            try {
                operation = SegmentRules.Read.operator(call.function(), arguments).operation();
            } catch (RuntimeException e) {
                throw new Unsupported("window"); // a bad window is CEL's to report
            }
            return variables -> {
                if (!(variables.apply("events") instanceof EventTimeline events)) {
                    throw Undecided.INSTANCE;
                }
                return operation.apply(events); // what CEL's binding returns, by its code
            };
        }

        private Node equality(CelExpr.CelCall call, List<Node> args, boolean negated) throws Unsupported {
            CelType left = type(call.args().get(0));
            CelType right = type(call.args().get(1));
            if (!left.equals(right) || !(left.equals(SimpleType.INT) || left.equals(SimpleType.DOUBLE)
                    || left.equals(SimpleType.STRING) || left.equals(SimpleType.BOOL))) {
                throw new Unsupported("equality of " + left + " and " + right);
            }
            Node a = args.get(0);
            Node b = args.get(1);
            return variables -> {
                Object x = a.eval(variables);
                if (x == ERROR) {
                    return ERROR;
                }
                Object y = b.eval(variables);
                if (y == ERROR) {
                    return ERROR;
                }
                // As CEL's runtime: Java's equality (NaN equals itself), or numerically (-0.0 equals 0.0).
                boolean equal = x.equals(y) || (x instanceof Double p && y instanceof Double q
                        && p.doubleValue() == q.doubleValue());
                return equal != negated;
            };
        }

        private Node comparison(CelExpr.CelCall call, List<Node> args, String function) throws Unsupported {
            CelType left = type(call.args().get(0));
            CelType right = type(call.args().get(1));
            boolean numbers = numeric(left) && numeric(right);
            if (!numbers && !(left.equals(SimpleType.STRING) && right.equals(SimpleType.STRING))) {
                throw new Unsupported("comparison of " + left + " and " + right);
            }
            Node a = args.get(0);
            Node b = args.get(1);
            int op = switch (function) { // decided here: a switch on the name at every evaluation hashed it each time
                case "_<_" -> 0;
                case "_<=_" -> 1;
                case "_>_" -> 2;
                default -> 3;
            };
            return variables -> {
                Object x = a.eval(variables);
                if (x == ERROR) {
                    return ERROR;
                }
                Object y = b.eval(variables);
                if (y == ERROR) {
                    return ERROR;
                }
                if (x instanceof Double dx && y instanceof Double dy) { // as CEL: NaN compares false
                    double p = dx;
                    double q = dy;
                    return switch (op) {
                        case 0 -> p < q;
                        case 1 -> p <= q;
                        case 2 -> p > q;
                        default -> p >= q;
                    };
                }
                int c = compare(x, y);
                return switch (op) {
                    case 0 -> c < 0;
                    case 1 -> c <= 0;
                    case 2 -> c > 0;
                    default -> c >= 0;
                };
            };
        }

        private Node arithmetic(CelExpr.CelCall call, List<Node> args, String function) throws Unsupported {
            CelType left = type(call.args().get(0));
            if (!left.equals(type(call.args().get(1))) || !numeric(left)) {
                throw new Unsupported("arithmetic on " + left);
            }
            Node a = args.get(0);
            Node b = args.get(1);
            boolean ints = left.equals(SimpleType.INT);
            if (function.equals("_%_") && !ints) { // CEL declares % on ints alone: its checker refuses the rest
                throw new Unsupported("% on " + left);
            }
            int op = switch (function) {
                case "_+_" -> 0;
                case "_-_" -> 1;
                case "_*_" -> 2;
                case "_/_" -> 3;
                default -> 4; // %
            };
            return variables -> {
                Object x = a.eval(variables);
                if (x == ERROR) {
                    return ERROR;
                }
                Object y = b.eval(variables);
                if (y == ERROR) {
                    return ERROR;
                }
                if (ints) {
                    long p = (Long) x;
                    long q = (Long) y;
                    try { // CEL's int overflows are errors, and so is an int divided by zero
                        return switch (op) {
                            case 0 -> Math.addExact(p, q);
                            case 1 -> Math.subtractExact(p, q);
                            case 2 -> Math.multiplyExact(p, q);
                            case 3 -> p == Long.MIN_VALUE && q == -1 ? ERROR : p / q; // the one quotient that wraps
                            default -> p % q; // MIN_VALUE % -1 is 0 in CEL as in Java
                        };
                    } catch (ArithmeticException overflowOrZero) {
                        return ERROR;
                    }
                }
                double p = (Double) x;
                double q = (Double) y;
                return switch (op) {
                    case 0 -> p + q;
                    case 1 -> p - q;
                    case 2 -> p * q;
                    default -> p / q; // IEEE 754: by zero is an infinity or NaN, not an error
                };
            };
        }

        private Node negation(CelExpr.CelCall call, Node a) throws Unsupported {
            CelType type = type(call.args().get(0));
            if (!numeric(type)) {
                throw new Unsupported("negation of " + type);
            }
            return variables -> {
                Object x = a.eval(variables);
                if (x == ERROR) {
                    return ERROR;
                }
                if (x instanceof Long n) {
                    return n == Long.MIN_VALUE ? ERROR : -n;
                }
                return -(Double) x;
            };
        }

        /** {@code 'x' in list} (CEL's equality on strings is Java's) and {@code 'k' in map} (a key). */
        private Node in(CelExpr.CelCall call, List<Node> args) throws Unsupported {
            CelType element = type(call.args().get(0));
            CelType container = type(call.args().get(1));
            boolean list = container instanceof ListType l && l.elemType().equals(SimpleType.STRING);
            boolean map = container instanceof MapType m && m.keyType().equals(SimpleType.STRING);
            if (!element.equals(SimpleType.STRING) || !(list || map)) {
                throw new Unsupported("in " + container);
            }
            Node a = args.get(0);
            Node b = args.get(1);
            return variables -> {
                Object x = a.eval(variables);
                if (x == ERROR) {
                    return ERROR;
                }
                Object y = b.eval(variables);
                if (y == ERROR) {
                    return ERROR;
                }
                if (y instanceof List<?> values && list) {
                    return values.contains(x);
                }
                if (y instanceof Map<?, ?> entries && map) {
                    return entries.containsKey(x);
                }
                throw Undecided.INSTANCE;
            };
        }

        /** {@code m[k]} on a map with string keys: the entry, or an error when there is none. */
        private Node index(CelExpr expr, CelExpr.CelCall call, List<Node> args) throws Unsupported {
            if (!(type(call.args().get(0)) instanceof MapType m) || !m.keyType().equals(SimpleType.STRING)) {
                throw new Unsupported("index");
            }
            Node map = args.get(0);
            Node key = args.get(1);
            Class<?> expected = javaClass(type(expr));
            CelExpr keyExpr = call.args().get(1);
            if (keyExpr.getKind() == CelExpr.ExprKind.Kind.CONSTANT
                    && keyExpr.constant().getKind() == CelConstant.Kind.STRING_VALUE
                    && (expected == null || expected == Long.class)) {
                // count_7d['product_view']: a fixed name in a snapshot's counts, whose position is looked up once per
                // key order (in practice once) rather than at every read (a tenth of an evaluation at 1,000 rules).
                String name = keyExpr.constant().stringValue();
                KeyedCounts.Place place = new KeyedCounts.Place(name);
                return variables -> {
                    Object entries = map.eval(variables);
                    if (!(entries instanceof KeyedCounts counts)) {
                        return entry(entries, name, expected);
                    }
                    int at = place.in(counts);
                    return at < 0 ? ERROR : (Object) counts.countAt(at);
                };
            }
            return variables -> {
                Object k = key.eval(variables);
                return k == ERROR ? ERROR : entry(map.eval(variables), k, expected);
            };
        }

        private static Object entry(Object map, Object key, Class<?> expected) {
            if (map == ERROR) {
                return ERROR;
            }
            if (!(map instanceof Map<?, ?> entries)) {
                throw Undecided.INSTANCE;
            }
            Object value = entries.get(key);
            if (value == null) {
                return ERROR; // no such key
            }
            if (expected != null && !expected.isInstance(value)) {
                throw Undecided.INSTANCE;
            }
            return value;
        }

        private static boolean numeric(CelType type) {
            return type.equals(SimpleType.INT) || type.equals(SimpleType.DOUBLE);
        }

        /** The Java class CEL's runtime holds a value of {@code type} as, or null when this class does not check it. */
        private static Class<?> javaClass(CelType type) {
            if (type.equals(SimpleType.INT)) {
                return Long.class;
            }
            if (type.equals(SimpleType.DOUBLE)) {
                return Double.class;
            }
            if (type.equals(SimpleType.STRING)) {
                return String.class;
            }
            if (type.equals(SimpleType.BOOL)) {
                return Boolean.class;
            }
            if (type instanceof MapType) {
                return Map.class;
            }
            if (type instanceof ListType) {
                return List.class;
            }
            return null;
        }
    }

    /** Two numbers, or two strings, as CEL orders them (an int against a double as CEL's runtime does). */
    private static int compare(Object x, Object y) {
        if (x instanceof Long a && y instanceof Long b) {
            return Long.compare(a, b);
        }
        if (x instanceof Double a && y instanceof Long b) {
            return compareDoubleInt(a, b);
        }
        if (x instanceof Long a && y instanceof Double b) {
            return -compareDoubleInt(b, a);
        }
        if (x instanceof String a && y instanceof String b) {
            return a.compareTo(b);
        }
        throw Undecided.INSTANCE;
    }

    /** CEL's heterogeneous comparison: outside the int range the double wins; within it, the int as a double. */
    static int compareDoubleInt(double d, long l) {
        if (d < (double) Long.MIN_VALUE) {
            return -1;
        }
        if (d > (double) Long.MAX_VALUE) {
            return 1;
        }
        return Double.compare(d, (double) l);
    }

    private static Node and(List<Node> args) {
        return variables -> {
            boolean error = false;
            for (Node arg : args) {
                Object v = arg.eval(variables);
                if (Boolean.FALSE.equals(v)) {
                    return Boolean.FALSE;
                }
                if (!Boolean.TRUE.equals(v)) {
                    error = true;
                }
            }
            return error ? ERROR : Boolean.TRUE;
        };
    }

    private static Node or(List<Node> args) {
        return variables -> {
            boolean error = false;
            for (Node arg : args) {
                Object v = arg.eval(variables);
                if (Boolean.TRUE.equals(v)) {
                    return Boolean.TRUE;
                }
                if (!Boolean.FALSE.equals(v)) {
                    error = true;
                }
            }
            return error ? ERROR : Boolean.FALSE;
        };
    }

    /** A macro's loop condition: false only for false (an error lets the loop go on, as in CEL). */
    private static Node notStrictlyFalse(Node a) {
        return variables -> !Boolean.FALSE.equals(a.eval(variables));
    }

    private static Node not(Node a) {
        return variables -> {
            Object v = a.eval(variables);
            return Boolean.TRUE.equals(v) ? Boolean.FALSE : Boolean.FALSE.equals(v) ? Boolean.TRUE : ERROR;
        };
    }

    private static Node conditional(Node test, Node then, Node otherwise) {
        return variables -> {
            Object v = test.eval(variables);
            return Boolean.TRUE.equals(v) ? then.eval(variables)
                    : Boolean.FALSE.equals(v) ? otherwise.eval(variables) : ERROR;
        };
    }
}
