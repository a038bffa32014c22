package dptrain.driver.input;

import java.io.Serializable;

/**
 * One dataset to read: where, in which format, and how to turn its values into features.
 *
 * @param uri        a Hadoop filesystem URI or local path (file, folder or glob; for IDX the images file or
 *                   a folder holding one images/labels pair)
 * @param format     the file format
 * @param scale      every feature value is multiplied by this (1/255 for IDX bytes by default)
 * @param labelColumn CSV only: 0-based index of the label column
 * @param header     CSV only: the first line of each file is a header
 * @param delimiter  CSV only: the field delimiter
 * @param featuresColumn Parquet only: the column holding features (a Spark ML vector or a numeric array)
 * @param labelName  Parquet only: the column holding integral labels
 * @param skipBadRecords leave out records that cannot become examples, counting them, instead of failing
 */
public record DataInput(String uri, DataFormat format, float scale, int labelColumn, boolean header, char delimiter,
        String featuresColumn, String labelName, boolean skipBadRecords) implements Serializable {

    /** IDX bytes become [0, 1] features, as the book does with {@code / 255}. */
    public static final float IDX_DEFAULT_SCALE = 1f / 255f;

    public static DataInput idx(String uri) {
        return new DataInput(uri, DataFormat.IDX, IDX_DEFAULT_SCALE, 0, false, ',', "features", "label", false);
    }
}
