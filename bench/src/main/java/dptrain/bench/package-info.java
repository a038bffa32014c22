/** Benchmarks run by deploy/bin/dptrain-bench: dptrain against single-process DL4J on the same data. */
package dptrain.bench;
