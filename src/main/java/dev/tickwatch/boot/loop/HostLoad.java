package dev.tickwatch.boot.loop;

import java.util.ArrayList;
import java.util.List;

/**
 * N host threads that burn CPU while a loop runs: rare timing bugs show up more often when the
 * vCPU threads are preempted. Daemon threads, stopped by {@link #close} and by a JVM shutdown
 * hook (Ctrl-C), whichever comes first.
 */
public final class HostLoad implements AutoCloseable {

    private final List<Thread> threads = new ArrayList<>();
    private final Thread hook;
    private volatile boolean running = true;
    /** Written so the JIT cannot drop the work. */
    private volatile long sink;

    private HostLoad(int n) {
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(this::burn, "tickwatch-load-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
        hook = new Thread(this::stop, "tickwatch-load-stop");
    }

    /** Starts {@code n} busy threads (none when n is 0). */
    public static HostLoad start(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("load: " + n + " (expected: >= 0)");
        }
        HostLoad l = new HostLoad(n);
        if (n > 0) {
            Runtime.getRuntime().addShutdownHook(l.hook);
        }
        l.threads.forEach(Thread::start);
        return l;
    }

    public int size() {
        return threads.size();
    }

    /** Threads still running (for tests). */
    public long alive() {
        return threads.stream().filter(Thread::isAlive).count();
    }

    private void burn() {
        long x = Thread.currentThread().getId();
        while (running) {
            for (int i = 0; i < 100_000; i++) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
            }
            sink = x;
        }
    }

    private void stop() {
        running = false;
    }

    /** Stops the threads and waits for them. Idempotent. */
    @Override
    public void close() {
        stop();
        for (Thread t : threads) {
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!threads.isEmpty()) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down: the hook runs anyway
            }
        }
    }
}
