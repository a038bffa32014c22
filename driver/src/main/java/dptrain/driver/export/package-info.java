/**
 * Exporting a saved model.zip to other runtimes: an ONNX graph of the network with the model's own
 * preprocessing (feature scaling, fitted normalizer) folded in, or a refusal naming the first layer
 * that has no ONNX form here.
 */
package dptrain.driver.export;
