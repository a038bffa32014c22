/**
 * Integration tests on a real Spark standalone cluster on loopback, driven as a user drives it: deploy/local-cluster
 * starts and stops it, deploy/bin/dptrain-submit submits the shaded application jar to it.
 */
package dptrain.cluster;
