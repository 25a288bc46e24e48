package dev.tickwatch.guest.locks;

/** The sleeping locks whose waiters and owners the kernel records where they can be read. */
public enum LockKind {
    /** struct mutex: a mutex_waiter on the waiter's stack, the owner in mutex.owner (non-RT). */
    MUTEX("mutex"),
    /** struct rw_semaphore: an rwsem_waiter on the waiter's stack, a writer owner in sem.owner (non-RT). */
    RW_SEMAPHORE("rw_semaphore"),
    /** struct rt_mutex (or a lock built on one that the stack does not name): task_struct.pi_blocked_on. */
    RT_MUTEX("rt_mutex"),
    /** spinlock_t or rwlock_t on PREEMPT_RT, sleeping on an rt_mutex (TASK_RTLOCK_WAIT). */
    RT_SPINLOCK("spinlock (rt)");

    private final String label;

    LockKind(String label) {
        this.label = label;
    }

    /** As the kernel developer calls it: mutex, rw_semaphore, rt_mutex, spinlock (rt). */
    public String label() {
        return label;
    }
}
