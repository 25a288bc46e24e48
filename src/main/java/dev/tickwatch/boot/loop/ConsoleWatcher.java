package dev.tickwatch.boot.loop;

import dev.tickwatch.watch.Watch;
import dev.tickwatch.probe.ConsoleMarkers;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.verdict.Decision;
import dev.tickwatch.verdict.Thresholds;
import dev.tickwatch.verdict.Verdict;

import dev.tickwatch.probe.Console;
import dev.tickwatch.probe.Milestone;
import dev.tickwatch.qemu.ProcessStacks;
import dev.tickwatch.qemu.QemuVm;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;

/**
 * A watcher that needs nothing but the serial console and the QEMU process; it works for any
 * guest. Success: the success marker on the console AND QEMU exits. PANICKED: the console shows
 * {@link ConsoleMarkers#KERNEL_PANIC}. A hang: no console output for the stall bound.
 *
 * <p>With the verdict engine ({@link #ConsoleWatcher(WatchOptions, Thresholds)}, what
 * {@link BootWatchers#create} builds) a hang is a verdict: TIMER_STALL, SPIN_LOCKUP, ... with its
 * evidence. {@value #STALLED_CONSOLE} ("the console stopped") remains only as the last resort
 * for what the engine cannot classify, after the console-silence bound.
 *
 * <p>Woken by QEMU's exit and by a verdict at once; the console file is read every
 * {@value #POLL_MS} ms. Not inotify: the serial port reaches the file a few bytes per write, and
 * the JDK's watch service woke its poller thread for each of them, thousands a boot, an eighth of
 * the harness's CPU in a boot loop, where every millisecond of it is taken from the guests. Not
 * faster either: nothing here needs the console sooner (the boot ends at QEMU's exit, a hang at
 * the verdict), and the sampling stops at the success marker by itself (the probe reads the
 * console before each sample's commands: {@link ProbeOptions#lastWords()}).
 */
public final class ConsoleWatcher implements BootWatcher {

    /**
     * Provisional verdict: the console went silent. To be replaced by the verdict engine's; not a
     * {@link Verdict}, so a label. The others are verdicts: {@link Verdict#PANICKED},
     * {@link Verdict#SHUTDOWN} (QEMU exited before the success marker: the guest powered off,
     * rebooted or QEMU died), {@link Verdict#FIRMWARE_STUCK} (not one console byte: the kernel
     * never started, or never reached its console).
     */
    public static final String STALLED_CONSOLE = "STALLED_CONSOLE";
    private static final int TAIL_LINES = 5;
    /** Characters kept from the previous chunk: markers split across writes are still found. */
    private static final int OVERLAP = 256;
    /** How often {@link #afterLateSuccess} (a rare path) reads the console. */
    private static final long DEBOUNCE_MS = 50;
    /**
     * How often the console is read: far below any stall bound and the power-off grace. It was
     * 20 ms, so that sampling stopped soon after the success marker (QEMU 7.2's exit deadlock with
     * a monitor command in flight: at 100 ms one of two boots hit it); the probe now checks for
     * the marker itself before each sample's commands, and these wake-ups were about a fifth of the
     * harness JVM's CPU in a boot loop (0.66 of 3.72 s over 32 boots; issue 17).
     */
    static final long POLL_MS = 200;
    /**
     * How long QEMU may take to exit after the guest's power-off write. It normally takes
     * milliseconds; QEMU 7.2 sometimes never exits (FINDINGS: 2 of 400 loaded boots). After this
     * the boot counts as passed, with the host-side failure named, and QEMU is ended.
     */
    static final long EXIT_GRACE_MS = 2000;
    /** The label of that host-side failure in results files (a passed boot: kind OK). */
    public static final String QEMU_EXIT_HANG = "QEMU_EXIT_HANG";

    private final WatchOptions options;
    private final Thresholds verdicts;
    private final boolean quietAfterSuccess;

    /** Console and process only: the provisional STALLED_CONSOLE verdict. */
    public ConsoleWatcher(WatchOptions options) {
        this(options, null);
    }

    /**
     * With the verdict engine: a {@link Watch} samples the guest alongside (its own view of the
     * console file), and its first hang verdict ends the boot; console silence stays a last resort.
     *
     * @param verdicts the thresholds, or null for console-only watching
     */
    public ConsoleWatcher(WatchOptions options, Thresholds verdicts) {
        this(options, verdicts, true);
    }

    /**
     * @param quietAfterSuccess stop sampling (and so every QMP command) once the success marker is
     *     on the console: nothing is left to judge, and QEMU 7.2 can hang on its way out when a
     *     monitor command is in flight as the guest powers off. False keeps sampling until the
     *     kernel's power-off line, as before; only {@code bench false-hangs} uses it, to measure both.
     */
    public ConsoleWatcher(WatchOptions options, Thresholds verdicts, boolean quietAfterSuccess) {
        this.options = options;
        this.verdicts = verdicts;
        this.quietAfterSuccess = quietAfterSuccess;
    }

    public WatchOptions options() {
        return options;
    }

    @Override
    public BootOutcome watch(QemuVm vm, BootSpec spec, long startNanos) throws InterruptedException {
        Console console = vm.console();
        long stallNs = options.stall().toNanos();
        long deadline = startNanos + options.timeout().toNanos();
        CompletableFuture<Decision> verdict = new CompletableFuture<>();
        Watch engine = verdicts == null ? null : new Watch(new Probe(vm.qmp(), new Console(console.file()),
                ProbeOptions.builder().kernelFiles(options.kernelFiles()).lastWords(quietAfterSuccess ? options.success() : null)
                        .build()), new Watch.Options(Watch.Options.DEFAULT_PERIOD, Watch.Options.DEFAULT_HISTORY, verdicts));
        // QEMU's exit and a verdict end the wait at once; console bytes are read on the next poll.
        CompletableFuture<Object> woken = CompletableFuture.anyOf(verdict, vm.process().onExit());
        try {
            if (engine != null) {
                engine.onChange(d -> {
                    if (d.verdict().isHang() || d.verdict() == Verdict.FIRMWARE_STUCK) {
                        verdict.complete(d);
                    }
                }).start();
            }
            long lastProgress = System.nanoTime();
            boolean any = false;
            boolean succeeded = false;
            long downAt = -1; // when the success marker and the kernel's power-off line had both appeared
            // Only the new bytes plus a short overlap are scanned, so a wake-up costs what the
            // guest printed since the last one, not the whole console: the harness must not
            // steal CPU from the guests it measures.
            String window = "";
            while (true) {
                boolean alive = vm.isAlive();
                String chunk = console.poll();
                long now = System.nanoTime();
                if (!chunk.isEmpty()) {
                    any = true;
                    lastProgress = now;
                    window = window.substring(Math.max(0, window.length() - OVERLAP)) + chunk;
                    int panic = window.indexOf(ConsoleMarkers.KERNEL_PANIC);
                    if (panic >= 0) {
                        String text = console.text();
                        return BootOutcome.hung(Verdict.PANICKED, null,
                                panicEvidence(text, text.lastIndexOf(ConsoleMarkers.KERNEL_PANIC)), secondsSince(startNanos, now));
                    }
                    if (!succeeded) {
                        succeeded = options.success().matcher(window).find();
                        if (succeeded && engine != null && quietAfterSuccess) {
                            engine.close();
                        }
                    }
                    if (succeeded && downAt < 0 && ConsoleMarkers.goingDown(window)) {
                        downAt = now;
                    }
                }
                if (!alive) {
                    String text = console.text();
                    double s = secondsSince(startNanos, now);
                    if (succeeded) {
                        return BootOutcome.ok(s);
                    }
                    List<String> ev = new ArrayList<>();
                    ev.add("QEMU exited with status " + vm.process().exitValue() + " after " + fmt(s)
                            + " s, before the success marker /" + options.success().pattern() + "/");
                    ev.addAll(lastLines(text));
                    if (text.isEmpty()) {
                        return BootOutcome.cannotTest(Verdict.FIRMWARE_STUCK, "QEMU exited after " + fmt(s)
                                + " s without one console byte: " + vm.qemuLog().strip());
                    }
                    return BootOutcome.hung(Verdict.SHUTDOWN, milestone(text), ev, s);
                }
                if (downAt >= 0 && now - downAt >= TimeUnit.MILLISECONDS.toNanos(EXIT_GRACE_MS)) {
                    return exitHang(vm, downAt, startNanos, now);
                }
                if (now - deadline >= 0) {
                    String text = console.text();
                    List<String> ev = new ArrayList<>();
                    ev.add("no outcome within the timeout of " + options.timeout().toSeconds() + " s"
                            + (succeeded ? " (the success marker appeared but QEMU did not exit)" : ""));
                    ev.addAll(lastLines(text));
                    return BootOutcome.timeout(ev, secondsSince(startNanos, now));
                }
                if (!succeeded && now - lastProgress >= stallNs) {
                    double silent = (now - lastProgress) / 1e9;
                    String text = console.text();
                    if (!any) {
                        return BootOutcome.cannotTest(Verdict.FIRMWARE_STUCK, "no console output " + fmt(silent)
                                + " s after QEMU started: the kernel never reached its console (firmware stuck?)");
                    }
                    List<String> ev = new ArrayList<>();
                    ev.add("no console output for " + fmt(silent) + " s (bound " + options.stall().toSeconds()
                            + " s); " + text.length() + " bytes before that");
                    Milestone last = Milestone.last(text);
                    ev.add("last milestone: " + (last == null ? "none" : last.name().toLowerCase(Locale.ROOT)));
                    ev.addAll(lastLines(text));
                    return BootOutcome.hung(STALLED_CONSOLE, milestone(text), ev, secondsSince(startNanos, now));
                }
                // Waiting on QEMU's exit and the verdict, not sleeping: either ends the wait at
                // once, so boot times stay exact.
                long wake = Math.min(deadline, downAt >= 0 ? downAt + TimeUnit.MILLISECONDS.toNanos(EXIT_GRACE_MS)
                        : succeeded ? deadline : lastProgress + stallNs);
                long left = Math.max(1, Math.min(wake - now, TimeUnit.MILLISECONDS.toNanos(POLL_MS)));
                try {
                    woken.get(left, TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    continue;
                } catch (ExecutionException e) {
                    // Neither future fails; were one to, the exit path below decides.
                }
                if (verdict.isDone()) {
                    // A verdict and the success marker can cross: the guest printed the marker
                    // after the samples the verdict was judged on, before this loop read it.
                    // The marker is progress the verdict did not see: the boot ends as a
                    // successful one does, at QEMU's exit.
                    String unread = window.substring(Math.max(0, window.length() - OVERLAP)) + console.poll();
                    if (!succeeded && options.success().matcher(unread).find()) {
                        engine.close();
                        return afterLateSuccess(vm, spec, unread, startNanos, deadline);
                    }
                    return fromVerdict(verdict.join(), engine, startNanos);
                }
                // QEMU exited: wait for the reaper so isAlive() is false, then decide.
                vm.process().waitFor(1, TimeUnit.SECONDS);
                return decideAfterExit(vm, spec, startNanos);
            }
        } finally {
            if (engine != null) {
                // Stop sampling before the hang handler (a snapshot) uses the same QMP connection.
                engine.close();
            }
        }
    }

    /**
     * QEMU still runs after the guest said its last words and powered off: a host-side failure, not
     * the kernel's. The boot passed; the evidence says where QEMU's threads were, for a QEMU bug report.
     */
    private static BootOutcome exitHang(QemuVm vm, long downAt, long startNanos, long now) {
        long pid = vm.pid();
        List<String> ev = new ArrayList<>();
        ev.add(String.format(Locale.ROOT, "QEMU (pid %d) still running %.1f s after the success marker and the kernel's"
                + " \"%s\": a host-side failure, not the guest's; the boot counts as passed and QEMU is ended",
                pid, (now - downAt) / 1e9, ConsoleMarkers.POWER_DOWN));
        for (String t : ProcessStacks.threads(pid)) {
            ev.add("qemu thread: " + t);
        }
        for (String f : ProcessStacks.backtraces(pid, 60, 2500)) {
            ev.add("qemu gdb: " + f);
        }
        return BootOutcome.hostFailure(QEMU_EXIT_HANG, ev, secondsSince(startNanos, downAt));
    }

    /**
     * The rest of a boot whose success marker turned up after a hang verdict: QEMU's exit, the
     * kernel's power-off line and the timeout decide, as in the main loop, without the verdict.
     */
    private BootOutcome afterLateSuccess(QemuVm vm, BootSpec spec, String window, long startNanos, long deadline)
            throws InterruptedException {
        long downAt = -1;
        while (true) {
            // Waiting on the process, not sleeping: its exit ends the wait at once.
            if (vm.process().waitFor(DEBOUNCE_MS, TimeUnit.MILLISECONDS)) {
                return decideAfterExit(vm, spec, startNanos);
            }
            window = window.substring(Math.max(0, window.length() - OVERLAP)) + vm.console().poll();
            long now = System.nanoTime();
            if (downAt < 0 && ConsoleMarkers.goingDown(window)) {
                downAt = now;
            }
            if (downAt >= 0 && now - downAt >= TimeUnit.MILLISECONDS.toNanos(EXIT_GRACE_MS)) {
                return exitHang(vm, downAt, startNanos, now);
            }
            if (now - deadline >= 0) {
                List<String> ev = new ArrayList<>();
                ev.add("no outcome within the timeout of " + options.timeout().toSeconds() + " s"
                        + " (the success marker appeared but QEMU did not exit)");
                ev.addAll(lastLines(vm.console().text()));
                return BootOutcome.timeout(ev, secondsSince(startNanos, now));
            }
        }
    }

    private static BootOutcome fromVerdict(Decision d, Watch engine, long startNanos) {
        double s = secondsSince(startNanos, d.decidedNs());
        if (d.verdict() == Verdict.FIRMWARE_STUCK) {
            return BootOutcome.cannotTest(Verdict.FIRMWARE_STUCK, String.join("; ", d.evidence()));
        }
        return BootOutcome.hung(d, engine.history(), s);
    }

    /** The last pass once QEMU is gone: the console file is complete now. */
    private BootOutcome decideAfterExit(QemuVm vm, BootSpec spec, long startNanos) {
        String text = vm.console().text();
        double s = secondsSince(startNanos, System.nanoTime());
        int panic = text.indexOf(ConsoleMarkers.KERNEL_PANIC);
        if (panic >= 0) {
            return BootOutcome.hung(Verdict.PANICKED, null, panicEvidence(text, panic), s);
        }
        if (options.success().matcher(text).find()) {
            return BootOutcome.ok(s);
        }
        if (text.isEmpty()) {
            return BootOutcome.cannotTest(Verdict.FIRMWARE_STUCK, "QEMU exited after " + fmt(s)
                    + " s without one console byte: " + vm.qemuLog().strip());
        }
        List<String> ev = new ArrayList<>();
        ev.add("QEMU exited after " + fmt(s) + " s, before the success marker /" + options.success().pattern() + "/");
        ev.addAll(lastLines(text));
        return BootOutcome.hung(Verdict.SHUTDOWN, milestone(text), ev, s);
    }

    private static List<String> panicEvidence(String text, int at) {
        List<String> ev = new ArrayList<>();
        int end = text.indexOf('\n', at);
        ev.add(text.substring(at, end < 0 ? text.length() : end).strip());
        ev.addAll(lastLines(text.substring(0, at)));
        return ev;
    }

    private static List<String> lastLines(String text) {
        List<String> lines = new ArrayList<>();
        String[] all = text.split("\r?\n");
        for (int i = Math.max(0, all.length - TAIL_LINES); i < all.length; i++) {
            if (!all[i].isBlank()) {
                lines.add("console: " + all[i].strip());
            }
        }
        return lines;
    }

    private static String milestone(String text) {
        Milestone m = Milestone.last(text);
        return m == null ? "before-kernel" : "after-" + m.name().toLowerCase(Locale.ROOT);
    }

    private static double secondsSince(long startNanos, long now) {
        return (now - startNanos) / 1e9;
    }

    private static String fmt(double s) {
        return String.format(Locale.ROOT, "%.1f", s);
    }
}
