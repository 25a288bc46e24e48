package dev.tickwatch.watch;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.verdict.Decision;
import dev.tickwatch.verdict.Judge;
import dev.tickwatch.verdict.Thresholds;
import dev.tickwatch.verdict.Verdict;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Samples one guest periodically, keeps the last minute of samples, and re-judges after every
 * sample, passing the judge its previous decision: the loop under {@code tickwatch watch}, the
 * boot loop, the shell's verdict and watch, bench verdict-latency and the snapshot's sampling. Listeners hear
 * about every sample and about every change of verdict; {@link #end()} completes when the guest
 * is gone (SHUTDOWN) or sampling keeps failing.
 *
 * <p>All watches share one small pool of sampling threads ({@link Ticks}): a boot
 * farm watches hundreds of guests from one process, and a thread per watch cost a wake-up and a
 * stack each. A sample that blocks (a QEMU slow to answer, a listener writing a snapshot) holds
 * one pool thread, never the other watches.
 */
public final class Watch implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Watch.class.getName());
    private static final int MAX_CONSECUTIVE_FAILURES = 20;

    /**
     * @param period     time between the starts of two samples while anything looks suspicious (twice
     *                   that while the guest plainly progresses); a slow sample delays the next, never overlaps it
     * @param history    how much of the past the judge and snapshots see
     * @param thresholds when states become verdicts
     */
    public record Options(Duration period, Duration history, Thresholds thresholds) {
        public static final Duration DEFAULT_PERIOD = Duration.ofMillis(250);
        public static final Duration DEFAULT_HISTORY = Duration.ofSeconds(60);

        public static Options defaults() {
            return new Options(DEFAULT_PERIOD, DEFAULT_HISTORY, Thresholds.defaults());
        }
    }

    private final Probe probe;
    private final Options options;
    private final Deque<Sample> history = new ArrayDeque<>();
    private final List<Consumer<Decision>> changeListeners = new ArrayList<>();
    private final List<Consumer<Sample>> sampleListeners = new ArrayList<>();
    private final CompletableFuture<Decision> end = new CompletableFuture<>();
    /** Guards {@link #running} and {@link #next}: close() against the tick in flight. */
    private final Object ticking = new Object();
    /** No more ticks: closed, or the guest is gone, or sampling gave up. */
    private volatile boolean stopped;
    /** The thread running a tick now, or null. */
    private Thread running;
    /** The next tick, once scheduled. */
    private Ticks.Scheduled next;
    /** When the batch of the tick in progress was due, or 0 for a tick of its own. */
    private volatile long slotNs;
    /** The commands {@link #begin()} sent for the tick in progress, or null. */
    private volatile Probe.Prefetch prefetched;
    /** This watch's tick as the batches see it. */
    private final Ticks.Batched batched = new Ticks.Batched() {
        @Override
        public void begin(long dueNs) {
            slotNs = dueNs;
            Watch.this.begin();
        }

        @Override
        public void whenReady(Runnable r) {
            Probe.Prefetch p = prefetched;
            if (p == null) {
                r.run();
            } else {
                p.whenIn(r);
            }
        }

        @Override
        public void finish() {
            loop();
        }
    };
    private volatile Decision current;
    private Decision announced;
    private int failures;

    public Watch(Probe probe, Options options) {
        this.probe = probe;
        this.options = options;
    }

    /**
     * Called on the sampling thread with every new decision that differs from the last one
     * announced (a first sample's UNDECIDED, "series too short", is not announced).
     */
    public synchronized Watch onChange(Consumer<Decision> listener) {
        changeListeners.add(listener);
        return this;
    }

    /** Called on the sampling thread with every sample. */
    public synchronized Watch onSample(Consumer<Sample> listener) {
        sampleListeners.add(listener);
        return this;
    }

    public Watch start() {
        Ticks.run(() -> {
            begin();
            loop();
        });
        return this;
    }

    /** The first half of a tick: the sample's monitor commands go out (see {@link Ticks.Batched}). */
    private void begin() {
        // Under the lock close() takes: once close() returns, no command of ours goes out.
        // Sending only queues on the event loop; nothing here waits for QEMU.
        synchronized (ticking) {
            if (stopped || end.isDone()) {
                return;
            }
            try {
                prefetched = probe.prefetch();
            } catch (RuntimeException e) {
                // The sample itself meets the same failure and counts it.
                prefetched = null;
            }
        }
    }

    /**
     * One tick, then the next one scheduled. While the guest plainly makes progress (jiffies and
     * console move, some vCPU works with interrupts on) the period doubles: each sample costs
     * monitor round trips under QEMU's big lock and host CPU the guest would rather have. Anything
     * that could become a verdict (every vCPU idle, a vCPU with interrupts off, no kernel view)
     * brings the full rate back at once, so detection is not delayed by more than one period.
     */
    private void loop() {
        // A batched tick counts its period from when its batch was due, not from when its turn in
        // the batch came: with a thousand watches a batch takes milliseconds, and counting from the
        // turn pushed late members into the next slot, each period (95 % of the rate reached).
        long slot = slotNs;
        slotNs = 0;
        long started = slot != 0 ? slot : System.nanoTime();
        synchronized (ticking) {
            if (stopped) {
                return;
            }
            running = Thread.currentThread();
        }
        try {
            tick();
        } finally {
            synchronized (ticking) {
                running = null;
                ticking.notifyAll();
            }
            if (stopped) {
                // close() may have interrupted this thread for this tick; with running cleared no
                // other interrupt can come. The next watch of the batch must not inherit it.
                Thread.interrupted();
            }
        }
        if (end.isDone() || stopped) {
            return;
        }
        long period = options.period().toNanos() * (relaxed() ? 2 : 1);
        long delay = Math.max(0, period - (System.nanoTime() - started));
        synchronized (ticking) {
            if (!stopped) {
                next = Ticks.scheduleBatched(batched, delay, period);
            }
        }
    }

    private boolean relaxed() {
        Decision d = current;
        List<Sample> h;
        synchronized (this) {
            if (history.isEmpty()) {
                return false;
            }
            h = List.of(history.peekLast());
        }
        Sample s = h.get(0);
        return d != null && d.verdict() == Verdict.PROGRESSING && d.confidence() >= 0.8 && s.kernel() != null
                && s.cpus().stream().anyMatch(c -> !c.halted())
                && s.cpus().stream().allMatch(c -> c.halted() || c.interruptsEnabled());
    }

    public Probe probe() {
        return probe;
    }

    /** The latest decision, or null before the first sample. */
    public Decision current() {
        return current;
    }

    /** The samples of the last {@link Options#history()}, oldest first. */
    public synchronized List<Sample> history() {
        return List.copyOf(history);
    }

    /** Completes with the final decision when the guest is gone; exceptionally if sampling keeps failing. */
    public CompletableFuture<Decision> end() {
        return end;
    }

    private void tick() {
        if (end.isDone()) {
            return;
        }
        try {
            Probe.Prefetch sent = prefetched;
            prefetched = null;
            Sample s = probe.sample(sent);
            failures = 0;
            List<Sample> series;
            List<Consumer<Sample>> sl;
            List<Consumer<Decision>> cl;
            synchronized (this) {
                history.addLast(s);
                while (history.size() > 2 && history.peekFirst().hostTimeNs() < s.hostTimeNs() - options.history().toNanos()) {
                    history.removeFirst();
                }
                series = List.copyOf(history);
                sl = List.copyOf(sampleListeners);
                cl = List.copyOf(changeListeners);
            }
            sl.forEach(l -> l.accept(s));
            // The previous decision is the judge's state: it holds a hang until something progresses.
            Decision d = Judge.next(current, series, options.thresholds());
            current = d;
            // A watch's first moments show no change: their UNDECIDED ("series too short") is not
            // worth a line; the first line comes once there is something to say.
            boolean tooEarly = d.verdict() == Verdict.UNDECIDED && d.evidence().get(0).startsWith("series too short");
            if (!tooEarly && !d.sameAs(announced)) {
                announced = d;
                cl.forEach(l -> l.accept(d));
            }
            if (d.verdict() == Verdict.SHUTDOWN) {
                end.complete(d);
                stopped = true;
            }
        } catch (TickwatchException e) {
            if (stopped) {
                // close() interrupted the sample in flight: our own doing, nothing to warn about.
                return;
            }
            LOG.log(System.Logger.Level.WARNING, "sample failed: {0}", e.getMessage());
            if (++failures >= MAX_CONSECUTIVE_FAILURES) {
                end.completeExceptionally(e);
                stopped = true;
            }
        } catch (RuntimeException e) {
            end.completeExceptionally(e);
            stopped = true;
        }
    }

    @Override
    /**
     * Stops sampling: the next tick is cancelled, a sample in flight is interrupted and waited for
     * (up to 10 s), then the probe is closed. From a listener (on the sampling thread itself) it
     * returns at once, and the tick ends after the listener.
     */
    public void close() {
        synchronized (ticking) {
            stopped = true;
            if (next != null) {
                next.cancel();
            }
            Thread t = running;
            if (t != null && t != Thread.currentThread()) {
                t.interrupt();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                try {
                    for (long left = deadline - System.nanoTime(); running == t && left > 0; left = deadline - System.nanoTime()) {
                        TimeUnit.NANOSECONDS.timedWait(ticking, left);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        // A batch may still hold this watch's last commands back (Transports.held): they go out
        // when its burst ends. Once that has happened nothing of ours is left to go.
        Ticks.awaitSent();
        probe.close();
    }
}
