/**
 * The Spark ML API: {@link dptrain.ml.DptrainClassifier}, an Estimator that trains a dptrain model
 * data-parallel on a DataFrame, and the Transformer it returns; both work in Pipelines, with
 * CrossValidator, and save and load through Spark ML persistence.
 */
package dptrain.ml;
