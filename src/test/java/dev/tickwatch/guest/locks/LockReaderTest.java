package dev.tickwatch.guest.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The wait-for graph read from synthetic guest memory laid out as Debian 6.1 lays it out
 * ({@link FakeLocks}): mutex and rw_semaphore waiters found on the waiting task's stack and
 * followed to their lock, rt_mutex waits through pi_blocked_on, owners with their flag bits
 * masked, cycles of one and two, chains, and lists that do not hold together rejected.
 */
class LockReaderTest {

    private static TaskWait of(LockGraph g, int pid) {
        return g.tasks().stream().filter(t -> t.pid() == pid).findFirst().orElseThrow(() -> new AssertionError(
                "pid " + pid + " not in " + g.tasks()));
    }

    @Test
    void aMutexWaiterOnTheStackLeadsToTheMutexAndItsOwner() {
        FakeLocks f = new FakeLocks(false);
        long insmod = f.task(92, "insmod", 'D');
        long holder = f.task(93, "holder", 'S');
        long ma = f.mutex(0, "lab_mutex_a", holder | LockReader.MUTEX_FLAG_WAITERS);
        long waiter = f.waitOn(insmod, ma + 16, "__mutex_lock.constprop.0");
        LockGraph g = f.reader().read(f.tasks);
        assertEquals(1, g.tasks().size(), "the S-state holder waits on nothing: " + g.tasks());
        LockWait w = of(g, 92).waitsOn();
        assertNotNull(w, of(g, 92).toString());
        assertEquals(LockKind.MUTEX, w.kind());
        assertEquals(ma, w.address());
        assertEquals("lab_mutex_a [tickwatch_lab]", w.name());
        assertEquals(holder, w.owner(), "MUTEX_FLAG_WAITERS masked off");
        assertEquals(93, w.ownerPid());
        assertEquals(String.format("mutex_waiter on its stack at 0x%x", waiter), w.foundBy());
        assertEquals(String.format("insmod (pid 92) waits for mutex lab_mutex_a [tickwatch_lab] at 0x%x held by holder"
                + " (pid 93)", ma), of(g, 92).line());
        assertTrue(g.cycles().isEmpty());
        assertEquals(List.of(of(g, 92)), g.chains());
    }

    @Test
    void theLabsAbbaIsOneTwoCycleAndInsmodAChainIntoIt() {
        FakeLocks f = new FakeLocks(false);
        long insmod = f.task(90, "insmod", 'D');
        long ab = f.task(92, "lab-mutex-ab", 'D');
        long ba = f.task(93, "lab-mutex-ba", 'D');
        long ma = f.mutex(0, "lab_mutex_a", ab | 1);
        long mb = f.mutex(1, "lab_mutex_b", ba | 1);
        f.waitOn(ab, mb + 16, "__mutex_lock.constprop.0");
        f.waitOn(ba, ma + 16, "__mutex_lock.constprop.0");
        f.waitOn(insmod, ma + 16, "__mutex_lock_slowpath");
        LockGraph g = f.reader().read(f.tasks);
        assertEquals(1, g.cycles().size(), g.lines().toString());
        LockGraph.Cycle c = g.cycles().get(0);
        assertEquals(List.of(92, 93), c.pids(), "from the member first in the task list");
        assertEquals(List.of(
                String.format("lab-mutex-ab (pid 92) waits for mutex lab_mutex_b [tickwatch_lab] at 0x%x held by"
                        + " lab-mutex-ba (pid 93)", mb),
                String.format("lab-mutex-ba (pid 93) waits for mutex lab_mutex_a [tickwatch_lab] at 0x%x held by"
                        + " lab-mutex-ab (pid 92)", ma)), c.lines());
        // insmod is the second waiter on lab_mutex_a: the list walk passes lab-mutex-ba's waiter on another stack.
        assertEquals(List.of(of(g, 90)), g.chains());
        assertEquals(92, of(g, 90).waitsOn().ownerPid());
        assertTrue(g.lines().get(0).endsWith("1 cycle (deadlock)"), g.lines().get(0));
    }

    @Test
    void aTaskWaitingOnAMutexItHoldsIsACycleOfOne() {
        FakeLocks f = new FakeLocks(false);
        long self = f.task(92, "insmod", 'D');
        long ma = f.mutex(0, "lab_mutex_a", self | 1);
        f.waitOn(self, ma + 16, "__mutex_lock.constprop.0");
        LockGraph g = f.reader().read(f.tasks);
        assertEquals(1, g.cycles().size());
        assertEquals(List.of(92), g.cycles().get(0).pids());
        assertTrue(g.cycles().get(0).lines().get(0).endsWith("held by insmod (pid 92) itself"),
                g.cycles().get(0).lines().toString());
    }

    @Test
    void onPreemptRtTheWaitIsReadFromPiBlockedOnAndTheStackNamesTheMutex() {
        FakeLocks f = new FakeLocks(true);
        long ab = f.task(92, "lab-mutex-ab", 'D');
        long ba = f.task(93, "lab-mutex-ba", 'D');
        long sleeper = f.task(94, "interruptible", 'S');
        long idle = f.task(95, "sshd", 'S');
        long ma = FakeLocks.LOCKS;
        long mb = FakeLocks.LOCKS + 0x40;
        f.data.put(ma, "lab_mutex_a [tickwatch_lab]");
        f.data.put(mb, "lab_mutex_b [tickwatch_lab]");
        f.piWait(ab, mb, ba, 3);
        f.piWait(ba, ma, ab, 3);
        f.returnInto(ab, 0x40, "rt_mutex_slowlock_block.constprop.0");
        f.returnInto(ab, 0x300, "mutex_lock");
        f.returnInto(ba, 0x300, "mutex_lock");
        long rt = FakeLocks.LOCKS + 0x80;
        f.piWait(sleeper, rt, ab, 3);
        LockGraph g = f.reader().read(f.tasks);
        assertEquals(3, g.tasks().size(), "the S task without pi_blocked_on is not in it: " + g.tasks());
        assertFalse(g.tasks().stream().anyMatch(t -> t.task() == idle));
        LockWait w = of(g, 92).waitsOn();
        assertEquals(LockKind.MUTEX, w.kind(), "mutex_lock on its stack names the rt_mutex_base's mutex");
        assertEquals(mb, w.address());
        assertEquals(93, w.ownerPid(), "RT_MUTEX_HAS_WAITERS masked off");
        assertEquals("task_struct.pi_blocked_on", w.foundBy());
        assertEquals(List.of(92, 93), g.cycles().get(0).pids());
        LockWait s = of(g, 94).waitsOn();
        assertEquals(LockKind.RT_MUTEX, s.kind(), "no lock primitive named on its stack: an rt_mutex");
        assertEquals(92, s.ownerPid());
    }

    @Test
    void onPreemptRtASpinlockSleeperIsSeenByItsWakeState() {
        FakeLocks f = new FakeLocks(true);
        long t = f.task(70, "kworker/0:1", 'R');
        long owner = f.task(71, "irq/9-acpi", 'R');
        f.tasks.set(0, new dev.tickwatch.guest.TaskInfo(t, 70, "kworker/0:1", 'R', LockReader.TASK_RTLOCK_WAIT, 0, true, 1,
                null, null));
        assertTrue(LockReader.worthReading(f.tasks), "TASK_RTLOCK_WAIT is blocked though ps-style state says R");
        f.piWait(t, FakeLocks.LOCKS, owner, LockReader.TASK_RTLOCK_WAIT);
        LockWait w = of(f.reader().read(f.tasks), 70).waitsOn();
        assertEquals(LockKind.RT_SPINLOCK, w.kind());
        assertEquals(71, w.ownerPid());
    }

    @Test
    void anRwSemaphoreHeldByAWriterOrByReaders() {
        FakeLocks f = new FakeLocks(false);
        long writer = f.task(10, "writer", 'S');
        long a = f.task(11, "mount", 'D');
        long b = f.task(12, "ls", 'D');
        // Writer-locked, waiters flagged; the owner word carries RWSEM_NONSPINNABLE.
        long held = f.rwsem(0, "namespace_sem", LockReader.RWSEM_WRITER_LOCKED | LockReader.RWSEM_FLAG_WAITERS,
                writer | 0x2);
        // Two readers, reader-owned (the owner word is the last reader, a hint only).
        long read = f.rwsem(1, "uts_sem", (2L << LockReader.RWSEM_READER_SHIFT) | LockReader.RWSEM_FLAG_WAITERS,
                writer | LockReader.RWSEM_READER_OWNED);
        f.waitOn(a, held + 24, "rwsem_down_write_slowpath");
        f.waitOn(b, read + 24, "rwsem_down_write_slowpath");
        LockGraph g = f.reader().read(f.tasks);
        LockWait wa = of(g, 11).waitsOn();
        assertEquals(LockKind.RW_SEMAPHORE, wa.kind());
        assertEquals(held, wa.address());
        assertEquals(10, wa.ownerPid());
        LockWait wb = of(g, 12).waitsOn();
        assertEquals(held + 0x40, wb.address());
        assertEquals(-1, wb.ownerPid(), "readers own it, not the task the owner word hints at");
        assertEquals(2, wb.readers());
        assertTrue(of(g, 12).line().endsWith("held by readers (2)"), of(g, 12).line());
    }

    @Test
    void withoutNamesTheLocksOwnFlagsTellAMutexFromAnRwSemaphore() {
        FakeLocks f = new FakeLocks(false);
        long t = f.task(5, "a", 'D');
        long o = f.task(6, "b", 'R');
        long ma = f.mutex(0, "m", o | LockReader.MUTEX_FLAG_WAITERS);
        f.waitOn(t, ma + 16, null);
        LockWait w = of(new LockReader(f.memory, f.btf, LockSymbols.NONE).read(f.tasks), 5).waitsOn();
        assertEquals(LockKind.MUTEX, w.kind());
        assertEquals(ma, w.address());
        assertNull(w.name());
        assertEquals(6, w.ownerPid());
    }

    @Test
    void aWaiterWhoseListDoesNotLinkBackIsRejected() {
        FakeLocks f = new FakeLocks(false);
        long t = f.task(5, "a", 'D');
        long o = f.task(6, "b", 'R');
        long ma = f.mutex(0, "m", o | 1);
        long waiter = f.waitOn(t, ma + 16, "__mutex_lock.constprop.0");
        // The head's prev no longer points at the waiter: mid-update, or a stale record.
        f.memory.writeLong(ma + 24, ma + 16);
        TaskWait w = of(f.reader().read(f.tasks), 5);
        assertNull(w.waitsOn(), w.toString());
        assertTrue(w.reason().contains(String.format("wait list through 0x%x", waiter)), w.reason());
    }

    @Test
    void aListWithTwoNodesThatAreNotWaitersIsRejected() {
        FakeLocks f = new FakeLocks(false);
        long t = f.task(5, "a", 'D');
        long o = f.task(6, "b", 'R');
        long ma = f.mutex(0, "m", o | 1);
        long waiter = f.waitOn(t, ma + 16, "__mutex_lock.constprop.0");
        // Splice a heap node (task slot 0) between the waiter and the head: two heads.
        long bogus = 0xffff888002000000L;
        f.memory.writeLong(bogus, ma + 16).writeLong(bogus + 8, waiter).writeLong(bogus + 16, 0);
        f.memory.writeLong(waiter, bogus).writeLong(ma + 24, bogus);
        TaskWait w = of(f.reader().read(f.tasks), 5);
        assertNull(w.waitsOn());
        assertTrue(w.reason().contains("has 2 nodes that are not waiters"), w.reason());
    }

    @Test
    void aTaskSleepingOnSomethingElseSaysWhere() {
        FakeLocks f = new FakeLocks(false);
        long t = f.task(7, "kworker/u4:0", 'D');
        f.returnInto(t, 0x10, "schedule");
        f.returnInto(t, 0x20, "schedule_timeout");
        f.returnInto(t, 0x30, "wait_for_completion");
        TaskWait w = of(f.reader().read(f.tasks), 7);
        assertNull(w.waitsOn());
        assertEquals("no mutex or rw_semaphore waiter on its stack; it sleeps in wait_for_completion", w.reason());
        assertEquals("kworker/u4:0 (pid 7, D): no mutex or rw_semaphore waiter on its stack; it sleeps in"
                + " wait_for_completion", w.line());
    }

    @Test
    void aSavedStackPointerOffItsStackIsSaidSo() {
        FakeLocks f = new FakeLocks(false);
        long t = f.task(8, "x", 'D');
        f.memory.writeLong(t + 5312 + 24, 0xffff888000001000L);
        TaskWait w = of(f.reader().read(f.tasks), 8);
        assertTrue(w.reason().startsWith("its saved stack pointer 0xffff888000001000 lies outside its stack"), w.reason());
    }

    @Test
    void aHealthyTaskListIsNotWorthAGraph() {
        FakeLocks f = new FakeLocks(false);
        f.task(1, "init", 'S');
        f.task(2, "kthreadd", 'S');
        assertFalse(LockReader.worthReading(f.tasks));
        f.task(3, "insmod", 'D');
        assertTrue(LockReader.worthReading(f.tasks));
    }
}
