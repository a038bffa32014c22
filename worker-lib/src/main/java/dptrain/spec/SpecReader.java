package dptrain.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/** Turns spec text into a tree: JSON when the text starts with '{', YAML otherwise. */
final class SpecReader {

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private SpecReader() {
    }

    /** The parsed document; the text is JSON if it parses as JSON, so DL4J's JSON is read exactly. */
    static Parsed read(String text, String source) {
        if (looksLikeJson(text)) {
            try {
                return new Parsed(JSON.readTree(text), true);
            } catch (JsonProcessingException jsonError) {
                // A YAML flow mapping also starts with '{'; report the JSON error only if it is not YAML either.
                try {
                    return new Parsed(YAML.readTree(text), false);
                } catch (JsonProcessingException yamlError) {
                    throw syntaxError(source, "JSON", jsonError);
                }
            }
        }
        try {
            return new Parsed(YAML.readTree(text), false);
        } catch (JsonProcessingException e) {
            throw syntaxError(source, "YAML", e);
        }
    }

    /** A spec tree, and whether the text was JSON (then it can go to DL4J unchanged). */
    record Parsed(JsonNode root, boolean json) {
    }

    private static boolean looksLikeJson(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\uFEFF' && !Character.isWhitespace(c)) {
                return c == '{';
            }
        }
        return false;
    }

    private static SpecException syntaxError(String source, String format, JsonProcessingException e) {
        // SnakeYAML knows where the problem is and what it was parsing; Jackson's location is the fallback.
        if (e.getCause() instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
            String problem = "line " + line(marked.getProblemMark()) + ", column " + column(marked.getProblemMark())
                    + ": this is not valid " + format + ": " + oneLine(marked.getProblem());
            if (marked.getContext() != null && marked.getContextMark() != null) {
                problem += " (" + oneLine(marked.getContext()) + " that starts at line "
                        + line(marked.getContextMark()) + ", column " + column(marked.getContextMark()) + ")";
            }
            return new SpecException(source, "", problem, e);
        }
        JsonLocation location = e.getLocation();
        String where = location == null ? "" : "line " + location.getLineNr() + ", column " + location.getColumnNr() + ": ";
        return new SpecException(source, "", where + "this is not valid " + format + ": " + oneLine(e.getOriginalMessage()), e);
    }

    private static int line(Mark mark) {
        return mark.getLine() + 1;
    }

    private static int column(Mark mark) {
        return mark.getColumn() + 1;
    }

    /** One line, with Jackson's "[Source: ...; line: 2, column: 12]" shortened to "line 2, column 12". */
    private static String oneLine(String text) {
        if (text == null) {
            return "";
        }
        return text.strip()
                .replaceAll("\\s*\\R\\s*", " ")
                .replaceAll("\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]", "line $1, column $2");
    }
}
