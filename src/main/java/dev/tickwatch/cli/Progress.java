package dev.tickwatch.cli;

import dev.tickwatch.boot.loop.BootListener;
import dev.tickwatch.boot.loop.BootRecord;
import dev.tickwatch.util.Logs;
import java.nio.file.Path;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The loop's progress for people: on a terminal one status line rewritten in place with
 * {@code \r} every second (boots, rate, hangs, ETA); otherwise (CI logs, pipes, tests) a plain
 * line at most every {@code interval} seconds, when a boot ends, and always for a hang.
 */
final class Progress implements BootListener, AutoCloseable, Logs.OpenLine {

    private final PrintWriter out;
    private final String prefix;
    private final boolean terminal;
    private final long intervalNs;
    private final ScheduledExecutorService ticker;
    private final long t0 = System.nanoTime();
    private int total;
    private int done;
    private int hangs;
    private int cannot;
    private long lastPrint = Long.MIN_VALUE / 2;
    private boolean lineOpen;

    Progress(PrintWriter out, String prefix, boolean terminal, double intervalS) {
        this.out = out;
        this.prefix = prefix;
        this.terminal = terminal;
        this.intervalNs = (long) (intervalS * 1e9);
        if (terminal) {
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "tickwatch-progress");
                t.setDaemon(true);
                return t;
            });
            ticker.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
            Logs.hold(this);
        } else {
            ticker = null;
        }
    }

    @Override
    public synchronized void started(int n) {
        total = n;
    }

    @Override
    public synchronized void finished(BootRecord r) {
        switch (r.outcome().kind()) {
            case OK:
                done++;
                break;
            case CANNOT_TEST:
                cannot++;
                break;
            default:
                done++;
                hangs++;
                break;
        }
        long now = System.nanoTime();
        if (terminal) {
            print(now);
        } else if (r.outcome().isBad() || now - lastPrint >= intervalNs || done + cannot == total) {
            lastPrint = now;
            out.println(status(now));
            out.flush();
        }
    }

    synchronized void tick() {
        print(System.nanoTime());
    }

    @Override
    public synchronized void printAbove(Runnable print) {
        if (!lineOpen) {
            print.run();
            return;
        }
        out.print("\r\u001b[K");
        out.flush();
        print.run();
        print(System.nanoTime());
    }

    /** The line for Ctrl-C, from what this progress has counted so far. */
    synchronized String interrupted(Path results, Path diagnostics) {
        return interrupted(prefix, done, total, hangs, results, hangs > 0 ? diagnostics : null);
    }

    /**
     * {@code boot-loop: interrupted after 2 of 6 boots, 0 hangs; results in r.jsonl}: what a loop
     * stopped by Ctrl-C got done and where it is. {@code results} and {@code diagnostics} may be null.
     */
    static String interrupted(String prefix, int done, int total, int hangs, Path results, Path diagnostics) {
        StringBuilder b = new StringBuilder(prefix).append("interrupted after ").append(done).append(" of ")
                .append(total).append(" boots, ").append(hangs).append(hangs == 1 ? " hang" : " hangs");
        if (results != null) {
            b.append("; results in ").append(results);
        }
        if (diagnostics != null) {
            b.append("; diagnostics in ").append(diagnostics);
        }
        if (results == null && diagnostics == null) {
            b.append("; nothing kept (--results FILE keeps one line per boot)");
        }
        return b.toString();
    }

    private void print(long now) {
        out.print("\r" + status(now) + "\u001b[K");
        out.flush();
        lineOpen = true;
    }

    String status(long now) {
        double el = (now - t0) / 1e9;
        double rate = el > 0 ? done * 60 / el : 0;
        String eta = done == 0 ? "--:--" : clock((total - done - cannot) * el / done);
        return String.format(Locale.ROOT, "%s%d/%d boots, %.1f/min, %d hang%s, elapsed %s, ETA %s", prefix, done, total,
                rate, hangs, hangs == 1 ? "" : "s", clock(el), eta);
    }

    static String clock(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
                : String.format(Locale.ROOT, "%d:%02d", t / 60, t % 60);
    }

    /** Stops the ticker and ends the status line, so what follows starts on a fresh line. */
    @Override
    public synchronized void close() {
        if (ticker != null) {
            ticker.shutdownNow();
        }
        Logs.release(this);
        if (lineOpen) {
            out.println();
            out.flush();
            lineOpen = false;
        }
    }
}
