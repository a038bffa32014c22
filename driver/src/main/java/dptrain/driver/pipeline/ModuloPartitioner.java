package dptrain.driver.pipeline;

import org.apache.spark.Partitioner;

/** Sends position {@code p} to partition {@code p % partitions}: consecutive positions spread evenly. */
final class ModuloPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;

    private final int partitions;

    ModuloPartitioner(int partitions) {
        this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
        return partitions;
    }

    @Override
    public int getPartition(Object key) {
        return (int) Math.floorMod((Long) key, (long) partitions);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ModuloPartitioner o && o.partitions == partitions;
    }

    @Override
    public int hashCode() {
        return partitions;
    }
}
