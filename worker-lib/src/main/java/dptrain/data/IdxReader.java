package dptrain.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.zip.GZIPInputStream;

/**
 * Reads examples from a pair of IDX files (images and labels, as MNIST ships them), raw or gzip-compressed.
 * Records are streamed one at a time, so a range of a large file costs memory for one record only.
 */
public final class IdxReader {
    private static final int BUFFER_BYTES = 1 << 16;

    private IdxReader() {
    }

    /**
     * Returns a stream of the IDX bytes, gunzipping transparently when {@code raw} starts with the gzip magic
     * 0x1f 0x8b. The result is buffered; closing it closes {@code raw}.
     */
    public static InputStream maybeGunzip(InputStream raw) throws IOException {
        InputStream in = raw.markSupported() ? raw : new BufferedInputStream(raw, BUFFER_BYTES);
        in.mark(2);
        int first = in.read();
        int second = in.read();
        in.reset();
        if (first == 0x1F && second == 0x8B) {
            return new BufferedInputStream(new GZIPInputStream(in, BUFFER_BYTES), BUFFER_BYTES);
        }
        return in;
    }

    /**
     * Reads the examples with 0-based indices [from, from + count) from an images file and its labels file.
     *
     * <p>Both streams must be positioned at the start of their file, before the header, and already decompressed
     * (see {@link #maybeGunzip}). The headers are read and checked and the streams are skipped to {@code from}
     * before this method returns; the examples are then read lazily by the iterator, which does not close the
     * streams. Features are the raw pixel values 0..255 as floats.
     *
     * @throws DataFormatException      if a header is invalid, the files are swapped or hold different numbers of
     *                                  records, or a file ends early (then thrown by the iterator for the record
     *                                  that is cut short)
     * @throws IllegalArgumentException if [from, from + count) is not within the files' records
     */
    public static Iterator<Example> read(InputStream images, String imagesSource, InputStream labels,
                                         String labelsSource, long from, long count) throws IOException {
        InputStream imageIn = buffered(images);
        InputStream labelIn = buffered(labels);
        IdxHeader imageHeader = IdxHeader.read(imageIn, imagesSource);
        IdxHeader labelHeader = IdxHeader.read(labelIn, labelsSource);
        checkRoles(imageHeader, imagesSource, labelHeader, labelsSource);
        if (imageHeader.count() != labelHeader.count()) {
            throw new DataFormatException(imagesSource, -1, -1, "the images file holds " + imageHeader.count()
                    + " images but the labels file " + labelsSource + " holds " + labelHeader.count()
                    + " labels; expected the same number of records in both files, one label per image");
        }
        checkRange(imageHeader, imagesSource, from, count);
        RecordStream imageRecords = new RecordStream(imageIn, imagesSource, imageHeader, from);
        RecordStream labelRecords = new RecordStream(labelIn, labelsSource, labelHeader, from);
        return new ExampleIterator(imageRecords, labelRecords, count);
    }

    /**
     * Reads the images with 0-based indices [from, from + count) from an images file alone, for data without
     * labels: each example carries the placeholder label {@link Example#UNLABELED}. The stream is handled as
     * {@link #read} handles it.
     *
     * @throws DataFormatException      if the header is invalid or is a labels file's, or the file ends early (then
     *                                  thrown by the iterator for the record that is cut short)
     * @throws IllegalArgumentException if [from, from + count) is not within the file's records
     */
    public static Iterator<Example> readImages(InputStream images, String imagesSource, long from, long count)
            throws IOException {
        InputStream imageIn = buffered(images);
        IdxHeader imageHeader = IdxHeader.read(imageIn, imagesSource);
        if (!imageHeader.isImages()) {
            throw new DataFormatException(imagesSource, -1, -1, "this is a labels file (magic number 0x00000801)"
                    + " but was given as the images file; expected magic number 0x00000803 (images)");
        }
        checkRange(imageHeader, imagesSource, from, count);
        return new ExampleIterator(new RecordStream(imageIn, imagesSource, imageHeader, from), null, count);
    }

    private static void checkRange(IdxHeader imageHeader, String imagesSource, long from, long count) {
        if (from < 0 || count < 0 || from > imageHeader.count() - count) {
            throw new IllegalArgumentException("Cannot read records [" + from + ", " + (from + count) + ") of "
                    + imagesSource + ": it holds " + imageHeader.count() + " records, so the range must lie within [0, "
                    + imageHeader.count() + "].");
        }
    }

    private static void checkRoles(IdxHeader imageHeader, String imagesSource, IdxHeader labelHeader,
                                   String labelsSource) {
        if (imageHeader.isLabels() && labelHeader.isImages()) {
            throw new DataFormatException(imagesSource, -1, -1, "this is a labels file and " + labelsSource
                    + " is an images file; the two files' names or contents are swapped");
        }
        if (!imageHeader.isImages()) {
            throw new DataFormatException(imagesSource, -1, -1, "this is a labels file (magic number 0x00000801)"
                    + " but was given as the images file; expected magic number 0x00000803 (images)");
        }
        if (!labelHeader.isLabels()) {
            throw new DataFormatException(labelsSource, -1, -1, "this is an images file (magic number 0x00000803)"
                    + " but was given as the labels file; expected magic number 0x00000801 (labels)");
        }
    }

    private static InputStream buffered(InputStream in) {
        return in instanceof BufferedInputStream ? in : new BufferedInputStream(in, BUFFER_BYTES);
    }

    /** The records of one IDX file after its header, read in order; tracks the position to report truncation. */
    private static final class RecordStream {
        private final InputStream in;
        private final String source;
        private final IdxHeader header;
        private long nextRecord;
        /** After skip() the position is only assumed: a FileInputStream skips past its end without complaint. */
        private boolean positionUnverified;

        RecordStream(InputStream in, String source, IdxHeader header, long from) throws IOException {
            this.in = in;
            this.source = source;
            this.header = header;
            skipRecords(from);
        }

        private void skipRecords(long records) throws IOException {
            long wanted = records * header.recordSize();
            long skipped = 0;
            try {
                while (skipped < wanted) {
                    long step = in.skip(wanted - skipped);
                    if (step <= 0) {
                        // skip() may return 0 before the end; read() tells the end apart.
                        if (in.read() < 0) {
                            throw truncated(header.recordOffset(0) + skipped);
                        }
                        step = 1;
                    }
                    skipped += step;
                }
            } catch (EOFException e) {
                throw compressedTruncated(skipped / header.recordSize(), e);
            }
            nextRecord = records;
            positionUnverified = wanted > 0;
        }

        /** Reads the next record into {@code buffer}, which holds exactly one record. */
        void readRecord(byte[] buffer) throws IOException {
            int got;
            try {
                got = in.readNBytes(buffer, 0, buffer.length);
            } catch (EOFException e) {
                throw compressedTruncated(nextRecord, e);
            }
            if (got < buffer.length) {
                throw got == 0 && positionUnverified
                        ? truncatedBefore(nextRecord)
                        : truncated(header.recordOffset(nextRecord) + got);
            }
            positionUnverified = false;
            nextRecord++;
        }

        int readLabel() throws IOException {
            int label;
            try {
                label = in.read();
            } catch (EOFException e) {
                throw compressedTruncated(nextRecord, e);
            }
            if (label < 0) {
                throw positionUnverified ? truncatedBefore(nextRecord) : truncated(header.recordOffset(nextRecord));
            }
            positionUnverified = false;
            nextRecord++;
            return label;
        }

        /** The content ends after {@code contentBytes} bytes, header included. */
        private DataFormatException truncated(long contentBytes) {
            long afterHeader = contentBytes - header.headerBytes();
            long record = afterHeader / header.recordSize();
            long bytesIntoRecord = afterHeader % header.recordSize();
            String where = bytesIntoRecord == 0
                    ? "the file ends before this record"
                    : "the file ends " + bytes(bytesIntoRecord) + " into this record";
            return DataFormatException.inRecord(source, record + 1, where + "; the header declares "
                    + declaredSize() + ", so the file should be " + header.fileBytes()
                    + " bytes long, but it ends after " + bytes(contentBytes) + " (incomplete download or copy?)");
        }

        /** The file ends somewhere before {@code record}; skip() hid exactly where. */
        private DataFormatException truncatedBefore(long record) {
            return DataFormatException.inRecord(source, record + 1, "the file ends before this record; the header"
                    + " declares " + declaredSize() + ", so the file should be " + header.fileBytes()
                    + " bytes long, but it is shorter than " + bytes(header.recordOffset(record))
                    + " (incomplete download or copy?)");
        }

        /** A gzip stream that ends early fails inside the decompressor, before we can count the bytes. */
        private DataFormatException compressedTruncated(long record, EOFException cause) {
            DataFormatException error = DataFormatException.inRecord(source, record + 1,
                    "the compressed data ends inside this record (" + cause.getMessage() + "); the header declares "
                            + declaredSize() + ", " + header.fileBytes() + " bytes once decompressed"
                            + " (incomplete download or copy?)");
            error.initCause(cause);
            return error;
        }

        private String declaredSize() {
            return header.count() + " records of " + bytes(header.recordSize()) + " each";
        }

        private static String bytes(long n) {
            return n == 1 ? "1 byte" : n + " bytes";
        }
    }

    private static final class ExampleIterator implements Iterator<Example> {
        private final RecordStream images;
        /** The labels, or null for images without labels. */
        private final RecordStream labels;
        private final byte[] pixels;
        private long remaining;

        ExampleIterator(RecordStream images, RecordStream labels, long count) {
            this.images = images;
            this.labels = labels;
            this.pixels = new byte[images.header.recordSize()];
            this.remaining = count;
        }

        @Override
        public boolean hasNext() {
            return remaining > 0;
        }

        @Override
        public Example next() {
            if (remaining <= 0) {
                throw new NoSuchElementException();
            }
            try {
                images.readRecord(pixels);
                int label = labels == null ? Example.UNLABELED : labels.readLabel();
                float[] features = new float[pixels.length];
                for (int i = 0; i < pixels.length; i++) {
                    features[i] = pixels[i] & 0xFF;
                }
                remaining--;
                return new Example(features, label);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
