/**
 * Applying a trained model to partitions where the data lives: evaluation (loss, accuracy, DL4J's
 * {@code Evaluation}), the confusion matrix, a binary classifier's metrics (threshold figures, ROC
 * and PR AUC), and predictions; and reading a saved {@code model.zip}.
 */
package dptrain.driver.inference;
