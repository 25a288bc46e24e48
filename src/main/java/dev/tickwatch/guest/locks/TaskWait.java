package dev.tickwatch.guest.locks;

/**
 * One blocked task in the wait-for graph: the lock it waits on, or why none could be read.
 *
 * @param task    its task_struct
 * @param state   the ps letter (D, S, or R for a PREEMPT_RT task in TASK_RTLOCK_WAIT)
 * @param waitsOn null when no lock was found; then {@code reason} says why
 * @param reason  null when {@code waitsOn} is set
 */
public record TaskWait(long task, int pid, String comm, char state, LockWait waitsOn, String reason) {

    /** {@code insmod (pid 92) waits for mutex ma at 0x... held by insmod (pid 93)}, or the reason. */
    public String line() {
        if (waitsOn == null) {
            return comm + " (pid " + pid + ", " + state + "): " + reason;
        }
        String owner = waitsOn.describeOwner() + (waitsOn.owner() == task ? " itself" : "");
        return LockGraph.line(comm, pid, waitsOn.describeLock(), owner);
    }
}
