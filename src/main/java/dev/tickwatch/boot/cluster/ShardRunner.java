package dev.tickwatch.boot.cluster;

import dev.tickwatch.boot.loop.LoopResult;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs one boot loop as shards on a cluster and joins their results: what {@code tickwatch bisect
 * --runner slurm|k8s} calls for each step. When it returns, no shard of the step runs any more.
 */
public interface ShardRunner {

    /**
     * Runs {@code tickwatch boot-loop ARGS --shard I/N --results WORKDIR/shard-I.jsonl} for I in
     * 0..N-1, stops every shard once the step has its hang (see the runners' {@code stopAfterHangs}),
     * and merges the shard files as {@code tickwatch merge} does.
     *
     * @param bootLoopArgs boot-loop's arguments, without {@code --shard} and {@code --results}; paths
     *                     in them must mean the same on the nodes (absolute, on the shared file system)
     * @param shards       N >= 1
     * @param workDir      a folder every node sees at the same path; earlier shard files in it are removed
     * @return the merged result: HUNG if any shard's boot hung, CANNOT_TEST if boots are missing
     *         (a shard lost, or stopped before its boots) and none hung, else OK
     * @throws ClusterException     the cluster refused or failed the job, or a shard exited with a
     *                              usage error (>= 128)
     * @throws InterruptedException interrupted: the job is cancelled first
     */
    LoopResult run(List<String> bootLoopArgs, int shards, Path workDir) throws InterruptedException;
}
