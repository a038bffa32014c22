package dptrain.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;

/**
 * The header of an IDX file, the format of MNIST and Fashion-MNIST: a magic number {@code 0x0000TTDD} (data type TT,
 * dimension count DD) followed by one big-endian 32-bit size per dimension. Images files have magic 0x00000803
 * (count, rows, columns), labels files 0x00000801 (count); only the unsigned byte data type (0x08) is supported.
 */
public final class IdxHeader implements Serializable {
    private static final long serialVersionUID = 1L;

    static final int UNSIGNED_BYTE = 0x08;
    static final int LABELS_MAGIC = 0x00000801;
    static final int IMAGES_MAGIC = 0x00000803;
    private static final String EXPECTED_MAGIC = "expected 0x00000801 (labels) or 0x00000803 (images)";

    private final int[] dimensions;
    private final int recordSize;

    private IdxHeader(int[] dimensions, int recordSize) {
        this.dimensions = dimensions;
        this.recordSize = recordSize;
    }

    /**
     * Reads a header, consuming exactly its bytes (4 + 4 per dimension), so that the stream is left at record 1.
     *
     * @param source the input's name for error messages, usually the file name
     * @throws DataFormatException if the input is not an IDX images or labels file of unsigned bytes, declares an
     *                             empty dimension, or ends inside the header
     */
    public static IdxHeader read(InputStream in, String source) throws IOException {
        byte[] magicBytes = in.readNBytes(4);
        if (magicBytes.length < 4) {
            throw truncated(source, magicBytes.length, 4);
        }
        int magic = bigEndianInt(magicBytes, 0);
        int dataType = magicBytes[2] & 0xFF;
        int dimensionCount = magicBytes[3] & 0xFF;
        if ((magic >>> 16) != 0 || typeName(dataType) == null) {
            throw new DataFormatException(source, -1, -1, notIdxProblem(magic));
        }
        if (dimensionCount != 1 && dimensionCount != 3) {
            throw new DataFormatException(source, -1, -1, "magic number " + hex(magic) + " declares "
                    + dimensionCount + " dimensions; " + EXPECTED_MAGIC
                    + ", that is 1 dimension for labels or 3 (count, rows, columns) for images");
        }
        if (dataType != UNSIGNED_BYTE) {
            throw new DataFormatException(source, -1, -1, "magic number " + hex(magic) + " declares data type "
                    + String.format("0x%02X", dataType) + " (" + typeName(dataType) + "), which is not supported; "
                    + "expected 0x08 (unsigned byte), as in magic number "
                    + hex((UNSIGNED_BYTE << 8) | dimensionCount));
        }

        int headerBytes = 4 + 4 * dimensionCount;
        byte[] sizeBytes = in.readNBytes(4 * dimensionCount);
        if (sizeBytes.length < 4 * dimensionCount) {
            throw truncated(source, 4 + sizeBytes.length, headerBytes);
        }
        int[] dimensions = new int[dimensionCount];
        long recordSize = 1;
        for (int d = 0; d < dimensionCount; d++) {
            long size = bigEndianInt(sizeBytes, 4 * d) & 0xFFFF_FFFFL;
            if (size == 0 || size > Integer.MAX_VALUE) {
                throw new DataFormatException(source, -1, -1, "the header declares size " + size + " for dimension "
                        + (d + 1) + " of " + dimensionCount + " " + dimensionName(dimensionCount, d)
                        + "; expected a size from 1 to " + Integer.MAX_VALUE);
            }
            dimensions[d] = (int) size;
            if (d > 0) {
                recordSize *= size;
            }
        }
        if (recordSize > Integer.MAX_VALUE) {
            throw new DataFormatException(source, -1, -1, "the header declares records of " + recordSize
                    + " bytes each; expected at most " + Integer.MAX_VALUE + " bytes per record");
        }
        return new IdxHeader(dimensions, (int) recordSize);
    }

    /** 1 for labels files, 3 for images files. */
    public int dimensionCount() {
        return dimensions.length;
    }

    /** The size of dimension {@code index} (0-based): 0 is the record count, 1 and 2 are rows and columns. */
    public int dimension(int index) {
        return dimensions[index];
    }

    /** The number of records (images or labels), the first dimension. */
    public int count() {
        return dimensions[0];
    }

    /** Bytes per record: the product of the dimensions after the first, so rows × columns for images, 1 for labels. */
    public int recordSize() {
        return recordSize;
    }

    /** The length of the header in bytes; record 1 starts here. */
    public long headerBytes() {
        return 4L + 4L * dimensions.length;
    }

    /** The length the file must have: header plus all records. */
    public long fileBytes() {
        return headerBytes() + (long) count() * recordSize;
    }

    /** The byte offset at which the record with 0-based index {@code record} starts. */
    public long recordOffset(long record) {
        return headerBytes() + record * recordSize;
    }

    public boolean isImages() {
        return dimensions.length == 3;
    }

    public boolean isLabels() {
        return dimensions.length == 1;
    }

    /** The magic number this header was read from. */
    public int magic() {
        return isImages() ? IMAGES_MAGIC : LABELS_MAGIC;
    }

    /** "images 60000x28x28" or "labels 60000", for messages. */
    String describe() {
        return isImages()
                ? "images " + dimensions[0] + "x" + dimensions[1] + "x" + dimensions[2]
                : "labels " + dimensions[0];
    }

    @Override
    public String toString() {
        return "IdxHeader{" + describe() + ", unsigned byte}";
    }

    private static String notIdxProblem(int magic) {
        String problem = "this is not an IDX file: its magic number is " + hex(magic);
        if ((magic >>> 16) == 0x1F8B) {
            problem += ", the signature of a gzip file, so the file is still compressed after one gunzip"
                    + " (compressed twice?); decompress it once more";
        }
        return problem + "; " + EXPECTED_MAGIC;
    }

    private static DataFormatException truncated(String source, int got, int expected) {
        String found = got == 0 ? "the file is empty" : "the file ends after " + got + " bytes";
        return new DataFormatException(source, -1, -1, found + ", inside the IDX header; expected a header of "
                + expected + " bytes" + (expected == 4 ? " or more" : ""));
    }

    private static String dimensionName(int dimensionCount, int d) {
        if (d == 0) {
            return "(the record count)";
        }
        return dimensionCount == 3 ? (d == 1 ? "(rows)" : "(columns)") : "";
    }

    private static String typeName(int dataType) {
        return switch (dataType) {
            case 0x08 -> "unsigned byte";
            case 0x09 -> "signed byte";
            case 0x0B -> "16-bit integer";
            case 0x0C -> "32-bit integer";
            case 0x0D -> "32-bit float";
            case 0x0E -> "64-bit float";
            default -> null;
        };
    }

    private static String hex(int value) {
        return String.format("0x%08x", value);
    }

    private static int bigEndianInt(byte[] bytes, int offset) {
        return ((bytes[offset] & 0xFF) << 24) | ((bytes[offset + 1] & 0xFF) << 16)
                | ((bytes[offset + 2] & 0xFF) << 8) | (bytes[offset + 3] & 0xFF);
    }
}
