package dptrain.driver.pipeline;

import org.apache.spark.storage.StorageLevel;

/**
 * Where the minibatches, built once from the shuffled data, are kept between averaging rounds.
 * Every round reads its partition's next K minibatches from there.
 */
public enum CacheMode {
    /** In executor memory as Java objects: fastest; needs the dataset's float size in executor memory. */
    MEMORY(StorageLevel.MEMORY_ONLY()),
    /** Serialized on executor disks: datasets larger than memory, at the cost of reading them each round. */
    DISK(StorageLevel.DISK_ONLY()),
    /** Not kept: each round rebuilds its minibatches from Spark's shuffle files. Least memory and disk. */
    NONE(StorageLevel.NONE());

    private final StorageLevel level;

    CacheMode(StorageLevel level) {
        this.level = level;
    }

    StorageLevel storageLevel() {
        return level;
    }

    /**
     * Where the examples a read decodes are kept until their minibatches are built: in memory, spilling to
     * disk, when the minibatches are kept in memory; on disk otherwise, so that memory does not grow with the
     * data for a user who chose disk or nothing for the minibatches.
     */
    public StorageLevel examplesLevel() {
        return this == MEMORY ? StorageLevel.MEMORY_AND_DISK() : StorageLevel.DISK_ONLY();
    }
}
