package dev.tickwatch.verdict;

import dev.tickwatch.probe.KernelSample;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.probe.VcpuSample;
import dev.tickwatch.util.Fmt;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Decides a {@link Verdict} from a series of samples and the decision before (ARCHITECTURE.md,
 * "Verdicts"). Pure: no I/O, no clock; the samples carry their own host times and the previous
 * {@link Decision} is the whole state, so a caller that judges repeatedly passes back what it got.
 *
 * <p>The traps it is built around: a healthy NO_HZ guest can leave jiffies untouched in memory
 * for seconds while every CPU sleeps, so a frozen jiffies alone proves nothing; a TIMER_STALL
 * also needs proof that nothing will wake the CPUs (no LAPIC timer armed, or the kernel's next
 * hrtimer already overdue, or timer interrupts that come but never move jiffies). Firmware and the
 * kernel decompressor run with interrupts off, so a spin only counts inside the kernel image. And
 * a hang check that stops firing proves nothing either: on a busy host a spinning vCPU that got no
 * host CPU stands still, and a tick storm's vCPUs are caught in its handler, not in HLT. So
 * PROGRESSING needs positive evidence, and a hang holds until something progresses.
 *
 * <p>The state machine, one step per sample ({@link #next}); "progress" is jiffies advancing,
 * console bytes growing, a new boot milestone or a task switch (a CPU's current pid changes), seen
 * over the last {@link #PROGRESS_WINDOW} (or, for a held hang, since it was decided):
 * <table>
 * <caption>states and what moves them</caption>
 * <tr><th>from</th><th>evidence</th><th>to</th></tr>
 * <tr><td>any</td><td>QEMU or the console says so (panic, shutdown/exit, paused)</td><td>PANICKED, SHUTDOWN, PAUSED</td></tr>
 * <tr><td>any</td><td>a hang check fires (firmware, spin, stall, soft lockup, sleep deadlock, in that order)</td>
 *     <td>that verdict, with its own evidence; the same verdict again keeps its first decision time and earliest onset</td></tr>
 * <tr><td>none, PROGRESSING, UNDECIDED, PAUSED, SHUTDOWN, FIRMWARE_STUCK</td><td>progress; or healthy
 *     NO_HZ sleep (every vCPU in HLT with IF=1, a LAPIC timer armed, the next hrtimer after the last tick
 *     and not overdue, no storm of timer interrupts)</td><td>PROGRESSING</td></tr>
 * <tr><td>same</td><td>neither</td><td>UNDECIDED, with the reason: series too short, host starved
 *     (QEMU's or the vCPU threads' schedstat wait share), nothing readable, or no progress and no hang proven yet</td></tr>
 * <tr><td>a hang (TIMER_STALL, SPIN_LOCKUP, SOFT_LOCKUP, SLEEP_DEADLOCK, PANICKED)</td><td>progress that ends
 *     it: TIMER_STALL and PANICKED any progress; SPIN_LOCKUP every CPU it held out of the spin (halted,
 *     or interrupts on with another task) and progress; SOFT_LOCKUP its CPU halted or on another task;
 *     SLEEP_DEADLOCK a new milestone or a task list without long D-state waits</td><td>PROGRESSING</td></tr>
 * <tr><td>a hang</td><td>no such progress (healthy-sleep evidence does not count)</td><td>the same hang,
 *     "still", with its age and why its check no longer fires</td></tr>
 * </table>
 */
public final class Judge {

    /** How far back progress is looked for: a freeze this long is what a stall needs too (at the defaults). */
    static final long PROGRESS_WINDOW = 2_000_000_000L;

    private Judge() {
    }

    /** The verdict for the series (oldest first) with nothing decided before: {@code next(null, series, t)}. */
    public static Decision judge(List<Sample> series, Thresholds t) {
        return next(null, series, t);
    }

    /**
     * The verdict for the series (oldest first), given the decision the previous sample got (null
     * for the first): a hang it held stays until something progresses. The series is the previous
     * one with new samples appended and, as a sliding history, its oldest dropped; any other is
     * read in full (see {@link Seen}).
     */
    public static Decision next(Decision previous, List<Sample> series, Thresholds t) {
        if (series.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        // What the previous call saw of the history: only the samples after it are read again.
        Seen seen = Seen.of(previous == null ? null : previous.seen(), series);
        return decide(previous, series, t, seen).withSeen(seen);
    }

    private static Decision decide(Decision previous, List<Sample> series, Thresholds t, Seen seen) {
        Sample last = series.get(series.size() - 1);
        Decision fact = Checks.fromQemu(series, last, seen);
        if (fact != null) {
            return carry(previous, fact);
        }
        boolean held = previous != null && previous.verdict().isHang();
        if (series.size() < 2 && !held) {
            return carry(previous, undecided(last, List.of("series too short: one sample, nothing to compare it with yet"),
                    series));
        }
        Decision hang = Checks.firmwareStuck(series, last, t, seen);
        if (hang == null) {
            hang = Checks.spinLockup(series, last, t, seen);
        }
        if (hang == null) {
            hang = Checks.timerStall(series, last, t, seen);
        }
        if (hang == null) {
            hang = Checks.softLockup(series, last, t);
        }
        if (hang == null) {
            hang = Checks.sleepDeadlock(series, last, t, seen);
        }
        if (hang != null) {
            return carry(previous, withKernelReports(hang, series, seen));
        }
        if (held) {
            List<String> ended = ended(previous, series, last, t);
            if (ended.isEmpty()) {
                return still(previous, series, last, t);
            }
            List<String> ev = new ArrayList<>();
            ev.add(Fmt.format("progress again after %s (held %.1f s): %s", previous.verdict(),
                    (last.hostTimeNs() - previous.sinceNs()) / 1e9, String.join("; ", ended)));
            ev.addAll(context(last));
            return carry(previous, new Decision(Verdict.PROGRESSING, null, 0.8, ev, last.hostTimeNs(), last.hostTimeNs()));
        }
        Decision p = progressing(series, last, t, seen);
        if (p == null) {
            p = healthySleep(series, last, t, seen);
        }
        return carry(previous, p != null ? p : undecided(series, last, t, seen));
    }

    /** At most this many of the kernel's own reports are quoted in a verdict's evidence. */
    private static final int REPORTS_QUOTED = 3;

    /**
     * {@code d} with the kernel's own detectors' reports seen in the series (its soft-lockup
     * watchdog, RCU stall detector, hung-task detector, lockdep) quoted after the evidence: the
     * kernel's word beside ours. The newest few; they add to the verdict, they never make it.
     */
    private static Decision withKernelReports(Decision d, List<Sample> series, Seen seen) {
        if (!seen.anyReport()) {
            return d;
        }
        List<dev.tickwatch.guest.log.LogJson.Report> reports = Checks.kernelReports(series, REPORTS_QUOTED);
        if (reports.isEmpty()) {
            return d;
        }
        List<String> ev = new ArrayList<>(d.evidence());
        for (var r : reports) {
            ev.add(Fmt.format("the kernel's %s report [%5d.%06d]: %s", r.kind(), r.tsNs() / 1_000_000_000L,
                    r.tsNs() % 1_000_000_000L / 1000, r.line()));
        }
        return d.withEvidence(ev);
    }

    /** {@code d}, continuing {@code previous} when it is the same verdict: first decided then, earliest onset, its CPUs too. */
    private static Decision carry(Decision previous, Decision d) {
        if (previous == null || previous.verdict() != d.verdict()) {
            return d;
        }
        Decision c = d.since(previous.sinceNs());
        if (d.verdict().isHang()) {
            if (previous.onsetNs() < d.onsetNs() || (previous.onsetNs() == d.onsetNs() && !previous.onsetIsLowerBound())) {
                c = c.withOnset(previous.onsetNs(), previous.onsetHow());
            }
            Map<Integer, Integer> cpus = new HashMap<>(previous.cpus());
            cpus.putAll(d.cpus());
            c = c.withCpus(cpus);
        }
        return c;
    }

    // ---- progress

    /** The samples progress is looked for in: the last PROGRESS_WINDOW (or stall threshold, if shorter), or all there are. */
    private static List<Sample> progressWindow(List<Sample> series, Sample last, Thresholds t) {
        List<Sample> w = Checks.window(series, last, Math.min(PROGRESS_WINDOW, t.stall().toNanos()));
        return w != null ? w : series;
    }

    /** What progressed between the first and the last of {@code w}; empty when nothing did. */
    static List<String> progress(List<Sample> w) {
        List<String> out = new ArrayList<>();
        if (w.size() < 2) {
            return out;
        }
        Sample first = w.get(0);
        Sample last = w.get(w.size() - 1);
        double span = (last.hostTimeNs() - first.hostTimeNs()) / 1e9;
        // A sample whose kernel read failed (a list mid-update) hides nothing: compare the readings there are.
        Sample firstKernel = null;
        for (int i = 0; i < w.size() && firstKernel == null; i++) {
            firstKernel = w.get(i).kernel() != null ? w.get(i) : null;
        }
        Sample lastKernel = null;
        for (int i = w.size() - 1; i >= 0 && lastKernel == null; i--) {
            lastKernel = w.get(i).kernel() != null ? w.get(i) : null;
        }
        if (firstKernel != null && lastKernel != null && lastKernel.kernel().jiffies() != firstKernel.kernel().jiffies()) {
            out.add(Fmt.format("jiffies +%d in %.1f s", lastKernel.kernel().jiffies() - firstKernel.kernel().jiffies(),
                    (lastKernel.hostTimeNs() - firstKernel.hostTimeNs()) / 1e9));
        }
        if (first.consoleBytes() >= 0 && last.consoleBytes() > first.consoleBytes()) {
            out.add(Fmt.format("console +%d bytes in %.1f s", last.consoleBytes() - first.consoleBytes(), span));
        }
        if (!Objects.equals(first.lastMilestone(), last.lastMilestone()) && last.lastMilestone() != null) {
            out.add("new milestone: " + last.lastMilestone());
        }
        Map<Integer, Set<Integer>> pids = new HashMap<>();
        for (Sample s : w) {
            if (s.kernel() != null) {
                for (KernelSample.Cpu c : s.kernel().cpus()) {
                    if (c.currentPid() >= 0) {
                        pids.computeIfAbsent(c.cpu(), k -> new LinkedHashSet<>()).add(c.currentPid());
                    }
                }
            }
        }
        for (Map.Entry<Integer, Set<Integer>> e : pids.entrySet()) {
            if (e.getValue().size() > 1) {
                out.add(Fmt.format("task switches on CPU%d (pids %s)", e.getKey(), Checks.limit(toStrings(e.getValue()), 4)));
                break;
            }
        }
        return out;
    }

    private static Set<String> toStrings(Set<Integer> s) {
        Set<String> out = new LinkedHashSet<>();
        s.forEach(i -> out.add(Integer.toString(i)));
        return out;
    }

    private static Decision progressing(List<Sample> series, Sample last, Thresholds t, Seen seen) {
        List<Sample> w = progressWindow(series, last, t);
        List<String> ev = progress(w);
        double confidence = 0.8;
        for (String e : ev) {
            if (e.startsWith("jiffies")) {
                confidence = 0.9;
            }
        }
        if (ev.isEmpty()) {
            String fw = beforeTheKernel(series, w, t, seen);
            if (fw == null) {
                return null;
            }
            ev.add(fw);
            confidence = 0.5;
        }
        ev.addAll(context(last));
        return new Decision(Verdict.PROGRESSING, null, confidence, ev, last.hostTimeNs(), last.hostTimeNs());
    }

    /**
     * Firmware and the decompressor print nothing and have no kernel to read: before the kernel
     * starts, a vCPU that runs and moves is all the progress there is to see (FIRMWARE_STUCK bounds it).
     */
    private static String beforeTheKernel(List<Sample> series, List<Sample> w, Thresholds t, Seen seen) {
        // A first kernel reading is not yet a sign of life: jiffies stand still until the timer
        // interrupt is set up (6.1 RT under TCG: 0.6 s of readings, no console, one jiffy).
        if (w.size() < 2 || seen.life()) {
            return null;
        }
        if (seen.everKernel()) {
            return earlyKernel(series, w, t);
        }
        Sample a = w.get(0);
        Sample b = w.get(w.size() - 1);
        for (VcpuSample c : b.cpus()) {
            VcpuSample before = Checks.vcpu(a, c.cpu());
            if (before != null && before.rip() != c.rip() && (c.threadCpuNs() < 0 || c.threadCpuNs() > before.threadCpuNs())) {
                return Fmt.format("firmware or early boot: CPU%d runs (RIP 0x%x, then 0x%x) before the kernel",
                        c.cpu(), before.rip(), c.rip());
            }
        }
        // The decompressor, too, may sit on one rep movs for seconds: then its CPU time is what shows.
        return earlyKernel(series, w, t);
    }

    /**
     * The kernel runs but cannot be read yet (before the probe's first kernel reading: early
     * boot, per-CPU areas not set up, kallsyms not found yet) and its console may be quiet for
     * seconds. A vCPU that gets CPU time and is seen at three or more different kernel addresses
     * is booting; a spin shows one to three. Only until the kernel shows life ({@link Seen#life}),
     * and only for {@link #earlyTooLong}'s bound of CPU time.
     */
    private static String earlyKernel(List<Sample> series, List<Sample> w, Thresholds t) {
        Sample a = w.get(0);
        Sample b = w.get(w.size() - 1);
        for (VcpuSample c : b.cpus()) {
            VcpuSample before = Checks.vcpu(a, c.cpu());
            if (before == null || (c.threadCpuNs() >= 0 && c.threadCpuNs() <= before.threadCpuNs())) {
                continue;
            }
            if (isEarlyTooLong(series, c.cpu(), t)) {
                // A kernel that ran this long and never moved jiffies nor printed is not booting
                // as far as anyone can see: not progress (undecided says why).
                continue;
            }
            Set<Long> rips = new LinkedHashSet<>();
            for (Sample s : w) {
                for (VcpuSample x : s.cpus()) {
                    if (x.cpu() == c.cpu() && !x.halted()) {
                        rips.add(x.rip());
                    }
                }
            }
            if (rips.size() >= 3) {
                return Fmt.format("early boot: CPU%d runs in the kernel at %d different addresses,"
                        + " no kernel readings yet", c.cpu(), rips.size());
            }
            // Before userland and before the first kernel reading, the kernel may sit on one
            // instruction for seconds (a rep stos clearing memory under TCG, on a starved host):
            // CPU time spent is all there is to see; Checks.firmwareStuck and the spin check bound it.
            long ran = c.threadCpuNs() >= 0 && before.threadCpuNs() >= 0 ? c.threadCpuNs() - before.threadCpuNs() : -1;
            if ((b.lastMilestone() == null || b.lastMilestone().equals("kernel")) && !c.halted() && ran > 0) {
                return Fmt.format("early boot: CPU%d ran %.1f s of CPU in %.1f s before the kernel's first"
                        + " console line, no kernel readings yet", c.cpu(), ran / 1e9, (b.hostTimeNs() - a.hostTimeNs()) / 1e9);
            }
        }
        return null;
    }

    /**
     * Why early boot has lasted too long to count a running vCPU as progress: the CPU in the
     * kernel image got FIRMWARE_STUCK's bound of CPU time (10 s by default; a healthy TCG boot
     * needs under 2 s of it from its first kernel instruction to its first jiffy) with jiffies
     * never moving and no userland. A kernel spinning on a timer that never comes (a calibration
     * loop with IF=1) looks like early boot otherwise. Null while within the bound.
     */
    static String earlyTooLong(List<Sample> series, int cpu, Thresholds t) {
        int from = earlyFrom(series, cpu);
        if (!tooLongSince(series, from, cpu, t)) {
            return null;
        }
        long ran = Checks.ranNs(series.subList(from, series.size()), cpu);
        long span = series.get(series.size() - 1).hostTimeNs() - series.get(from).hostTimeNs();
        return Fmt.format("early boot: CPU%d %s in the kernel, and jiffies never moved and no userland",
                cpu, ran >= 0 ? Fmt.format("ran %.1f s of CPU", ran / 1e9)
                        : Fmt.format("spent %.1f s", span / 1e9));
    }

    /** {@link #earlyTooLong}'s test without its sentence, for the checks that only ask whether. */
    static boolean isEarlyTooLong(List<Sample> series, int cpu, Thresholds t) {
        return tooLongSince(series, earlyFrom(series, cpu), cpu, t);
    }

    private static boolean tooLongSince(List<Sample> series, int from, int cpu, Thresholds t) {
        if (from < 0) {
            return false;
        }
        long ran = Checks.ranNs(series.subList(from, series.size()), cpu);
        long span = series.get(series.size() - 1).hostTimeNs() - series.get(from).hostTimeNs();
        // FIRMWARE_STUCK's own bound: a third of its wall time as CPU time, or the wall time when
        // CPU time is unknown.
        return (ran >= 0 && ran >= t.firmware().toNanos() / 3) || (ran < 0 && span >= t.firmware().toNanos());
    }

    /** The index of the first sample with a kernel reading or CPU {@code cpu} in the kernel image; -1 when none. */
    private static int earlyFrom(List<Sample> series, int cpu) {
        for (int i = 0; i < series.size(); i++) {
            Sample s = series.get(i);
            if (s.kernel() != null) {
                return i;
            }
            for (VcpuSample x : s.cpus()) {
                if (x.cpu() == cpu && x.inKernelImage()) {
                    return i;
                }
            }
        }
        return -1;
    }

    /**
     * A healthy NO_HZ idle guest leaves jiffies alone while every CPU sleeps. It is asleep, not
     * stalled, when every vCPU is in HLT with IF=1, some CPU's next hrtimer lies after the last tick
     * with its LAPIC timer counting down to it, no CPU's timer is overdue (against the least the
     * guest's clock can have advanced), and timer interrupts do not storm. The guest's "now" is only
     * a lower bound while it sleeps, so this says "not provably overdue": once the sleep outlasts the
     * armed timer by the margin, the stall check takes over.
     */
    private static Decision healthySleep(List<Sample> series, Sample last, Thresholds t, Seen seen) {
        KernelSample k = last.kernel();
        if (k == null || last.cpus().isEmpty() || !Ktime.plausible(k.lastJiffiesUpdateNs())) {
            return null;
        }
        for (VcpuSample c : last.cpus()) {
            if (!c.halted() || !c.interruptsEnabled()) {
                return null;
            }
        }
        Sample frozenSince = series.get(seen.frozenFrom());
        long frozenNs = last.hostTimeNs() - frozenSince.hostTimeNs();
        long guestNowAtLeast = k.lastJiffiesUpdateNs() + frozenNs;
        KernelSample.Cpu next = null;
        for (KernelSample.Cpu c : k.cpus()) {
            if (!Ktime.plausible(c.expiresNextNs())) {
                continue;
            }
            if (guestNowAtLeast - c.expiresNextNs() > t.overdueMargin().toNanos()) {
                return null;
            }
            VcpuSample v = Checks.vcpu(last, c.cpu());
            boolean armed = v != null && v.lapic() != null && v.lapic().armed();
            if (armed && c.expiresNextNs() > k.lastJiffiesUpdateNs() && (next == null || c.expiresNextNs() < next.expiresNextNs())) {
                next = c;
            }
        }
        if (next == null || Checks.locDelta(frozenSince, last) > Math.max(10, frozenNs / 50_000_000L)) {
            return null;
        }
        List<String> ev = new ArrayList<>();
        ev.add(Fmt.format("asleep in NO_HZ idle: %s in HLT with IF=1, jiffies still for %s", Checks.allVcpus(
                last.cpus().size()), Ktime.seconds(frozenNs, frozenSince == series.get(0))));
        ev.add(Fmt.format("CPU%d's next hrtimer is %.3f s after the last tick and its LAPIC timer is armed;"
                + " no CPU's timer is overdue", next.cpu(), (next.expiresNextNs() - k.lastJiffiesUpdateNs()) / 1e9));
        ev.addAll(context(last));
        return new Decision(Verdict.PROGRESSING, null, 0.7, ev, last.hostTimeNs(), last.hostTimeNs());
    }

    private static List<String> context(Sample last) {
        List<String> ev = new ArrayList<>();
        if (last.lastMilestone() != null) {
            ev.add("last milestone: " + last.lastMilestone());
        }
        int idle = 0;
        for (VcpuSample c : last.cpus()) {
            idle += c.halted() ? 1 : 0;
        }
        ev.add(idle + " of " + last.cpus().size() + " vCPUs idle");
        return ev;
    }

    // ---- holding a hang

    /** The progress that ends the held hang {@code previous}; empty while there is none. */
    private static List<String> ended(Decision previous, List<Sample> series, Sample last, Thresholds t) {
        // The samples since it was decided: a tail of the series (host times only grow).
        int from = series.size();
        while (from > 0 && series.get(from - 1).hostTimeNs() >= previous.sinceNs()) {
            from--;
        }
        List<Sample> since = series.subList(from, series.size());
        if (since.size() < 2) {
            since = series.subList(Math.max(0, series.size() - 2), series.size());
        }
        // The general progress (formatted evidence) only where this hang's own condition asks for it.
        List<String> out = new ArrayList<>();
        switch (previous.verdict()) {
            case SPIN_LOCKUP -> {
                for (Map.Entry<Integer, Integer> e : previous.cpus().entrySet()) {
                    String released = released(last, e.getKey(), e.getValue(), true);
                    if (released == null) {
                        return List.of();
                    }
                    out.add(released);
                }
                List<String> general = progress(since);
                if (general.isEmpty()) {
                    return List.of();
                }
                out.addAll(general);
            }
            case SOFT_LOCKUP -> {
                for (Map.Entry<Integer, Integer> e : previous.cpus().entrySet()) {
                    String released = released(last, e.getKey(), e.getValue(), false);
                    if (released == null) {
                        return List.of();
                    }
                    out.add(released);
                }
                if (previous.cpus().isEmpty()) {
                    out.addAll(progress(since));
                }
            }
            case SLEEP_DEADLOCK -> {
                progress(since).stream().filter(g -> g.startsWith("new milestone")).forEach(out::add);
                double limit = t.sleepDeadlock().toNanos() / 1e9;
                since.stream().filter(s -> s.kernel() != null && s.kernel().blockedTasks() != null)
                        .reduce((a, b) -> b).filter(s -> s.kernel().blockedTasks().stream().noneMatch(b -> b.blockedForS() >= limit))
                        .ifPresent(s -> out.add(Fmt.format("no task has waited in D state for %.0f s any more", limit)));
            }
            default -> out.addAll(progress(since));
        }
        return out;
    }

    /** Why CPU {@code cpu} (on {@code pid} when held) is out of its spin or lockup; null while it is not. */
    private static String released(Sample last, int cpu, int pid, boolean spin) {
        VcpuSample c = Checks.vcpu(last, cpu);
        if (c == null) {
            return null;
        }
        if (c.halted()) {
            return "CPU" + cpu + " idle (HLT)";
        }
        Integer now = Checks.currentPid(last, cpu);
        boolean switched = pid >= 0 && now != null && now >= 0 && now != pid;
        if (spin && Checks.spinsHard(c)) {
            return null;
        }
        if (!c.inKernelImage()) {
            return "CPU" + cpu + " left the kernel (RIP 0x" + Long.toHexString(c.rip()) + ")";
        }
        if (switched) {
            return "CPU" + cpu + " runs another task (pid " + now + ", was " + pid + ")";
        }
        return spin && pid < 0 && c.interruptsEnabled() ? "CPU" + cpu + " has interrupts on again" : null;
    }

    /** {@code previous} held: its evidence, headed by its age and why its check no longer fires. */
    private static Decision still(Decision previous, List<Sample> series, Sample last, Thresholds t) {
        List<String> ev = new ArrayList<>();
        ev.add(Fmt.format("still: nothing has progressed for %.1f s since %s was decided",
                (last.hostTimeNs() - previous.sinceNs()) / 1e9, previous.verdict()));
        String why = whyNotSeen(previous, series, last, t);
        if (why != null) {
            ev.add("meanwhile: " + why);
        }
        for (String e : previous.evidence()) {
            if (!e.startsWith("still: ") && !e.startsWith("meanwhile: ")) {
                ev.add(e);
            }
        }
        return new Decision(previous.verdict(), previous.flavour(), previous.confidence(), ev, previous.onsetNs(),
                last.hostTimeNs(), previous.onsetHow(), previous.sinceNs(), previous.cpus());
    }

    private static String whyNotSeen(Decision previous, List<Sample> series, Sample last, Thresholds t) {
        List<Sample> w = Checks.window(series, last, t.spin().toNanos());
        if (w != null) {
            for (VcpuSample c : last.cpus()) {
                double ran = Checks.busyShare(w, c.cpu());
                if (ran >= 0 && ran < 0.5 && (previous.cpus().isEmpty() || previous.cpus().containsKey(c.cpu()))) {
                    return Fmt.format("CPU%d's vCPU thread got %.0f%% of a host CPU over %.1f s (host busy):"
                            + " a vCPU that does not run cannot change its registers", c.cpu(), ran * 100,
                            (last.hostTimeNs() - w.get(0).hostTimeNs()) / 1e9);
                }
            }
        }
        String starved = starved(progressWindow(series, last, t), last);
        if (starved != null) {
            return starved;
        }
        if (last.kernel() == null) {
            return "no kernel readings in the latest sample";
        }
        return null;
    }

    // ---- undecided

    private static Decision undecided(List<Sample> series, Sample last, Thresholds t, Seen seen) {
        List<Sample> w = progressWindow(series, last, t);
        List<String> ev = new ArrayList<>();
        String starved = starved(w, last);
        long spanNs = last.hostTimeNs() - series.get(0).hostTimeNs();
        // Only asked when the host did not starve: it scans the history and formats.
        String early = null;
        if (starved == null && !seen.life()) {
            for (int i = 0; i < last.cpus().size() && early == null; i++) {
                early = earlyTooLong(series, last.cpus().get(i).cpu(), t);
            }
        }
        if (starved != null) {
            ev.add("host starved: " + starved);
        } else if (early != null) {
            ev.add(early);
            ev.add(Checks.jiffiesLine(w, last));
        } else if (spanNs < PROGRESS_WINDOW) {
            // A watch's first moments: progress had no time to show yet; saying "nothing progressed" would overstate it.
            ev.add(Fmt.format("series too short: %.1f s of samples, nothing has had time to show yet",
                    spanNs / 1e9));
        } else if (last.kernel() == null && (last.consoleBytes() < 0 || last.consoleBytes() == w.get(0).consoleBytes())) {
            ev.add("nothing readable: no kernel readings (" + (last.cpus().stream().anyMatch(VcpuSample::inKernelImage)
                    ? "guest memory not read" : "not in the kernel") + ") and "
                    + (last.consoleBytes() < 0 ? "no console" : "nothing new on the console"));
        } else {
            ev.add(Fmt.format("nothing progressed for %s, and no hang is proven (yet)",
                    Ktime.seconds(last.hostTimeNs() - w.get(0).hostTimeNs(), w.get(0) == series.get(0))));
            ev.add(Checks.jiffiesLine(w, last));
        }
        return undecided(last, ev, series);
    }

    private static Decision undecided(Sample last, List<String> reasons, List<Sample> series) {
        List<String> ev = new ArrayList<>(reasons);
        ev.addAll(context(last));
        return new Decision(Verdict.UNDECIDED, null, 0.5, ev, series.get(0).hostTimeNs(), last.hostTimeNs(),
                Onset.LOWER_BOUND, last.hostTimeNs(), Map.of());
    }

    /** Why the host starved QEMU over {@code w} (schedstat wait share above half), or null. */
    private static String starved(List<Sample> w, Sample last) {
        Sample first = w.get(0);
        double qemu = Checks.waitShare(first, last);
        if (qemu > 0.5) {
            return Fmt.format("QEMU's main thread waited for a host CPU %.0f%% of the last %.1f s (schedstat)",
                    qemu * 100, (last.hostTimeNs() - first.hostTimeNs()) / 1e9);
        }
        long wall = last.hostTimeNs() - first.hostTimeNs();
        for (VcpuSample c : last.cpus()) {
            VcpuSample a = Checks.vcpu(first, c.cpu());
            if (a != null && wall > 0 && a.threadWaitNs() >= 0 && c.threadWaitNs() >= 0
                    && (c.threadWaitNs() - a.threadWaitNs()) / (double) wall > 0.5) {
                return Fmt.format("CPU%d's vCPU thread waited for a host CPU %.0f%% of the last %.1f s (schedstat)",
                        c.cpu(), (c.threadWaitNs() - a.threadWaitNs()) * 100.0 / wall, wall / 1e9);
            }
        }
        return null;
    }
}
