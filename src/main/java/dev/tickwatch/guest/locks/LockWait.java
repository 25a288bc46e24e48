package dev.tickwatch.guest.locks;

/**
 * The lock one task waits on, and who holds it.
 *
 * @param address    the lock itself (the struct mutex, rw_semaphore, ...; on PREEMPT_RT the lock
 *                   that embeds the rt_mutex_base when the stack names which one)
 * @param name       {@code symbol[+0xoff] [module]} when the lock lies in the kernel image or a
 *                   module's data; null for a lock in the heap
 * @param owner      the owner's task_struct, 0 when none is recorded (readers, or a hand-over)
 * @param ownerPid   -1 when there is no owner or it is not in the task list
 * @param ownerComm  null when {@code ownerPid} is -1
 * @param readers    for an rw_semaphore held by readers: how many, else 0
 * @param foundBy    where the kernel recorded the wait: {@code task_struct.pi_blocked_on}, or the
 *                   waiter found on the task's stack and its address
 */
public record LockWait(LockKind kind, long address, String name, long owner, int ownerPid, String ownerComm,
        long readers, String foundBy) {

    public boolean hasOwnerTask() {
        return ownerPid >= 0;
    }

    /** {@code mutex lab_mutex_a [tickwatch_lab] at 0x...}, or {@code mutex at 0x...} for a heap lock. */
    public String describeLock() {
        return kind.label() + (name != null ? " " + name : "") + " at 0x" + Long.toHexString(address);
    }

    /** {@code held by NAME (pid N)}, {@code held by readers (2)}, or why no holder is named. */
    public String describeOwner() {
        if (ownerPid >= 0) {
            return "held by " + ownerComm + " (pid " + ownerPid + ")";
        }
        if (readers > 0) {
            return "held by readers (" + readers + ")";
        }
        if (owner != 0) {
            return "held by task 0x" + Long.toHexString(owner) + " (not in the task list)";
        }
        return "with no owner recorded (being handed over)";
    }
}
