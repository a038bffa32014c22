package dptrain.spec;

import java.util.List;

/**
 * What flows from one layer of a Keras-terms spec to the next, per example and in Keras's axis order (channels
 * last): a flat vector, an image (height, width, channels), a sequence (timesteps, features) or the token ids of
 * a sequence (timesteps), which only an embedding takes.
 */
record LayerShape(Kind kind, List<Integer> dims) {

    enum Kind { FLAT, IMAGE, SEQUENCE, TOKENS }

    static LayerShape flat(long size) {
        return new LayerShape(Kind.FLAT, List.of(Math.toIntExact(size)));
    }

    static LayerShape image(int height, int width, int channels) {
        return new LayerShape(Kind.IMAGE, List.of(height, width, channels));
    }

    static LayerShape sequence(int timesteps, int features) {
        return new LayerShape(Kind.SEQUENCE, List.of(timesteps, features));
    }

    static LayerShape tokens(int timesteps) {
        return new LayerShape(Kind.TOKENS, List.of(timesteps));
    }

    int dim(int axis) {
        return dims.get(axis);
    }

    long size() {
        long size = 1;
        for (int d : dims) {
            size *= d;
        }
        return size;
    }

    /** As a user reads it in a message, e.g. "an image (3, 3, 64)". */
    String describe() {
        String dimensions = "(" + String.join(", ", dims.stream().map(String::valueOf).toList())
                + (dims.size() == 1 && kind != Kind.FLAT ? "," : "") + ")";
        return switch (kind) {
            case FLAT -> "a flat vector " + dimensions;
            case IMAGE -> "an image " + dimensions;
            case SEQUENCE -> "a sequence " + dimensions;
            case TOKENS -> "token ids " + dimensions;
        };
    }
}
