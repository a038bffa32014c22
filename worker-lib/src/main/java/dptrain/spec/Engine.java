package dptrain.spec;

import java.util.Locale;

/** Which code trains a replica: DL4J's own {@code MultiLayerNetwork.fit}, or dptrain's dense-stack engine. */
public enum Engine {
    /** The dense-stack engine when it supports the network (see {@link DenseStackSupport}), else DL4J. */
    AUTO,
    /** DL4J's {@code MultiLayerNetwork.fit}, bit for bit what single-process DL4J computes. */
    DL4J,
    /** The dense-stack engine; a network it does not support is refused before training. */
    DENSE;

    /** The name used in specs and on the command line. */
    public String specName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The engine that trains {@code spec}'s network: AUTO resolved to DENSE or DL4J. */
    public Engine resolve(DenseStackSupport support) {
        if (this == AUTO) {
            return support.supported() ? DENSE : DL4J;
        }
        return this;
    }
}
