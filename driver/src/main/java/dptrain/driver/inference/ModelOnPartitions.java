package dptrain.driver.inference;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.function.BinaryOperator;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaRDDLike;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoder;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * The one way dptrain applies a model to data where the data lives: validation and test
 * evaluation during training, the test confusion matrix, {@code evaluate}, {@code predict} and
 * the Spark ML model's {@code transform}. The model is broadcast once, so task closures carry
 * only its handle; each partition runs a function over its own rows with it; and per-partition
 * results come back to be combined strictly in partition order, so a sum has the same bits
 * however the tasks finish. Closing destroys the broadcast.
 *
 * @param <M> what the tasks need of the model (a training state, DL4J parameters, ...)
 */
public final class ModelOnPartitions<M> implements AutoCloseable {
    private final Broadcast<M> model;

    private ModelOnPartitions(Broadcast<M> model) {
        this.model = model;
    }

    /** Broadcasts {@code model} once for the jobs that follow. */
    public static <M> ModelOnPartitions<M> broadcast(JavaSparkContext jsc, M model) {
        return new ModelOnPartitions<>(jsc.broadcast(model));
    }

    /** What one partition computes from the model and its rows. */
    @FunctionalInterface
    public interface PartitionFunction<M, T, R> extends Serializable {
        R apply(M model, Iterator<T> rows) throws Exception;
    }

    /** What one partition turns its rows into, lazily. */
    @FunctionalInterface
    public interface PartitionMapper<M, T, U> extends Serializable {
        Iterator<U> apply(M model, Iterator<T> rows) throws Exception;
    }

    /**
     * One Spark job: every partition of {@code data} computes its result, and the results are folded
     * into {@code identity} with {@code combine} in partition order.
     */
    public <T, R> R combine(JavaRDDLike<T, ?> data, PartitionFunction<M, T, R> perPartition, R identity,
            BinaryOperator<R> combine) {
        Broadcast<M> handle = model;
        List<Tuple2<Integer, R>> parts = new ArrayList<>(data.mapPartitionsWithIndex(
                (index, rows) -> List.of(new Tuple2<>(index, perPartition.apply(handle.value(), rows))).iterator(),
                true).collect());
        parts.sort(Comparator.comparing(Tuple2::_1));
        R total = identity;
        for (Tuple2<Integer, R> part : parts) {
            total = combine.apply(total, part._2());
        }
        return total;
    }

    /** Every partition of {@code data} mapped with the model, lazily: keep this open until the result is used. */
    public <T, U> JavaRDD<U> map(JavaRDDLike<T, ?> data, PartitionMapper<M, T, U> perPartition) {
        Broadcast<M> handle = model;
        return data.mapPartitions(rows -> perPartition.apply(handle.value(), rows), true);
    }

    /**
     * Every partition of a DataFrame mapped with the model, lazily, into rows of {@code encoder}'s
     * schema. The Dataset may be used long after this call (a Spark ML transform), so its broadcast
     * is left to Spark's cleaner rather than {@link #close}d.
     */
    public Dataset<Row> mapRows(Dataset<Row> data, PartitionMapper<M, Row, Row> perPartition, Encoder<Row> encoder) {
        Broadcast<M> handle = model;
        return data.mapPartitions(
                (org.apache.spark.api.java.function.MapPartitionsFunction<Row, Row>) rows ->
                        perPartition.apply(handle.value(), rows), encoder);
    }

    @Override
    public void close() {
        model.destroy();
    }
}
