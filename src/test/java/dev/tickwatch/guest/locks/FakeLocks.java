package dev.tickwatch.guest.locks;

import static dev.tickwatch.guest.btf.BtfWriter.m;

import dev.tickwatch.guest.FakeMemory;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A synthetic guest for the lock graph: BTF with Debian 6.1's real offsets (pahole of
 * 6.1.0-57-cloud-amd64 and -rt-amd64: task_struct.stack 32, pi_blocked_on 3288, thread 5312 with
 * sp at 24; mutex owner 0 / wait_list 16; mutex_waiter list 0 / task 16; rw_semaphore count 0 /
 * owner 8 / wait_list 24; rt_mutex_waiter task 80 / lock 88 / wake_state 96; rt_mutex_base owner
 * 24; on RT mutex.rtmutex 0 and rw_semaphore.rwbase.rtmutex 8), tasks with 16 KiB stacks, locks
 * in module data, and return addresses the test names.
 */
final class FakeLocks {

    static final long TASKS = 0xffff888001000000L;
    static final long STACKS = 0xffffc90000100000L;
    static final long LOCKS = 0xffffffffc0002000L;
    static final long TEXT = 0xffffffff81a00000L;
    static final int TASK_STRUCT = 9856;

    final FakeMemory memory = new FakeMemory();
    final boolean rt;
    final Btf btf;
    final List<TaskInfo> tasks = new ArrayList<>();
    final Map<Long, String> data = new HashMap<>();
    final Map<Long, String> text = new HashMap<>();
    private long nextText = TEXT;

    FakeLocks(boolean rt) {
        this.rt = rt;
        this.btf = Btf.parse(btf(rt));
    }

    static byte[] btf(boolean rt) {
        BtfWriter w = new BtfWriter();
        int ulong = w.integer("long unsigned int", 8, 0, 64);
        int sint = w.integer("int", 4, 1, 32);
        int uint = w.integer("unsigned int", 4, 0, 32);
        int chr = w.integer("char", 1, 1, 8);
        int ptr = w.ptr(ulong);
        int listHead = w.struct("list_head", 16, false, m("next", ptr, 0), m("prev", ptr, 64));
        int thread = w.struct("thread_struct", 4416, false, m("sp", ulong, 24 * 8));
        w.struct("task_struct", TASK_STRUCT, false, m("__state", uint, 24 * 8), m("stack", ptr, 32 * 8),
                m("pid", sint, 2416 * 8), m("comm", w.array(chr, uint, 16), 2976 * 8),
                m("pi_blocked_on", ptr, 3288 * 8), m("thread", thread, 5312 * 8));
        int rtBase = w.struct("rt_mutex_base", 32, false, m("wait_lock", uint, 0), m("owner", ptr, 24 * 8));
        w.struct("rt_mutex_waiter", 112, false, m("task", ptr, 80 * 8), m("lock", ptr, 88 * 8),
                m("wake_state", uint, 96 * 8), m("ww_ctx", ptr, 104 * 8));
        if (rt) {
            w.struct("mutex", 32, false, m("rtmutex", rtBase, 0));
            int rwbase = w.struct("rwbase_rt", 40, false, m("readers", sint, 0), m("rtmutex", rtBase, 64));
            w.struct("rw_semaphore", 40, false, m("rwbase", rwbase, 0));
        } else {
            w.struct("mutex", 32, false, m("owner", ulong, 0), m("wait_lock", uint, 64), m("wait_list", listHead, 128));
            w.struct("mutex_waiter", 32, false, m("list", listHead, 0), m("task", ptr, 128), m("ww_ctx", ptr, 192));
            w.struct("rw_semaphore", 40, false, m("count", ulong, 0), m("owner", ulong, 64),
                    m("wait_lock", uint, 160), m("wait_list", listHead, 192));
            w.struct("rwsem_waiter", 48, false, m("list", listHead, 0), m("task", ptr, 128), m("type", uint, 192),
                    m("timeout", ulong, 256), m("handoff_set", chr, 320));
        }
        return w.build();
    }

    LockReader reader() {
        return new LockReader(memory, btf, symbols());
    }

    LockSymbols symbols() {
        return new LockSymbols() {
            @Override
            public Optional<String> data(long address) {
                return Optional.ofNullable(data.get(address));
            }

            @Override
            public Optional<String> function(long address) {
                return Optional.ofNullable(text.get(address));
            }
        };
    }

    /** A task in {@code state} with its stack mapped and its saved sp 0x400 below the top. */
    long task(int pid, String comm, char state) {
        int i = tasks.size();
        long t = TASKS + i * 0x4000L;
        long stack = STACKS + i * 0x8000L;
        memory.map(t, TASK_STRUCT).map(stack, LockReader.THREAD_SIZE);
        memory.writeLong(t + 32, stack).writeLong(t + 5312 + 24, sp(t));
        long bits = state == 'D' ? 2 : state == 'S' ? 1 : 0;
        tasks.add(new TaskInfo(t, pid, comm, state, bits, 0, true, 10, null, state == 'D' ? 5_000_000_000L : null));
        return t;
    }

    static long stackOf(long task) {
        return STACKS + (task - TASKS) / 0x4000L * 0x8000L;
    }

    static long sp(long task) {
        return stackOf(task) + LockReader.THREAD_SIZE - 0x400;
    }

    /** A return address into {@code function} in the task's live stack at sp + {@code at}. */
    void returnInto(long task, int at, String function) {
        long a = nextText;
        nextText += 0x40;
        text.put(a + 0x1d, function);
        memory.writeLong(sp(task) + at, a + 0x1d);
    }

    /** A non-RT mutex named {@code name} held by {@code owner} (0: none), its wait list empty. */
    long mutex(int index, String name, long owner) {
        long mu = LOCKS + index * 0x40L;
        data.put(mu, name + " [tickwatch_lab]");
        memory.writeLong(mu, owner);
        memory.writeLong(mu + 16, mu + 16).writeLong(mu + 24, mu + 16);
        return mu;
    }

    /** A non-RT rw_semaphore with {@code count} and {@code owner} words as given. */
    long rwsem(int index, String name, long count, long owner) {
        long sem = LOCKS + 0x1000 + index * 0x40L;
        data.put(sem, name);
        memory.writeLong(sem, count).writeLong(sem + 8, owner);
        memory.writeLong(sem + 24, sem + 24).writeLong(sem + 32, sem + 24);
        return sem;
    }

    /**
     * {@code task} waits on the list whose head is at {@code head}: a mutex_waiter/rwsem_waiter on
     * its stack at sp + 0x100 (the shapes agree on list and task), appended at the list's tail; a
     * return address into {@code function} below it (null: none). Returns the waiter's address.
     */
    long waitOn(long task, long head, String function) {
        long waiter = sp(task) + 0x100;
        long tail = memory.readLong(head + 8);
        memory.writeLong(waiter, head).writeLong(waiter + 8, tail).writeLong(waiter + 16, task);
        memory.writeLong(tail, waiter).writeLong(head + 8, waiter);
        if (function != null) {
            returnInto(task, 0x80, function);
        }
        return waiter;
    }

    /** On RT: {@code task} blocked on the rt_mutex_base at {@code lock}, owned by {@code owner}, via pi_blocked_on. */
    long piWait(long task, long lock, long owner, long wakeState) {
        long waiter = sp(task) + 0x200;
        memory.writeLong(waiter + 80, task).writeLong(waiter + 88, lock).writeLong(waiter + 96, wakeState);
        memory.writeLong(task + 3288, waiter);
        memory.writeLong(lock + 24, owner | LockReader.RT_MUTEX_HAS_WAITERS);
        return waiter;
    }
}
