package dev.tickwatch.guest.locks;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfField;
import dev.tickwatch.guest.mem.GuestMemory;
import dev.tickwatch.guest.mem.GuestMemoryException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads, for each blocked task, the lock it waits on and that lock's owner, from where the
 * kernel itself records them (layouts from BTF; only #defines are constants here):
 * <ul>
 * <li>an rt_mutex (every sleeping lock on PREEMPT_RT, rt_mutex users elsewhere):
 *     {@code task_struct.pi_blocked_on} -> {@code struct rt_mutex_waiter} {@code .task}, {@code .lock}
 *     -> {@code rt_mutex_base.owner} without its RT_MUTEX_HAS_WAITERS bit;</li>
 * <li>a mutex or rw_semaphore (non-RT): the kernel keeps no pointer from the task to it (no
 *     {@code blocked_on} without CONFIG_DEBUG_MUTEXES), but the waiter ({@code struct mutex_waiter}
 *     or {@code struct rwsem_waiter}: {@code list}, {@code task}, ...) lives on the waiting task's
 *     stack, in the frame of __mutex_lock_common or rwsem_down_*_slowpath. The stack is scanned
 *     from the saved {@code thread.sp} up for a waiter whose {@code task} is this task and whose
 *     list links are a consistent doubly linked node; the list is followed round to the one node
 *     that is not a waiter on some task's stack: the lock's {@code wait_list}. Which lock it is
 *     (mutex or rw_semaphore) comes from the lock function on the stack, or failing names from
 *     the flag the lock must show while it has waiters; the owner from mutex.owner or sem.owner
 *     without their flag bits.</li>
 * </ul>
 * A task whose lock cannot be found gets the reason instead. Reads only: the guest keeps running,
 * so a list that changes under the walk is rejected as inconsistent rather than guessed at.
 */
public final class LockReader {

    /** THREAD_SIZE on x86-64 without KASAN: PAGE_SIZE << 2 (arch/x86/include/asm/page_64_types.h). */
    static final int THREAD_SIZE = 16 << 10;
    /** kernel/locking/mutex.c: MUTEX_FLAG_WAITERS 0x01, MUTEX_FLAGS 0x07 (waiters, handoff, pickup). */
    static final long MUTEX_FLAG_WAITERS = 0x01;
    static final long MUTEX_FLAGS = 0x07;
    /** kernel/locking/rwsem.c: count bits RWSEM_WRITER_LOCKED, RWSEM_FLAG_WAITERS, RWSEM_READER_SHIFT. */
    static final long RWSEM_WRITER_LOCKED = 1L;
    static final long RWSEM_FLAG_WAITERS = 1L << 1;
    static final int RWSEM_READER_SHIFT = 8;
    /** RWSEM_FLAG_READFAIL, the count's top bit: not a reader. */
    static final long RWSEM_FLAG_READFAIL = 1L << 63;
    /**
     * sem.owner's flag bits: RWSEM_OWNER_FLAGS_MASK is 0x3 (reader-owned, non-spinnable) in 6.1 and
     * 6.12; 0x7 masks the same for any task_struct, which is at least L1-cache aligned.
     */
    static final long RWSEM_OWNER_FLAGS = 0x07;
    static final long RWSEM_READER_OWNED = 0x01;
    /** kernel/locking/rtmutex_common.h: the owner word's low bit. */
    static final long RT_MUTEX_HAS_WAITERS = 1L;
    /** include/linux/sched.h: a PREEMPT_RT spinlock_t/rwlock_t sleeper's state; not in TASK_REPORT. */
    static final long TASK_RTLOCK_WAIT = 0x1000;
    /** More waiters than this on one lock: treated as a corrupt or changing list. */
    static final int MAX_WAITERS = 4096;

    private final GuestMemory memory;
    private final Btf btf;
    private final LockSymbols symbols;
    private final Layout layout;

    public LockReader(GuestMemory memory, Btf btf, LockSymbols symbols) {
        this.memory = memory;
        this.btf = btf;
        this.symbols = symbols;
        this.layout = new Layout(btf);
    }

    /** A reader over an attached kernel's memory, BTF and symbols (module data included). */
    public static LockReader of(GuestKernel k) {
        return new LockReader(k.memory(), k.btf(), LockSymbols.of(k));
    }

    /**
     * Whether a task list shows anything worth a graph: a task in D state, or a PREEMPT_RT task
     * sleeping on a spinlock_t (TASK_RTLOCK_WAIT). A healthy list usually has neither, so a
     * sampler that asks first pays nothing extra.
     */
    public static boolean worthReading(List<TaskInfo> tasks) {
        return tasks.stream().anyMatch(LockReader::blocked);
    }

    private static boolean blocked(TaskInfo t) {
        return t.state() == 'D' || (t.stateBits() & TASK_RTLOCK_WAIT) != 0;
    }

    /**
     * The graph over {@code tasks} (a task list just read): every blocked task with its lock or
     * the reason there is none, and the cycles among them. Tasks in S state are in it only when
     * the kernel records them waiting on an rt_mutex (PREEMPT_RT's interruptible mutexes).
     */
    public LockGraph read(List<TaskInfo> tasks) {
        Map<Long, TaskInfo> known = new HashMap<>();
        tasks.forEach(t -> known.put(t.address(), t));
        Reading r = new Reading(known);
        List<TaskWait> out = new ArrayList<>();
        for (TaskInfo t : tasks) {
            boolean blocked = blocked(t);
            if (!blocked && t.state() != 'S') {
                continue;
            }
            TaskWait w;
            try {
                w = r.task(t, blocked);
            } catch (TickwatchException e) {
                w = new TaskWait(t.address(), t.pid(), t.comm(), t.state(), null, "not readable: " + e.getMessage());
            }
            if (w != null) {
                out.add(w);
            }
        }
        return LockGraph.of(out);
    }

    /** Field offsets from BTF, resolved once; absent ones are -1 and say what the kernel lacks. */
    private static final class Layout {
        final int stack;
        final int threadSp;
        final int piBlockedOn;
        final String blockedOnType;
        final int blockedOn;
        final Waiter mutexWaiter;
        final Waiter rwsemWaiter;
        final int mutexOwner;
        final int mutexWaitList;
        final int rwsemCount;
        final int rwsemOwner;
        final int rwsemWaitList;
        final int rtWaiterTask;
        final int rtWaiterLock;
        final int rtWaiterWakeState;
        final int rtWaiterSize;
        final int rtBaseOwner;
        /** Where PREEMPT_RT's mutex and rw_semaphore keep their rt_mutex_base. */
        final int rtMutexInMutex;
        final int rtMutexInRwsem;
        final int listNext;
        final int listPrev;

        Layout(Btf btf) {
            stack = offset(btf, "task_struct", "stack");
            threadSp = offset(btf, "task_struct", "thread.sp");
            piBlockedOn = offset(btf, "task_struct", "pi_blocked_on");
            Optional<BtfField> bo = btf.findField("task_struct", "blocked_on");
            blockedOn = bo.map(BtfField::offset).orElse(-1);
            blockedOnType = bo.map(BtfField::typeName).orElse(null);
            listNext = offset(btf, "list_head", "next");
            listPrev = offset(btf, "list_head", "prev");
            mutexWaiter = Waiter.of(btf, "mutex_waiter");
            rwsemWaiter = Waiter.of(btf, "rwsem_waiter");
            mutexOwner = offset(btf, "mutex", "owner");
            mutexWaitList = offset(btf, "mutex", "wait_list");
            rwsemCount = offset(btf, "rw_semaphore", "count");
            rwsemOwner = offset(btf, "rw_semaphore", "owner");
            rwsemWaitList = offset(btf, "rw_semaphore", "wait_list");
            rtWaiterTask = offset(btf, "rt_mutex_waiter", "task");
            rtWaiterLock = offset(btf, "rt_mutex_waiter", "lock");
            rtWaiterWakeState = offset(btf, "rt_mutex_waiter", "wake_state");
            rtWaiterSize = btf.hasStruct("rt_mutex_waiter") ? btf.struct("rt_mutex_waiter").size() : -1;
            rtBaseOwner = offset(btf, "rt_mutex_base", "owner");
            rtMutexInMutex = offset(btf, "mutex", "rtmutex");
            rtMutexInRwsem = offset(btf, "rw_semaphore", "rwbase.rtmutex");
        }

        static int offset(Btf btf, String struct, String path) {
            if (!btf.hasStruct(struct)) {
                return -1;
            }
            return btf.findField(struct, path).map(BtfField::offset).orElse(-1);
        }
    }

    /** A waiter struct's shape: where its list_head and task pointer lie, and its size. */
    private record Waiter(String struct, int list, int task, int size) {
        static Waiter of(Btf btf, String struct) {
            int list = Layout.offset(btf, struct, "list");
            int task = Layout.offset(btf, struct, "task");
            return list < 0 || task < 0 ? null : new Waiter(struct, list, task, btf.struct(struct).size());
        }
    }

    /** One graph's reads: task stacks are looked up once each. */
    private final class Reading {
        private final Map<Long, TaskInfo> known;
        private final Map<Long, Long> stackBase = new HashMap<>();

        Reading(Map<Long, TaskInfo> known) {
            this.known = known;
        }

        TaskWait task(TaskInfo t, boolean blocked) {
            long pi = layout.piBlockedOn >= 0 ? memory.readLong(t.address() + layout.piBlockedOn) : 0;
            if (pi != 0) {
                return done(t, rtMutex(t, pi));
            }
            if (!blocked) {
                return null;
            }
            if (layout.blockedOn >= 0) {
                long bo = memory.readLong(t.address() + layout.blockedOn);
                if (bo != 0 && layout.blockedOnType.contains("struct mutex *")) {
                    return done(t, mutexAt(bo, "task_struct.blocked_on"));
                }
                // A mutex_waiter (CONFIG_DEBUG_MUTEXES): the same node the stack scan finds.
                if (bo != 0 && layout.blockedOnType.contains("mutex_waiter") && layout.mutexWaiter != null) {
                    Stack s = stack(t);
                    Object found = fromWaiter(t, s, layout.mutexWaiter, bo, "task_struct.blocked_on");
                    return done(t, found);
                }
            }
            if (layout.stack < 0 || layout.threadSp < 0) {
                return done(t, "no task_struct.stack or thread.sp in BTF: its stack cannot be searched");
            }
            return done(t, scan(t, stack(t)));
        }

        private TaskWait done(TaskInfo t, Object found) {
            if (found instanceof LockWait w) {
                return new TaskWait(t.address(), t.pid(), t.comm(), t.state(), w, null);
            }
            return new TaskWait(t.address(), t.pid(), t.comm(), t.state(), null, (String) found);
        }

        // ---- rt_mutex, through pi_blocked_on

        private Object rtMutex(TaskInfo t, long waiter) {
            if (layout.rtWaiterTask < 0 || layout.rtWaiterLock < 0 || layout.rtBaseOwner < 0) {
                return "pi_blocked_on is set but BTF lacks rt_mutex_waiter.task/.lock or rt_mutex_base.owner";
            }
            byte[] w = memory.read(waiter, layout.rtWaiterSize);
            long task = word(w, layout.rtWaiterTask);
            if (task != t.address()) {
                return String.format(Locale.ROOT, "pi_blocked_on 0x%x is a waiter of task 0x%x, not of this task (changing?)", waiter, task);
            }
            long lock = word(w, layout.rtWaiterLock);
            if (!kernelPointer(lock)) {
                return String.format(Locale.ROOT, "pi_blocked_on 0x%x names no lock (0x%x)", waiter, lock);
            }
            long owner = memory.readLong(lock + layout.rtBaseOwner) & ~RT_MUTEX_HAS_WAITERS;
            boolean rtlock = layout.rtWaiterWakeState >= 0
                    && (word(w, layout.rtWaiterWakeState) & 0xffffffffL) == TASK_RTLOCK_WAIT;
            LockKind kind = rtlock ? LockKind.RT_SPINLOCK : LockKind.RT_MUTEX;
            long address = lock;
            if (!rtlock) {
                // Which lock embeds this rt_mutex_base: the primitive the task called names it.
                Stack s = layout.stack >= 0 && layout.threadSp >= 0 ? stackOrNull(t) : null;
                String fn = s == null ? null : s.lockFunction(true);
                if (fn != null && isMutexFunction(fn) && layout.rtMutexInMutex >= 0) {
                    kind = LockKind.MUTEX;
                    address = lock - layout.rtMutexInMutex;
                } else if (fn != null && isRwsemFunction(fn) && layout.rtMutexInRwsem >= 0) {
                    kind = LockKind.RW_SEMAPHORE;
                    address = lock - layout.rtMutexInRwsem;
                }
            }
            return lockWait(kind, address, owner, 0, "task_struct.pi_blocked_on");
        }

        // ---- mutex and rw_semaphore, through the waiter on the stack

        private Object scan(TaskInfo t, Stack s) {
            if (s.problem != null) {
                return s.problem;
            }
            Set<Waiter> shapes = new LinkedHashSet<>();
            if (layout.mutexWaiter != null) {
                shapes.add(layout.mutexWaiter);
            }
            if (layout.rwsemWaiter != null
                    && (layout.mutexWaiter == null || layout.rwsemWaiter.list() != layout.mutexWaiter.list()
                    || layout.rwsemWaiter.task() != layout.mutexWaiter.task())) {
                shapes.add(layout.rwsemWaiter);
            }
            String rejected = null;
            for (int at = 0; at + 8 <= s.bytes.length; at += 8) {
                for (Waiter shape : shapes) {
                    if (at + shape.size() > s.bytes.length || word(s.bytes, at + shape.task()) != t.address()) {
                        continue;
                    }
                    long next = word(s.bytes, at + shape.list() + layout.listNext);
                    long prev = word(s.bytes, at + shape.list() + layout.listPrev);
                    if (!kernelPointer(next) || !kernelPointer(prev)) {
                        continue;
                    }
                    Object found = fromWaiter(t, s, shape, s.from + at, null);
                    if (found instanceof LockWait) {
                        return found;
                    }
                    rejected = (String) found;
                }
            }
            String where = s.sleepsIn();
            return (rejected != null ? rejected : "no mutex or rw_semaphore waiter on its stack")
                    + (where != null ? "; it sleeps in " + where : "");
        }

        /** The lock of the waiter at {@code waiter}, or why its list is not a consistent wait list. */
        private Object fromWaiter(TaskInfo t, Stack s, Waiter shape, long waiter, String foundBy) {
            long node = waiter + shape.list();
            List<Long> heads = new ArrayList<>();
            long previous = node;
            long at = memory.readLong(node + layout.listNext);
            if (memory.readLong(node + layout.listPrev) == 0
                    || memory.readLong(memory.readLong(node + layout.listPrev) + layout.listNext) != node) {
                return String.format(Locale.ROOT, "a %s-like record at 0x%x whose list is not linked back to it (stale)", shape.struct(),
                        waiter);
            }
            int steps = 0;
            while (at != node) {
                if (!kernelPointer(at) || ++steps > MAX_WAITERS) {
                    return String.format(Locale.ROOT, "the wait list through 0x%x is broken or changing (at 0x%x)", waiter, at);
                }
                if (memory.readLong(at + layout.listPrev) != previous) {
                    return String.format(Locale.ROOT, "the wait list through 0x%x is inconsistent: 0x%x.prev is not 0x%x", waiter, at,
                            previous);
                }
                if (!isWaiter(at - shape.list(), shape)) {
                    heads.add(at);
                }
                previous = at;
                at = memory.readLong(at + layout.listNext);
            }
            if (memory.readLong(node + layout.listPrev) != previous) {
                return String.format(Locale.ROOT, "the wait list through 0x%x does not close on itself", waiter);
            }
            if (heads.size() != 1) {
                return String.format(Locale.ROOT, "the list through the waiter at 0x%x has %d nodes that are not waiters (expected"
                        + " one, the lock's wait_list)", waiter, heads.size());
            }
            long head = heads.get(0);
            String how = foundBy != null ? foundBy : String.format(Locale.ROOT, "%s on its stack at 0x%x", shape.struct(), waiter);
            String fn = s == null ? null : s.lockFunction(false);
            boolean mutex;
            boolean mutexLike = fn == null && layout.mutexWaitList >= 0 && layout.mutexOwner >= 0
                    && flagSet(head - layout.mutexWaitList + layout.mutexOwner, MUTEX_FLAG_WAITERS);
            boolean rwsemLike = fn == null && layout.rwsemWaitList >= 0 && layout.rwsemCount >= 0
                    && flagSet(head - layout.rwsemWaitList + layout.rwsemCount, RWSEM_FLAG_WAITERS);
            if (fn != null) {
                mutex = isMutexFunction(fn);
            } else if (mutexLike != rwsemLike) {
                mutex = mutexLike;
            } else {
                return String.format(Locale.ROOT, "a waiter on its stack at 0x%x, on a list with head 0x%x, but neither a mutex nor"
                        + " an rw_semaphore can be told (no lock function named on its stack)", waiter, head);
            }
            if (mutex) {
                if (layout.mutexWaitList < 0) {
                    return "BTF struct mutex has no wait_list";
                }
                return mutexAt(head - layout.mutexWaitList, how);
            }
            if (layout.rwsemWaitList < 0 || layout.rwsemCount < 0 || layout.rwsemOwner < 0) {
                return "BTF struct rw_semaphore has no count, owner or wait_list";
            }
            long sem = head - layout.rwsemWaitList;
            long count = memory.readLong(sem + layout.rwsemCount);
            long owner = memory.readLong(sem + layout.rwsemOwner);
            if ((count & RWSEM_WRITER_LOCKED) != 0 && (owner & RWSEM_READER_OWNED) == 0) {
                return lockWait(LockKind.RW_SEMAPHORE, sem, owner & ~RWSEM_OWNER_FLAGS, 0, how);
            }
            long readers = (count & ~RWSEM_FLAG_READFAIL) >>> RWSEM_READER_SHIFT;
            return lockWait(LockKind.RW_SEMAPHORE, sem, 0, readers, how);
        }

        /** Whether the word at {@code address} has {@code flag}; false where nothing is mapped. */
        private boolean flagSet(long address, long flag) {
            try {
                return (memory.readLong(address) & flag) != 0;
            } catch (GuestMemoryException e) {
                return false;
            }
        }

        private Object mutexAt(long mutex, String how) {
            if (layout.mutexOwner < 0) {
                return "BTF struct mutex has no owner";
            }
            long owner = memory.readLong(mutex + layout.mutexOwner) & ~MUTEX_FLAGS;
            return lockWait(LockKind.MUTEX, mutex, owner, 0, how);
        }

        /** Whether {@code at} is a waiter record: its task is a known task and it lies on that task's stack. */
        private boolean isWaiter(long at, Waiter shape) {
            long task = memory.readLong(at + shape.task());
            if (!known.containsKey(task)) {
                return false;
            }
            Long base = stackBaseOf(task);
            return base != null && Long.compareUnsigned(at, base) >= 0 && Long.compareUnsigned(at, base + THREAD_SIZE) < 0;
        }

        private Long stackBaseOf(long task) {
            if (layout.stack < 0) {
                return null;
            }
            return stackBase.computeIfAbsent(task, a -> memory.readLong(a + layout.stack));
        }

        private LockWait lockWait(LockKind kind, long address, long owner, long readers, String how) {
            TaskInfo o = owner == 0 ? null : known.get(owner);
            String name;
            try {
                name = symbols.data(address).orElse(null);
            } catch (TickwatchException e) {
                name = null;
            }
            return new LockWait(kind, address, name, owner, o == null ? -1 : o.pid(), o == null ? null : o.comm(), readers,
                    how);
        }

        private Stack stackOrNull(TaskInfo t) {
            Stack s = stack(t);
            return s.problem == null ? s : null;
        }

        private Stack stack(TaskInfo t) {
            long base = memory.readLong(t.address() + layout.stack);
            long sp = memory.readLong(t.address() + layout.threadSp);
            stackBase.put(t.address(), base);
            if (base == 0 || Long.compareUnsigned(sp, base) < 0 || Long.compareUnsigned(sp, base + THREAD_SIZE) >= 0) {
                return new Stack(sp, new byte[0], String.format(
                        "its saved stack pointer 0x%x lies outside its stack 0x%x..0x%x (running, or exiting)", sp, base,
                        base + THREAD_SIZE));
            }
            long from = sp & ~7L;
            try {
                return new Stack(from, memory.read(from, (int) (base + THREAD_SIZE - from)), null);
            } catch (GuestMemoryException e) {
                return new Stack(from, new byte[0], "its stack is not readable: " + e.getMessage());
            }
        }
    }

    /** A blocked task's live stack, from its saved stack pointer to the stack's top. */
    private final class Stack {
        final long from;
        final byte[] bytes;
        final String problem;

        Stack(long from, byte[] bytes, String problem) {
            this.from = from;
            this.bytes = bytes;
            this.problem = problem;
        }

        /** The first function on the stack (from its saved sp up) that takes a sleeping lock; null if none. */
        String lockFunction(boolean rt) {
            for (int at = 0; at + 8 <= bytes.length; at += 8) {
                String fn = function(word(bytes, at));
                if (fn == null) {
                    continue;
                }
                if (isRwsemFunction(fn) || (isMutexFunction(fn) && !(rt && fn.contains("rt_mutex")))) {
                    return fn;
                }
            }
            return null;
        }

        /** The first function on the stack that is not the scheduler's: what the task waits in. */
        String sleepsIn() {
            for (int at = 0; at + 8 <= bytes.length; at += 8) {
                String fn = function(word(bytes, at));
                if (fn != null && !fn.contains("schedule") && !fn.startsWith("__switch_to")) {
                    return fn;
                }
            }
            return null;
        }

        private String function(long value) {
            if (!kernelPointer(value)) {
                return null;
            }
            try {
                return symbols.function(value).orElse(null);
            } catch (TickwatchException e) {
                return null;
            }
        }
    }

    static boolean isMutexFunction(String fn) {
        return fn.contains("mutex_lock");
    }

    static boolean isRwsemFunction(String fn) {
        return fn.contains("rwsem_down") || fn.startsWith("down_read") || fn.startsWith("down_write")
                || fn.startsWith("rwbase_read_lock") || fn.startsWith("rwbase_write_lock");
    }

    /** A canonical upper-half (kernel) address. */
    static boolean kernelPointer(long v) {
        return (v >>> 47) == 0x1ffffL;
    }

    static long word(byte[] b, int at) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[at + i] & 0xffL);
        }
        return v;
    }
}
