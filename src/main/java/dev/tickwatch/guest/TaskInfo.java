package dev.tickwatch.guest;

/**
 * One task from the kernel's task list.
 *
 * @param state          the letter ps and sysrq-t print: R, S, D, T, t, X, Z, P, I
 * @param stateBits      task_struct.__state as read
 * @param switchCount    nvcsw + nivcsw: unchanged across samples means the task has not run
 * @param lastArrivalNs  sched_info.last_arrival: when it last got a CPU (rq clock, ns); null without schedstats
 * @param blockedForNs   for a task in D state: the newest CPU run-queue clock minus lastArrivalNs,
 *                       how long it has been off CPU (the hung-task detector's measure), else null
 */
public record TaskInfo(long address, int pid, String comm, char state, long stateBits, int cpu, boolean kernelThread,
        long switchCount, Long lastArrivalNs, Long blockedForNs) {

    /** TASK_UNINTERRUPTIBLE without TASK_NOLOAD: what the hung-task detector watches. */
    public boolean uninterruptible() {
        return state == 'D';
    }
}
