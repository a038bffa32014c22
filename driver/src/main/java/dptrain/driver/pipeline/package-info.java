/**
 * From examples to cached minibatches: each replica's minibatch size ({@link BatchScope}), the seeded
 * shuffle, the validation split or the K folds, normalization fitted on the training part only, and
 * one partition per replica (filled in order by a shuffle without a sort), kept beside its task
 * after an executor loss.
 */
package dptrain.driver.pipeline;
