package dptrain.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.DoublePredicate;

/**
 * One value of a spec together with its key path: the one place that checks types and ranges and words the
 * error messages, so every message names the input, the key path, the offending value and what was expected.
 */
final class SpecNode {

    private static final int MAX_SHOWN_VALUE_LENGTH = 60;

    private final JsonNode value;
    private final String path;
    private final String source;

    private SpecNode(JsonNode value, String path, String source) {
        this.value = value;
        this.path = path;
        this.source = source;
    }

    static SpecNode root(JsonNode value, String source) {
        return new SpecNode(value, "", source);
    }

    String path() {
        return path;
    }

    String source() {
        return source;
    }

    /** False for an absent key and for an explicit YAML/JSON null, which both mean "use the default". */
    boolean isPresent() {
        return value != null && !value.isMissingNode() && !value.isNull();
    }

    boolean isObject() {
        return isPresent() && value.isObject();
    }

    boolean isArray() {
        return isPresent() && value.isArray();
    }

    boolean isText() {
        return isPresent() && value.isTextual();
    }

    SpecNode get(String key) {
        JsonNode child = isObject() ? value.get(key) : null;
        return new SpecNode(child, path.isEmpty() ? key : path + "." + key, source);
    }

    /** Rejects keys other than {@code allowed}, suggesting the closest allowed key. */
    void allowOnly(Collection<String> allowed) {
        if (!isObject()) {
            return;
        }
        Iterator<String> keys = value.fieldNames();
        while (keys.hasNext()) {
            String key = keys.next();
            if (!allowed.contains(key)) {
                throw get(key).fail("unknown key; expected one of " + String.join(", ", allowed)
                        + suggestion(key, allowed));
            }
        }
    }

    /** Fails unless this is a mapping; an absent value counts as an empty mapping. */
    void requireObjectOrAbsent(String expected) {
        if (isPresent() && !value.isObject()) {
            throw invalid(expected);
        }
    }

    void requirePresent(String expected) {
        if (!isPresent()) {
            throw fail("is missing; expected " + expected);
        }
    }

    /** The single key of a mapping such as {@code {dense: {...}}}, or the text of a bare name such as {@code rmsprop}. */
    String singleKeyOrName(String expected) {
        if (isText()) {
            return value.textValue();
        }
        if (isObject() && value.size() == 1) {
            return value.fieldNames().next();
        }
        throw isPresent() ? invalid(expected) : fail("is missing; expected " + expected);
    }

    /** The value under the single key, or an absent node when this is a bare name. */
    SpecNode singleKeyValue() {
        return isObject() ? get(value.fieldNames().next()) : new SpecNode(null, path, source);
    }

    List<SpecNode> elements(String expected) {
        requirePresent(expected);
        if (!value.isArray()) {
            throw invalid(expected);
        }
        List<SpecNode> elements = new ArrayList<>(value.size());
        for (int i = 0; i < value.size(); i++) {
            elements.add(new SpecNode(value.get(i), path + "[" + i + "]", source));
        }
        return elements;
    }

    int wholeNumber(int min) {
        String expected = "a whole number >= " + min;
        requirePresent(expected);
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < min) {
            throw invalid(expected);
        }
        return value.intValue();
    }

    long longValue(long defaultValue) {
        if (!isPresent()) {
            return defaultValue;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw invalid("a whole number that fits in 64 bits");
        }
        return value.longValue();
    }

    /** A finite number accepted by {@code allowed}, or {@code defaultValue} when absent. */
    double number(double defaultValue, DoublePredicate allowed, String expected) {
        if (!isPresent()) {
            return defaultValue;
        }
        if (!value.isNumber() || !Double.isFinite(value.doubleValue()) || !allowed.test(value.doubleValue())) {
            throw invalid(expected);
        }
        return value.doubleValue();
    }

    /** A number that has no default. */
    double number(DoublePredicate allowed, String expected) {
        requirePresent(expected);
        return number(Double.NaN, allowed, expected);
    }

    boolean bool(boolean defaultValue) {
        if (!isPresent()) {
            return defaultValue;
        }
        if (!value.isBoolean()) {
            throw invalid("true or false");
        }
        return value.booleanValue();
    }

    /** A name from {@code choices}, or {@code defaultName} when absent. */
    String choice(Collection<String> choices, String defaultName, String what) {
        if (!isPresent() && defaultName != null) {
            return defaultName;
        }
        String expected = "one of " + String.join(", ", choices);
        requirePresent(expected);
        if (!value.isTextual()) {
            throw invalid(expected);
        }
        return knownName(value.textValue(), choices, what);
    }

    /** Checks a name read from a key or a bare value, e.g. a layer type. */
    String knownName(String name, Collection<String> choices, String what) {
        if (!choices.contains(name)) {
            throw fail(quote(name) + " is not a known " + what + "; expected one of " + String.join(", ", choices)
                    + suggestion(name, choices));
        }
        return name;
    }

    /** "{value} is not allowed; expected {expected}". */
    SpecException invalid(String expected) {
        return fail(shown() + " is not allowed; expected " + expected);
    }

    SpecException fail(String problem) {
        return new SpecException(source, path, problem);
    }

    /** The value as the user wrote it, strings in quotes, shortened if long. */
    String shown() {
        if (!isPresent()) {
            return "null";
        }
        String text = value.isTextual() ? quote(value.textValue()) : value.toString();
        return text.length() <= MAX_SHOWN_VALUE_LENGTH ? text : text.substring(0, MAX_SHOWN_VALUE_LENGTH) + "...";
    }

    static String quote(String text) {
        return "\"" + text + "\"";
    }

    private static String suggestion(String given, Collection<String> known) {
        String closest = null;
        int closestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int distance = editDistance(given.toLowerCase(), candidate.toLowerCase());
            if (distance < closestDistance) {
                closest = candidate;
                closestDistance = distance;
            }
        }
        // Only a near miss is worth suggesting: a typo, a wrong case or a missing underscore.
        boolean near = closest != null && closestDistance <= Math.max(1, Math.min(given.length(), closest.length()) / 3);
        return near ? " (did you mean " + quote(closest) + "?)" : "";
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    /** Keys of a definition table, in order, for {@link #allowOnly} and messages. */
    static List<String> keysOf(Map<String, ?> table) {
        return List.copyOf(table.keySet());
    }
}
