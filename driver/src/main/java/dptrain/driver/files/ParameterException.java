package dptrain.driver.files;

import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A training parameter with a value that is not allowed, or two that do not go together. The
 * message names parameters by their keys ({@code batch_size}, {@code validation_split}, ...) as
 * {@code {key}} placeholders, so each front end names them as its users know them: the CLI as
 * flags ({@code --batch-size}), the Spark ML estimator as Params ({@code batchSize}), and the Java
 * API as the keys themselves, which are also provenance.json's names.
 */
public final class ParameterException extends InputException {
    private static final long serialVersionUID = 1L;
    private static final Pattern KEY = Pattern.compile("\\{([a-z_]+)}");

    private final String key;
    private final String template;

    /**
     * @param key      the parameter at fault, e.g. {@code batch_size}
     * @param template the message, naming parameters as {@code {key}}, e.g.
     *                 {@code "{batch_size}: 0 is not allowed; expected a whole number >= 1"}
     */
    public ParameterException(String key, String template) {
        super(render(template, k -> k));
        this.key = key;
        this.template = template;
    }

    /** The usual message: {@code {key}: value is not allowed; expected ...}. */
    public static ParameterException notAllowed(String key, Object value, String expected) {
        return new ParameterException(key, "{" + key + "}: " + value + " is not allowed; expected " + expected);
    }

    /** The parameter at fault. */
    public String key() {
        return key;
    }

    /** The message with every parameter named by {@code name}. */
    public String message(Function<String, String> name) {
        return render(template, name);
    }

    /** The CLI's name of a parameter key: {@code batch_size} is {@code --batch-size}. */
    public static String flag(String key) {
        return "--" + key.replace('_', '-');
    }

    /** The message with parameters named as flags, with the few that differ in {@code exceptions}. */
    public String message(Map<String, String> exceptions, Function<String, String> otherwise) {
        return message(k -> exceptions.getOrDefault(k, otherwise.apply(k)));
    }

    private static String render(String template, Function<String, String> name) {
        Matcher m = KEY.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(name.apply(m.group(1))));
        }
        m.appendTail(out);
        return out.toString();
    }
}
