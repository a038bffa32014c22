package dptrain.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** An uncompressed IDX images/labels pair read on one machine, for single-machine reference results. */
final class IdxRows {
    private IdxRows() {
    }

    /** Features (pixels times {@code scale}) and one-hot labels of the 10 classes, in file order. */
    static DataSet read(Path images, float scale) throws IOException {
        ByteBuffer pixels = ByteBuffer.wrap(Files.readAllBytes(images));
        byte[] labels = Files.readAllBytes(images.resolveSibling(images.getFileName().toString()
                .replace("images-idx3", "labels-idx1")));
        int rows = pixels.getInt(4);
        int columns = pixels.getInt(8) * pixels.getInt(12);
        float[] x = new float[rows * columns];
        float[] y = new float[rows * 10];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++) {
                x[r * columns + c] = (pixels.get(16 + r * columns + c) & 0xff) * scale;
            }
            y[r * 10 + labels[8 + r]] = 1f;
        }
        return new DataSet(Nd4j.create(x, new long[] {rows, columns}, 'c'), Nd4j.create(y, new long[] {rows, 10}, 'c'));
    }
}
