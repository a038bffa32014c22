package dptrain.driver.checkpoint;

import dptrain.driver.files.ParameterException;

/**
 * When a run writes checkpoints, how many it keeps, and whether it resumes from one.
 *
 * @param folder      where checkpoints go (any Hadoop filesystem URI), or null for none
 * @param everyRounds also checkpoint every this many averaging rounds within an epoch; 0 for epoch ends only
 * @param keep        newest valid checkpoints kept; older ones are deleted once a newer one is complete
 * @param resume      what to do with checkpoints already in {@code folder}
 */
public record Checkpointing(String folder, int everyRounds, int keep, Resume resume) {

    /** Checkpoints kept unless told otherwise. */
    public static final int DEFAULT_KEEP = 3;

    /** No checkpoints (library use, cross-validation folds). */
    public static final Checkpointing NONE = new Checkpointing(null, 0, DEFAULT_KEEP, Resume.FRESH);

    /** What a run does with checkpoints an earlier run left. */
    public enum Resume {
        /** Start from the spec's initialization; earlier checkpoints are deleted. */
        FRESH,
        /** Continue from the newest valid checkpoint when there is one, else start fresh. */
        IF_PRESENT,
        /** Continue from the newest valid checkpoint; fail when there is none. */
        REQUIRED
    }

    public Checkpointing {
        if (everyRounds < 0) {
            throw ParameterException.notAllowed("checkpoint_every", everyRounds,
                    "a whole number of averaging rounds >= 1, or 0 for epoch ends only");
        }
        if (keep < 1) {
            throw ParameterException.notAllowed("keep_checkpoints", keep, "a whole number >= 1");
        }
        if (resume == null) {
            throw new IllegalArgumentException("resume must be given");
        }
    }

    /** The checkpoints of a run writing to {@code output}: {@code output/checkpoints}. */
    public static Checkpointing under(String output, int everyRounds, int keep, Resume resume) {
        return new Checkpointing(output == null ? null : output.replaceAll("/+$", "") + "/checkpoints", everyRounds,
                keep, resume);
    }

    public boolean enabled() {
        return folder != null;
    }
}
