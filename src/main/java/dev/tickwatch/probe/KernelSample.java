package dev.tickwatch.probe;

import java.util.List;

/**
 * The guest kernel's own time keeping at one moment, read from its memory.
 *
 * @param blockedTasks tasks in D state with how long each has been off CPU; null when the task
 *                     list was not read in this sample (it is read less often)
 */
public record KernelSample(long jiffies, long lastJiffiesUpdateNs, int tickDoTimerCpu, int hz,
        List<Cpu> cpus, List<BlockedTask> blockedTasks) {

    /** Per-CPU kernel readings. */
    public record Cpu(int cpu, long localTimerInterrupts, long expiresNextNs, long hrtimerEvents,
            Boolean tickStopped, String currentComm, int currentPid) {
    }

    /** A task in D state (TASK_UNINTERRUPTIBLE without TASK_NOLOAD). */
    public record BlockedTask(int pid, String comm, double blockedForS) {
    }
}
