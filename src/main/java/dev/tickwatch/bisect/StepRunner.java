package dev.tickwatch.bisect;

import dev.tickwatch.boot.loop.LoopResult;

/**
 * Runs one batch of a revision's boots and says what happened: {@link LocalStepRunner} on this
 * machine's boot-loop engine, {@link ShardedStepRunner} as shards on a cluster. A batch that is
 * not {@link BootPlan#keepGoing()} ends at its first hang (on every shard). A runner never
 * reports a boot it did not see end: boots cut short by the end of the batch are missing.
 */
public interface StepRunner {

    /** @return the batch's boots (a hang, if any, in {@link LoopResult#firstBad()}) */
    LoopResult run(BootPlan plan) throws InterruptedException;

    /** "local", "slurm", "k8s": for the plan's words. */
    String name();
}
