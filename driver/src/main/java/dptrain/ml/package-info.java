/**
 * The Spark ML API: {@link dptrain.ml.DptrainClassifier} and {@link dptrain.ml.DptrainRegressor},
 * Estimators that train a dptrain model data-parallel on a DataFrame, and the Transformers they
 * return; all work in Pipelines, with CrossValidator, and save and load through Spark ML persistence.
 */
package dptrain.ml;
