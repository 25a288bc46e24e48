package dev.tickwatch.boot.loop;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuStartException;
import dev.tickwatch.qemu.QemuVm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Issue 8's boot loop: this shard's boots on T workers, each worker one QEMU at a time. A
 * {@link BootWatcher} decides each boot; at the first hang (while its QEMU still runs) the
 * {@link HangHandler} captures evidence, no new boot starts, and the other workers' QEMUs are
 * closed; with keep-going, hangs are counted and the loop goes on. A boot that cannot run
 * (QEMU would not start, firmware stuck) stops the loop too: the next would fail the same way.
 *
 * <p>Boots discarded because the loop stopped under them are not reported: their QEMU was ended
 * by us, which says nothing about the guest. Host load threads run for exactly the loop's
 * duration, whatever happens.
 */
public final class BootLoop {

    private final LoopOptions options;
    private final BootWatcher watcher;
    private final HangHandler handler;
    private final BootListener listener;

    private final List<BootRecord> records = Collections.synchronizedList(new ArrayList<>());
    private final Map<Integer, QemuVm> running = new ConcurrentHashMap<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Object lock = new Object();
    private volatile boolean stop;

    public BootLoop(LoopOptions options, BootWatcher watcher, HangHandler handler, BootListener listener) {
        this.options = options;
        this.watcher = watcher;
        this.handler = handler;
        this.listener = listener;
    }

    /** Runs the loop to its end (all boots, the first hang, or an interrupt) and returns what it found. */
    public LoopResult run() throws InterruptedException {
        List<Integer> boots = options.shard().boots(options.boots());
        AtomicInteger cursor = new AtomicInteger();
        int workers = Math.min(options.parallel(), Math.max(1, boots.size()));
        listener.started(boots.size());
        List<Thread> threads = new ArrayList<>();
        try (HostLoad load = HostLoad.start(options.load())) {
            for (int w = 0; w < workers; w++) {
                int worker = w;
                Thread t = new Thread(() -> work(worker, boots, cursor), "tickwatch-boot-" + w);
                // Daemon: Ctrl-C must not wait for a worker; QemuVm's own hook ends its QEMU.
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
            try {
                for (Thread t : threads) {
                    t.join();
                }
            } catch (InterruptedException e) {
                stopAll(-1);
                threads.forEach(Thread::interrupt);
                for (Thread t : threads) {
                    t.join(10_000);
                }
                throw e;
            }
        }
        synchronized (records) {
            return LoopResult.of(new ArrayList<>(records), boots.size());
        }
    }

    /** The spec of boot {@code boot} on {@code worker}: a pure function of the options. */
    public BootSpec spec(int boot, int worker) {
        long seed = seedOf(options.seed(), boot);
        boolean lab = boot == options.labAt();
        QemuConfig c = lab ? options.labConfig() : options.config();
        Duration delay = Duration.ZERO;
        if (options.jitter()) {
            c = c.toBuilder().smp(1 + (int) Long.remainderUnsigned(seed, c.smp())).build();
            delay = Duration.ofMillis(Long.remainderUnsigned(seed >>> 20, LoopOptions.MAX_START_DELAY_MS + 1));
        }
        return new BootSpec(boot, worker, seed, c, lab ? options.labMode() : null, delay);
    }

    /** SplitMix64 of the loop seed and the boot number: every boot its own well-mixed seed. */
    public static long seedOf(long loopSeed, int boot) {
        long z = loopSeed + (boot + 1L) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private void work(int worker, List<Integer> boots, AtomicInteger cursor) {
        while (!stop) {
            int i = cursor.getAndIncrement();
            if (i >= boots.size()) {
                return;
            }
            BootSpec spec = spec(boots.get(i), worker);
            try {
                if (!spec.startDelay().isZero() && stopped.await(spec.startDelay().toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
                runOne(spec);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void runOne(BootSpec spec) throws InterruptedException {
        long startedMs = System.currentTimeMillis();
        long t0 = System.nanoTime();
        QemuVm vm;
        try {
            vm = QemuVm.start(spec.config());
        } catch (TickwatchException e) {
            if (!stop) {
                // QEMU's own words when it exited at start (a kernel it rejects), not the socket it never served.
                String why = e instanceof QemuStartException q
                        ? "QEMU exited with status " + q.exitStatus() + ": " + (q.qemuSaid().isEmpty() ? "(it printed nothing)"
                                : String.join(" / ", q.qemuSaid()))
                        : firstLine(e.getMessage());
                BootOutcome o = BootOutcome.cannotTest("QEMU_START", "QEMU did not start: " + why);
                report(spec, o, startedMs, null);
                stopAll(spec.worker());
            }
            return;
        }
        try (vm) {
            running.put(spec.worker(), vm);
            if (stop) {
                return;
            }
            BootOutcome o;
            try {
                o = watcher.watch(vm, spec, t0);
            } catch (RuntimeException e) {
                o = BootOutcome.cannotTest("WATCHER_ERROR", "the watcher failed: " + e);
            }
            if (o.isHostFailure()) {
                // QEMU stopped answering on its way out: nothing of the guest is left to lose.
                vm.kill();
            }
            Path diag = null;
            boolean stopping = false;
            synchronized (lock) {
                // Another worker stopped the loop while we watched: our QEMU may have been ended by
                // it, so only a clean boot still counts.
                if (stop && o.kind() != BootOutcome.Kind.OK) {
                    return;
                }
                if (o.kind() == BootOutcome.Kind.CANNOT_TEST || (o.isBad() && !options.keepGoing())) {
                    stop = true;
                    stopped.countDown();
                    stopping = true;
                }
            }
            if (stopping) {
                // Only the worker that stops the loop ends the others, and at once: the hung guest's
                // snapshot then has the host to itself, and no other worker, finishing its own boot,
                // ends this QEMU in the middle of it (seen in BootLoopIT: "connection lost while
                // waiting for the reply to 'human-monitor-command'").
                stopAll(spec.worker());
            }
            if (o.isBad()) {
                try {
                    diag = handler.onHang(vm, spec, o);
                } catch (RuntimeException e) {
                    List<String> ev = new ArrayList<>(o.evidence());
                    ev.add("hang handler failed: " + e.getMessage());
                    o = new BootOutcome(o.kind(), o.verdict(), o.flavour(), ev, o.bootS(), o.detectS(), o.reason(), o.decision(),
                            o.samples());
                }
            }
            report(spec, o, startedMs, diag);
        } finally {
            running.remove(spec.worker());
        }
    }

    private void report(BootSpec spec, BootOutcome o, long startedMs, Path diag) {
        BootRecord r = new BootRecord(options.shard(), options.boots(), spec.boot(), spec.worker(), spec.seed(),
                spec.config().smp(), spec.labMode(), o, startedMs, System.currentTimeMillis(),
                diag == null ? null : diag.toString());
        synchronized (records) {
            records.add(r);
            listener.finished(r);
        }
    }

    /** Ends every other worker's QEMU; their watchers return and the workers see {@link #stop}. */
    private void stopAll(int except) {
        stop = true;
        stopped.countDown();
        for (Map.Entry<Integer, QemuVm> e : running.entrySet()) {
            if (e.getKey() != except) {
                e.getValue().close();
            }
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
