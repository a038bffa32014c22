package dptrain.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/** Lazily decodes the lines of a text file into examples, skipping the lines the decoder returns no example for. */
final class LineExamples implements Iterator<Example> {
    /** Decodes one line (1-based {@code lineNumber}); null when the line holds no example. */
    interface LineDecoder {
        Example decode(String line, long lineNumber);
    }

    private final BufferedReader reader;
    private final LineDecoder decoder;
    private long lineNumber;
    private Example next;
    private boolean done;

    LineExamples(BufferedReader reader, LineDecoder decoder) {
        this.reader = reader;
        this.decoder = decoder;
    }

    @Override
    public boolean hasNext() {
        while (next == null && !done) {
            String line;
            try {
                line = reader.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (line == null) {
                done = true;
            } else {
                next = decoder.decode(line, ++lineNumber);
            }
        }
        return next != null;
    }

    @Override
    public Example next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Example example = next;
        next = null;
        return example;
    }
}
