package dev.tickwatch.boot.cluster;

import dev.tickwatch.TickwatchException;

/**
 * A cluster could not run a step's shards: a submission refused ({@code sbatch: error: ...}), a
 * tool missing, the scheduler unreachable, or a shard that failed on its usage (exit >= 128, the
 * same for every shard). Not thrown for hangs or "cannot test": those are in the result.
 */
public class ClusterException extends TickwatchException {

    public ClusterException(String message) {
        super(message);
    }

    public ClusterException(String message, Throwable cause) {
        super(message, cause);
    }
}
