package dev.tickwatch.watch;

import dev.tickwatch.net.Transports;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The threads every {@link Watch} of the process shares: a small scheduled pool whose threads both
 * wait for the next due tick and run it (no hand-off between a timer and a worker: one wake-up a
 * tick, as a thread per watch had, without the thread per watch). The pool starts at one thread a
 * core; a sample mostly waits for QEMU's reply, so a few threads sample hundreds of guests. A
 * guard thread looks at the queue every {@link #CHECK_MS}: a tick overdue by more than
 * {@link #STUCK_MS} means every pool thread is taken (QEMUs slow to answer, up to QMP's command
 * timeout, or listeners writing snapshots), and the pool grows by a thread; when the backlog has
 * been gone for a while it shrinks back. So a hung guest holds one thread and delays the others by
 * at most a few tens of milliseconds, and the thread count follows the samples in flight, not the
 * watches. Ticks due in the same slot run as one batch ({@link #scheduleBatched}): their
 * commands go out together (held back and handed to each event loop as one task, see
 * {@link Transports#held}), so the pool and the event loop wake once per batch, not per guest.
 * All daemon threads: a watch never keeps the JVM up.
 */
final class Ticks {

    /** Threads the pool keeps without a backlog. */
    static final int BASE = Math.max(2, Runtime.getRuntime().availableProcessors());
    /** A tick overdue this long means every pool thread is taken: add one. */
    static final long STUCK_MS = 40;
    /** How often the guard looks at the queue. */
    private static final long CHECK_MS = 25;
    /** Checks in a row with nothing overdue and half the threads idle before one extra thread goes. */
    private static final int CALM_CHECKS = 40;
    private static final int MAX = 1024;
    private static final long KEEP_ALIVE_S = 30;

    private static final ScheduledThreadPoolExecutor POOL;
    private static final ScheduledExecutorService GUARD;
    private static int calm;

    static {
        AtomicInteger n = new AtomicInteger();
        POOL = new ScheduledThreadPoolExecutor(BASE, r -> daemon(r, "tickwatch-watch-" + n.incrementAndGet()));
        // Cancelled ticks (closed watches) leave the queue at once instead of at their due time.
        POOL.setRemoveOnCancelPolicy(true);
        // Threads start with the first ticks and end when idle: a process that never watches has none.
        POOL.setKeepAliveTime(KEEP_ALIVE_S, TimeUnit.SECONDS);
        POOL.allowCoreThreadTimeOut(true);
        GUARD = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "tickwatch-watch-guard"));
        GUARD.scheduleWithFixedDelay(Ticks::check, CHECK_MS, CHECK_MS, TimeUnit.MILLISECONDS);
    }

    private Ticks() {
    }

    /** Runs {@code tick} on a pool thread, soon. */
    static void run(Runnable tick) {
        POOL.execute(tick);
    }

    /** Runs {@code tick} on a pool thread after {@code delayNs}. */
    static ScheduledFuture<?> schedule(Runnable tick, long delayNs) {
        return POOL.schedule(tick, delayNs, TimeUnit.NANOSECONDS);
    }

    /**
     * A tick in two halves, so that ticks due together can run as one batch: every member
     * {@link #begin(long)}s (sends its monitor commands) before any {@link #finish()}es (waits for
     * the replies, judges, schedules its next tick).
     */
    interface Batched {
        /**
         * Sends this tick's commands; never waits for QEMU.
         *
         * @param dueNs when the batch was due ({@link System#nanoTime()}): the next tick is
         *              counted from it, so a member finished late in a big batch keeps its slot
         */
        void begin(long dueNs);

        /**
         * Runs {@code r} once this tick's replies are all in (at once when it sent nothing), on
         * whichever thread completes them; {@code r} is quick.
         */
        void whenReady(Runnable r);

        /** The rest of the tick; never throws. */
        void finish();
    }

    /** A batched tick not run yet: {@link #cancel()} takes it out of its batch. */
    interface Scheduled {
        void cancel();
    }

    /**
     * How long a batch waits with no member's replies coming in before the members still
     * waiting finish on threads of their own: a QEMU slow to answer delays no one else, and the
     * rest of its batch by at most this much.
     */
    static final long HANDOFF_NS = TimeUnit.MILLISECONDS.toNanos(5);
    /** Longest grid: ticks due within it run together. A tenth of the period when that is shorter. */
    static final long MAX_GRID_NS = TimeUnit.MILLISECONDS.toNanos(25);

    /** The batches not started yet, by due time (a multiple of their grid). */
    private static final java.util.Map<Long, Batch> BATCHES = new java.util.HashMap<>();

    private static final class Batch {
        final java.util.List<Batched> members = new java.util.ArrayList<>();
        boolean started;
    }

    /**
     * Runs {@code tick} about {@code delayNs} from now, together with every other tick due in the
     * same slot of a grid of a tenth of {@code periodNs} (at most {@link #MAX_GRID_NS}): a
     * hundred watches at 4 Hz wake a pool thread 40 times a second, not 400, and their commands
     * reach the event loop in bursts. A tick runs at most half a slot early or late.
     */
    static Scheduled scheduleBatched(Batched tick, long delayNs, long periodNs) {
        long grid = Math.max(1, Math.min(MAX_GRID_NS, periodNs / 10));
        long now = System.nanoTime();
        long due = Math.floorDiv(now + delayNs + grid / 2, grid) * grid;
        Batch b;
        synchronized (BATCHES) {
            b = BATCHES.get(due);
            if (b == null) {
                b = new Batch();
                BATCHES.put(due, b);
                Batch batch = b;
                POOL.schedule(() -> runBatch(due, batch), Math.max(0, due - now), TimeUnit.NANOSECONDS);
            }
            b.members.add(tick);
        }
        Batch mine = b;
        return () -> {
            synchronized (BATCHES) {
                if (!mine.started) {
                    mine.members.remove(tick);
                }
            }
        };
    }

    private static void runBatch(long due, Batch b) {
        java.util.List<Batched> members;
        synchronized (BATCHES) {
            b.started = true;
            BATCHES.remove(due, b);
            members = java.util.List.copyOf(b.members);
        }
        // Every member's commands reach each event loop as one task, each guest's in one write.
        SUBMITTING.readLock().lock();
        try {
            Transports.held(() -> {
                for (Batched m : members) {
                    try {
                        m.begin(due);
                    } catch (RuntimeException e) {
                        // Its finish meets the same failure and counts it; the batch goes on.
                        System.getLogger(Ticks.class.getName()).log(System.Logger.Level.DEBUG, "tick begin failed", e);
                    }
                }
            });
        } finally {
            SUBMITTING.readLock().unlock();
        }
        finishAsReady(members);
    }

    /**
     * Finishes each member as its replies come in, in the order they come: the batch's thread
     * sleeps only while none is ready, so the event loop wakes it only then, not for nearly every
     * reply as a wait for each member in turn did. Members
     * whose replies have not come after {@link #HANDOFF_NS} without any coming in are handed to
     * pool threads of their own, which wait for them as a lone tick does.
     */
    private static void finishAsReady(java.util.List<Batched> members) {
        int n = members.size();
        Thread self = Thread.currentThread();
        java.util.concurrent.ConcurrentLinkedQueue<Integer> in = new java.util.concurrent.ConcurrentLinkedQueue<>();
        java.util.concurrent.atomic.AtomicBoolean waiting = new java.util.concurrent.atomic.AtomicBoolean(true);
        for (int i = 0; i < n; i++) {
            Integer index = i;
            members.get(i).whenReady(() -> {
                in.add(index);
                // Once the batch is done with its thread, a late reply must not wake whatever it runs next.
                if (waiting.get()) {
                    LockSupport.unpark(self);
                }
            });
        }
        boolean[] done = new boolean[n];
        int finished = 0;
        long quietSince = System.nanoTime();
        while (finished < n) {
            Integer i = in.poll();
            if (i != null) {
                done[i] = true;
                finished++;
                try {
                    members.get(i).finish();
                } catch (RuntimeException e) {
                    // Not meant to happen (finish never throws); the rest of the batch must still tick.
                    System.getLogger(Ticks.class.getName()).log(System.Logger.Level.WARNING, "tick failed", e);
                }
                quietSince = System.nanoTime();
                continue;
            }
            long left = quietSince + HANDOFF_NS - System.nanoTime();
            if (left <= 0) {
                break;
            }
            LockSupport.parkNanos(Ticks.class, left);
        }
        waiting.set(false);
        for (int i = 0; i < n; i++) {
            if (!done[i]) {
                POOL.execute(members.get(i)::finish);
            }
        }
    }

    /**
     * Held by each batch while its members send (their commands leave only when the burst ends,
     * after each member's {@link Batched#begin} returned): {@link #awaitSent} waits it out.
     */
    private static final java.util.concurrent.locks.ReentrantReadWriteLock SUBMITTING =
            new java.util.concurrent.locks.ReentrantReadWriteLock();

    /**
     * Returns once every batch that was sending has handed its commands over: a watch that
     * stopped (no begin of it sends any more) and then waited here sends nothing later, though
     * its last burst was still held back when it stopped. Not from inside a batch's send.
     */
    static void awaitSent() {
        if (SUBMITTING.getReadHoldCount() > 0) {
            return;
        }
        SUBMITTING.writeLock().lock();
        SUBMITTING.writeLock().unlock();
    }

    /** Runs {@code members} as one batch now, on a pool thread, as a due batch runs (for tests). */
    static void runBatchNow(java.util.List<Batched> members) {
        Batch b = new Batch();
        b.members.addAll(members);
        long due = System.nanoTime();
        POOL.execute(() -> runBatch(due, b));
    }

    /** Pool threads now (for tests). */
    static int threads() {
        return POOL.getPoolSize();
    }

    /** On the guard thread only; never throws (that would end the checks for good). */
    private static void check() {
        try {
            resize();
        } catch (RuntimeException e) {
            System.getLogger(Ticks.class.getName()).log(System.Logger.Level.WARNING, "sampling pool check failed", e);
        }
    }

    private static void resize() {
        Runnable head = POOL.getQueue().peek();
        int core = POOL.getCorePoolSize();
        long overdueNs = head instanceof Delayed d ? -d.getDelay(TimeUnit.NANOSECONDS) : 0;
        if (overdueNs > TimeUnit.MILLISECONDS.toNanos(STUCK_MS)) {
            calm = 0;
            if (core < MAX) {
                POOL.setCorePoolSize(core + 1);
            }
        } else if (core > BASE && overdueNs <= 0 && POOL.getActiveCount() <= core / 2) {
            if (++calm >= CALM_CHECKS) {
                calm = 0;
                // The thread ends when it next idles.
                POOL.setCorePoolSize(core - 1);
            }
        } else {
            calm = 0;
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
