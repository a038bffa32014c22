/**
 * The model spec: a network described in Keras terms (YAML or JSON) or as DL4J MultiLayerConfiguration JSON,
 * validated in one place and turned into an immutable, serializable {@link dptrain.spec.ModelSpec}.
 */
package dptrain.spec;
