package dptrain.inference;

import dptrain.data.Minibatch;
import dptrain.spec.TargetEncoding;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What one partition's rows say about a model: DL4J's {@link Evaluation} (confusion matrix,
 * top-k counts) and the summed loss. Parts merge by adding counts, so the merged result equals
 * one Evaluation over all rows on one machine.
 */
public final class PartitionEvaluation implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Evaluation evaluation;
    private double lossSum;
    private long examples;

    private PartitionEvaluation(Evaluation evaluation) {
        this.evaluation = evaluation;
    }

    /** An empty evaluation for a model with {@code classes} classes counting top-{@code topK} accuracy. */
    public static PartitionEvaluation empty(int classes, int topK) {
        return new PartitionEvaluation(new Evaluation(classNames(classes), topK));
    }

    /**
     * An empty evaluation for a binary classifier that predicts class 1 when its score is above
     * {@code threshold} (DL4J's binary decision threshold), counting top-{@code topK} accuracy.
     */
    public static PartitionEvaluation empty(int classes, int topK, double threshold) {
        PartitionEvaluation part = empty(classes, topK);
        part.evaluation.setBinaryDecisionThreshold(threshold);
        return part;
    }

    /** Class names "0" … "classes-1", the labels DL4J's Evaluation reports. */
    public static List<String> classNames(int classes) {
        List<String> names = new ArrayList<>(classes);
        for (int c = 0; c < classes; c++) {
            names.add(String.valueOf(c));
        }
        return names;
    }

    /**
     * Evaluates {@code model} on {@code batches} in inference mode (no dropout): per minibatch, DL4J's
     * mean loss (as {@code net.score}) weighted by its rows, and the Evaluation counts.
     */
    public static PartitionEvaluation of(InferenceModel model, Iterator<Minibatch> batches, int topK) {
        return of(model, batches, empty(model.classes(), topK));
    }

    /** As {@link #of(InferenceModel, Iterator, int)}, for a binary classifier cut at {@code threshold}. */
    public static PartitionEvaluation of(InferenceModel model, Iterator<Minibatch> batches, int topK,
            double threshold) {
        return of(model, batches, empty(model.classes(), topK, threshold));
    }

    private static PartitionEvaluation of(InferenceModel model, Iterator<Minibatch> batches, PartitionEvaluation part) {
        MultiLayerNetwork net = model.network();
        while (batches.hasNext()) {
            Minibatch batch = batches.next();
            INDArray features = batch.featuresArray();
            INDArray targets = batch.targetsArray();
            part.lossSum += net.score(new DataSet(features, targets), false) * batch.rows();
            part.examples += batch.rows();
            INDArray output = net.output(features, false);
            part.evaluation.eval(evaluationLabels(batch, model), output);
        }
        return part;
    }

    /** Labels as Evaluation wants them: one-hot rows, or the 0/1 column of a single thresholded unit. */
    private static INDArray evaluationLabels(Minibatch batch, InferenceModel model) {
        if (model.encoding() == TargetEncoding.SCALAR) {
            return batch.targetsArray();
        }
        float[] oneHot = new float[batch.rows() * model.outputSize()];
        for (int r = 0; r < batch.rows(); r++) {
            oneHot[r * model.outputSize() + batch.label(r)] = 1f;
        }
        return Nd4j.create(oneHot, new long[] {batch.rows(), model.outputSize()}, 'c');
    }

    /** Adds {@code other}'s counts and loss to this one's; returns this. */
    public PartitionEvaluation merge(PartitionEvaluation other) {
        evaluation.merge(other.evaluation);
        lossSum += other.lossSum;
        examples += other.examples;
        return this;
    }

    /** DL4J's evaluation over the rows seen so far. */
    public Evaluation evaluation() {
        return evaluation;
    }

    /** Mean loss per example, as DL4J's {@code score} computes it (with any regularization terms). */
    public double meanLoss() {
        return examples == 0 ? Double.NaN : lossSum / examples;
    }

    public long examples() {
        return examples;
    }
}
