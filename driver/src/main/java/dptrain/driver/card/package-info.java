/**
 * What a model.zip says about itself: the model card written beside the network when a run saves
 * it (architecture, data, preprocessing, final metrics, versions), and describing any model.zip,
 * deriving what the network tells for one written without a card.
 */
package dptrain.driver.card;
