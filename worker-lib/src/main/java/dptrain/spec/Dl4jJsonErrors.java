package dptrain.spec;

import org.nd4j.shade.jackson.core.JsonLocation;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.JsonMappingException;

/** Words DL4J's deserialization failures (thrown through its shaded Jackson) as spec errors with a key path. */
final class Dl4jJsonErrors {

    private Dl4jJsonErrors() {
    }

    static SpecException toSpecException(RuntimeException e, String source) {
        String keyPath = "";
        String location = "";
        String detail = null;
        for (Throwable cause = e; cause != null && detail == null; cause = cause.getCause()) {
            if (cause instanceof JsonProcessingException jackson) {
                if (jackson instanceof JsonMappingException mapping) {
                    keyPath = keyPath(mapping);
                }
                JsonLocation where = jackson.getLocation();
                if (where != null && where.getLineNr() > 0) {
                    location = " (line " + where.getLineNr() + ", column " + where.getColumnNr() + ")";
                }
                detail = jackson.getOriginalMessage();
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        if (detail == null) {
            detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        return new SpecException(source, keyPath, "this is not a DL4J MultiLayerConfiguration that DL4J 1.0.0-M2.1 "
                + "can read" + location + ": " + detail.strip().replaceAll("\\s*\\R\\s*", " "), e);
    }

    /** The reference chain as a key path, e.g. {@code confs[0].layer}. */
    private static String keyPath(JsonMappingException mapping) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference reference : mapping.getPath()) {
            if (reference.getFieldName() != null) {
                if (path.length() > 0) {
                    path.append('.');
                }
                path.append(reference.getFieldName());
            } else if (reference.getIndex() >= 0) {
                path.append('[').append(reference.getIndex()).append(']');
            }
        }
        return path.toString();
    }
}
