package dev.tickwatch.bisect;

import dev.tickwatch.boot.loop.LoopResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A batch as shards of {@code tickwatch boot-loop} on a cluster (issue 16, part 5): the batch's
 * boot-loop arguments ({@link BootSettings#bootLoopArgs}) go to a cluster engine, which runs
 * them as {@code shards} shards, stops all of them once one hangs, and merges their results.
 * The engines (Slurm, Kubernetes) live in the cluster package; this adapter only needs their
 * one method, so {@code new ShardedStepRunner("slurm", slurmRunner::run, settings, 4)} wires one in.
 */
public final class ShardedStepRunner implements StepRunner {

    /** The cluster engine's one method: boot-loop arguments, the shard count, a work folder. */
    @FunctionalInterface
    public interface ShardEngine {
        LoopResult run(List<String> bootLoopArgs, int shards, Path workDir) throws InterruptedException;
    }

    private final String name;
    private final ShardEngine engine;
    private final BootSettings settings;
    private final int shards;

    public ShardedStepRunner(String name, ShardEngine engine, BootSettings settings, int shards) {
        if (shards < 1) {
            throw new IllegalArgumentException("shards: " + shards + " (expected: >= 1)");
        }
        this.name = name;
        this.engine = engine;
        this.settings = settings;
        this.shards = shards;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LoopResult run(BootPlan plan) throws InterruptedException {
        Path work = plan.diagnostics().resolve(String.format(java.util.Locale.ROOT, "%s-batch-%016x", name, plan.seed()));
        try {
            Files.createDirectories(work);
        } catch (IOException e) {
            throw new BisectException("cannot create " + work + ": " + e.getMessage(), e);
        }
        return engine.run(settings.bootLoopArgs(plan), Math.min(shards, plan.boots()), work);
    }
}
