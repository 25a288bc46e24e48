package dev.tickwatch.verdict;

import dev.tickwatch.probe.KernelSample;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.probe.VcpuSample;
import dev.tickwatch.qmp.hmp.LapicState;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides a {@link Verdict} from a series of samples (ARCHITECTURE.md, "Verdicts"). Pure: no I/O,
 * no clock; the samples carry their own host times. Checks run from what QEMU reports (panic,
 * shutdown, pause) to what only a series shows (stalls, lockups, deadlocks).
 *
 * <p>The traps it is built around: a healthy NO_HZ guest can leave jiffies untouched in memory
 * for seconds while every CPU sleeps, so a frozen jiffies alone proves nothing; a TIMER_STALL
 * also needs proof that nothing will wake the CPUs (no LAPIC timer armed, or the kernel's next
 * hrtimer already overdue, or timer interrupts that come but never move jiffies). Firmware and the
 * kernel decompressor run with interrupts off, so a spin only counts inside the kernel image.
 */
public final class Judge {

    private Judge() {
    }

    /** The verdict for the series (oldest first); PROGRESSING with low confidence when it is too short to say more. */
    public static Decision judge(List<Sample> series, Thresholds t) {
        if (series.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        Sample last = series.get(series.size() - 1);
        Decision d = fromQemu(series, last);
        if (d == null) {
            d = firmwareStuck(series, last, t);
        }
        if (d == null) {
            d = spinLockup(series, last, t);
        }
        if (d == null) {
            d = timerStall(series, last, t);
        }
        if (d == null) {
            d = softLockup(series, last, t);
        }
        if (d == null) {
            d = sleepDeadlock(series, last, t);
        }
        return d != null ? d : progressing(series, last);
    }

    // ---- what QEMU and the console say outright

    private static Decision fromQemu(List<Sample> series, Sample last) {
        if (last.consolePanic() || "guest-panicked".equals(last.status())) {
            List<String> ev = new ArrayList<>();
            if (last.consolePanic()) {
                ev.add("the console shows \"Kernel panic\"");
            }
            if ("guest-panicked".equals(last.status())) {
                ev.add("QEMU reports the guest panicked (query-status: guest-panicked)");
            }
            Sample onset = firstWhere(series, s -> s.consolePanic() || "guest-panicked".equals(s.status()));
            return new Decision(Verdict.PANICKED, null, 0.99, ev, onset.hostTimeNs(), last.hostTimeNs());
        }
        if ("exited".equals(last.status()) || "shutdown".equals(last.status())) {
            return new Decision(Verdict.SHUTDOWN, null, 0.99,
                    List.of("exited".equals(last.status()) ? "QEMU exited" : "the guest powered off (query-status: shutdown)",
                            "last milestone: " + Objects.requireNonNullElse(last.lastMilestone(), "none")),
                    last.hostTimeNs(), last.hostTimeNs());
        }
        if (!last.running()) {
            return new Decision(Verdict.PAUSED, null, 0.99, List.of("QEMU has the VM stopped (query-status: "
                    + last.status() + "): no vCPU runs, so no verdict about the guest itself"),
                    last.hostTimeNs(), last.hostTimeNs());
        }
        return null;
    }

    private static Decision firmwareStuck(List<Sample> series, Sample last, Thresholds t) {
        Sample first = series.get(0);
        boolean everKernel = series.stream().anyMatch(s -> s.lastMilestone() != null
                || s.cpus().stream().anyMatch(VcpuSample::inKernelImage) || s.kernel() != null);
        if (everKernel || span(first, last) < t.firmware().toNanos()) {
            return null;
        }
        VcpuSample c = last.cpus().isEmpty() ? null : last.cpus().get(0);
        return new Decision(Verdict.FIRMWARE_STUCK, null, 0.9, List.of(
                String.format(Locale.ROOT, "no kernel after %.1f s: no vCPU ever ran in the kernel image and the console"
                        + " shows no \"Linux version\"", seconds(span(first, last))),
                c == null ? "no vCPU state" : String.format(Locale.ROOT, "CPU0 at %s RIP=0x%x", c.longMode() ? "64-bit" : "32/16-bit",
                        c.rip())), first.hostTimeNs(), last.hostTimeNs());
    }

    // ---- spin with interrupts off

    private static Decision spinLockup(List<Sample> series, Sample last, Thresholds t) {
        List<Sample> w = window(series, last, t.spin().toNanos());
        if (w == null) {
            return null;
        }
        List<String> evidence = new ArrayList<>();
        List<Integer> spinning = new ArrayList<>();
        for (VcpuSample c : last.cpus()) {
            int cpu = c.cpu();
            if (!w.stream().allMatch(s -> s.cpus().size() > cpu && spinsHard(s.cpus().get(cpu)))) {
                continue;
            }
            // On a loaded host a vCPU thread that does not get a host CPU stands still at whatever
            // RIP it had, interrupts off or not. It must have run for half the threshold to count.
            long ran = ranNs(w, cpu);
            if (ran >= 0 && ran < t.spin().toNanos() / 2) {
                continue;
            }
            spinning.add(cpu);
            Set<String> where = w.stream().map(s -> s.cpus().get(cpu)).map(Judge::where)
                    .collect(Collectors.toCollection(LinkedHashSet::new));
            double busy = busyShare(w, cpu);
            evidence.add(String.format(Locale.ROOT, "CPU%d spins with interrupts off for %.1f s: HLT=0 IF=0, RIP at %s%s",
                    cpu, seconds(span(w.get(0), last)), String.join(", ", limit(where, 3)),
                    busy >= 0 ? String.format(Locale.ROOT, "; its vCPU thread busy %.0f%% of the time", busy * 100) : ""));
        }
        if (spinning.isEmpty()) {
            return null;
        }
        Sample onset = onset(series, last, s -> spinning.stream().allMatch(cpu -> s.cpus().size() > cpu
                && spinsHard(s.cpus().get(cpu))));
        evidence.add(0, spinning.size() == last.cpus().size()
                ? allVcpus(spinning.size()) + " spin" + (spinning.size() == 1 ? "s" : "") + " in the kernel with interrupts off"
                : spinning.size() + " of " + last.cpus().size() + " vCPUs spin in the kernel with interrupts off");
        evidence.add(jiffiesLine(w, last));
        double confidence = 0.8;
        if (spinning.stream().allMatch(cpu -> busyShare(w, cpu) >= 0.5)) {
            confidence += 0.1;
        }
        if (spinning.stream().anyMatch(cpu -> where(last.cpus().get(cpu)).contains("spin_lock"))) {
            confidence += 0.05;
        }
        return new Decision(Verdict.SPIN_LOCKUP, null, confidence, evidence, onset.hostTimeNs(), last.hostTimeNs());
    }

    private static boolean spinsHard(VcpuSample c) {
        return !c.halted() && !c.interruptsEnabled() && c.inKernelImage();
    }

    // ---- timers stopped while idle

    private static Decision timerStall(List<Sample> series, Sample last, Thresholds t) {
        List<Sample> w = window(series, last, t.stall().toNanos());
        if (w == null || last.cpus().isEmpty()) {
            return null;
        }
        boolean allIdle = w.stream().allMatch(s -> !s.cpus().isEmpty()
                && s.cpus().stream().allMatch(c -> c.halted() && c.interruptsEnabled()));
        if (!allIdle) {
            return null;
        }
        boolean kernelKnown = w.stream().allMatch(s -> s.kernel() != null);
        List<String> ev = new ArrayList<>();
        Set<String> where = last.cpus().stream().map(Judge::where).collect(Collectors.toCollection(LinkedHashSet::new));
        double span = seconds(span(w.get(0), last));
        ev.add(String.format(Locale.ROOT, "%s in HLT with IF=1 at %s for %.1f s", allVcpus(last.cpus().size()),
                String.join(", ", limit(where, 2)), span));
        boolean lapicIdle = last.cpus().stream().allMatch(c -> c.lapic() != null && !c.lapic().armed());
        String lapic = lapicLine(last);
        if (!kernelKnown) {
            // Without guest memory only the LAPIC can tell a stall from a long NO_HZ sleep.
            if (!lapicIdle || w.stream().anyMatch(s -> !s.cpus().stream().allMatch(c -> c.lapic() != null && !c.lapic().armed()))) {
                return null;
            }
            ev.add(lapic);
            ev.add("no kernel readings (guest memory not readable): jiffies and kernel timers unknown");
            Sample onset = onset(series, last, s -> s.cpus().stream().allMatch(c -> c.halted() && c.interruptsEnabled()
                    && c.lapic() != null && !c.lapic().armed()));
            return new Decision(Verdict.TIMER_STALL, "lost-timer", 0.6, ev, onset.hostTimeNs(), last.hostTimeNs());
        }
        long jiffies = last.kernel().jiffies();
        if (w.stream().anyMatch(s -> s.kernel().jiffies() != jiffies)) {
            return null;
        }
        Sample frozenSince = onset(series, last, s -> s.kernel() != null && s.kernel().jiffies() == jiffies);
        double frozenS = seconds(last.hostTimeNs() - frozenSince.hostTimeNs());
        // The guest's clock now is at least the last tick plus the host time jiffies have stood still.
        long guestNowAtLeast = last.kernel().lastJiffiesUpdateNs() + (last.hostTimeNs() - frozenSince.hostTimeNs());
        KernelSample.Cpu soonest = null;
        for (KernelSample.Cpu c : last.kernel().cpus()) {
            if (soonest == null || c.expiresNextNs() < soonest.expiresNextNs()) {
                soonest = c;
            }
        }
        long overdueNs = soonest == null || soonest.expiresNextNs() == Long.MAX_VALUE ? 0
                : guestNowAtLeast - soonest.expiresNextNs();
        boolean overdue = overdueNs > t.overdueMargin().toNanos();
        // A QEMU starved of host CPU cannot fire the guest's timers on time: a healthy idle guest
        // then looks exactly like a stalled one. Wait until QEMU has had the CPU it asked for.
        double starved = waitShare(frozenSince, last);
        if (starved > 0.5) {
            return null;
        }
        long locDelta = locDelta(frozenSince, last);
        boolean storm = locDelta > Math.max(10, (long) (frozenS * 20));
        boolean locFrozen = locDelta == 0;
        if (!storm && !overdue && !lapicIdle) {
            return null; // a long NO_HZ sleep with a timer armed for later: healthy
        }
        String flavour = storm ? "tick-storm" : "lost-timer";
        ev.add(String.format(Locale.ROOT, "jiffies frozen at %d for %.1f s", jiffies, frozenS));
        if (storm) {
            ev.add(String.format(Locale.ROOT, "local timer interrupts keep coming (%d in %.1f s) but jiffies never advance",
                    locDelta, frozenS));
        } else if (locFrozen) {
            ev.add(String.format(Locale.ROOT, "local timer interrupts frozen on every CPU (LOC %s)",
                    last.kernel().cpus().stream().map(c -> Long.toString(c.localTimerInterrupts())).collect(Collectors.joining("/"))));
        }
        if (overdue) {
            ev.add(String.format(Locale.ROOT, "CPU%d hrtimer expires_next %.1f s in the past", soonest.cpu(), overdueNs / 1e9));
        }
        ev.add(lapic);
        double confidence = 0.55 + (overdue ? 0.15 : 0) + (lapicIdle ? 0.15 : 0) + (locFrozen || storm ? 0.1 : 0)
                + (frozenS >= 2 * seconds(t.stall().toNanos()) ? 0.04 : 0);
        return new Decision(Verdict.TIMER_STALL, flavour, confidence, ev, frozenSince.hostTimeNs(), last.hostTimeNs());
    }

    private static long locDelta(Sample from, Sample to) {
        if (from.kernel() == null || to.kernel() == null) {
            return 0;
        }
        long a = from.kernel().cpus().stream().mapToLong(KernelSample.Cpu::localTimerInterrupts).sum();
        long b = to.kernel().cpus().stream().mapToLong(KernelSample.Cpu::localTimerInterrupts).sum();
        return b - a;
    }

    private static String lapicLine(Sample s) {
        Set<String> states = new LinkedHashSet<>();
        for (VcpuSample c : s.cpus()) {
            LapicState l = c.lapic();
            states.add(l == null ? "unknown" : l.timerMode() + (l.masked() ? ", masked" : "")
                    + (l.armed() ? ", armed (" + l.currentCount() + " left)" : ", nothing armed"));
        }
        return "LAPIC timer: " + String.join("; ", states);
    }

    // ---- busy in the kernel with interrupts on

    private static Decision softLockup(List<Sample> series, Sample last, Thresholds t) {
        List<Sample> w = window(series, last, t.softLockup().toNanos());
        if (w == null) {
            return null;
        }
        for (VcpuSample c : last.cpus()) {
            int cpu = c.cpu();
            boolean busyInKernel = w.stream().allMatch(s -> s.cpus().size() > cpu && !s.cpus().get(cpu).halted()
                    && s.cpus().get(cpu).inKernelImage());
            if (!busyInKernel) {
                continue;
            }
            Integer pid = currentPid(last, cpu);
            boolean sameTask = pid != null && pid > 0 && w.stream().allMatch(s -> Objects.equals(currentPid(s, cpu), pid));
            boolean jiffiesMove = w.get(0).kernel() != null && last.kernel() != null
                    && last.kernel().jiffies() != w.get(0).kernel().jiffies();
            double busy = busyShare(w, cpu);
            if (!sameTask || !jiffiesMove || (busy >= 0 && busy < 0.5)) {
                continue;
            }
            Set<String> where = w.stream().map(s -> where(s.cpus().get(cpu))).collect(Collectors.toCollection(LinkedHashSet::new));
            List<String> ev = new ArrayList<>();
            String comm = last.kernel().cpus().stream().filter(k -> k.cpu() == cpu).map(KernelSample.Cpu::currentComm)
                    .findFirst().orElse("?");
            ev.add(String.format(Locale.ROOT, "CPU%d stuck in the kernel for %.1f s on one task, %s (pid %d), without scheduling",
                    cpu, seconds(span(w.get(0), last)), comm, pid));
            ev.add("interrupts on (IF=1), RIP at " + String.join(", ", limit(where, 3)));
            ev.add(jiffiesLine(w, last));
            if (busy >= 0) {
                ev.add(String.format(Locale.ROOT, "its vCPU thread busy %.0f%% of the time", busy * 100));
            }
            Sample onset = onset(series, last, s -> s.cpus().size() > cpu && !s.cpus().get(cpu).halted()
                    && Objects.equals(currentPid(s, cpu), pid));
            return new Decision(Verdict.SOFT_LOCKUP, null, busy >= 0 ? 0.85 : 0.7, ev, onset.hostTimeNs(), last.hostTimeNs());
        }
        return null;
    }

    private static Integer currentPid(Sample s, int cpu) {
        if (s.kernel() == null) {
            return null;
        }
        return s.kernel().cpus().stream().filter(k -> k.cpu() == cpu).map(KernelSample.Cpu::currentPid).findFirst().orElse(null);
    }

    // ---- tasks sleeping on each other

    private static Decision sleepDeadlock(List<Sample> series, Sample last, Thresholds t) {
        Sample withTasks = null;
        for (int i = series.size() - 1; i >= 0 && withTasks == null; i--) {
            Sample s = series.get(i);
            if (s.kernel() != null && s.kernel().blockedTasks() != null) {
                withTasks = s;
            }
        }
        if (withTasks == null || last.kernel() == null) {
            return null;
        }
        double limit = seconds(t.sleepDeadlock().toNanos());
        List<KernelSample.BlockedTask> stuck = withTasks.kernel().blockedTasks().stream()
                .filter(b -> b.blockedForS() >= limit).toList();
        if (stuck.isEmpty() || "done".equals(last.lastMilestone())) {
            return null;
        }
        double longest = stuck.stream().mapToDouble(KernelSample.BlockedTask::blockedForS).max().orElse(0);
        // No milestone may have advanced while they were stuck (as far back as the series goes).
        long since = last.hostTimeNs() - (long) (longest * 1e9);
        boolean milestoneMoved = series.stream().filter(s -> s.hostTimeNs() >= since)
                .map(Sample::lastMilestone).distinct().count() > 1;
        if (milestoneMoved) {
            return null;
        }
        Sample first = series.stream().filter(s -> s.hostTimeNs() >= since).findFirst().orElse(series.get(0));
        boolean jiffiesMove = first.kernel() != null && first.kernel().jiffies() != last.kernel().jiffies();
        List<String> ev = new ArrayList<>();
        ev.add(String.format(Locale.ROOT, "%d task%s in D state for over %.0f s: %s", stuck.size(), stuck.size() == 1 ? "" : "s",
                limit, stuck.stream().limit(6).map(b -> String.format(Locale.ROOT, "%s (pid %d, %.1f s)", b.comm(), b.pid(),
                        b.blockedForS())).collect(Collectors.joining(", "))));
        ev.add(jiffiesMove ? jiffiesLine(List.of(first, last), last) : "jiffies: too few readings to say time goes on");
        ev.add("no boot milestone for " + String.format(Locale.ROOT, "%.0f s", seconds(last.hostTimeNs() - first.hostTimeNs()))
                + "; last milestone: " + Objects.requireNonNullElse(last.lastMilestone(), "none"));
        long idle = last.cpus().stream().filter(VcpuSample::halted).count();
        ev.add(idle + " of " + last.cpus().size() + " vCPUs idle (HLT)");
        return new Decision(Verdict.SLEEP_DEADLOCK, null, jiffiesMove ? 0.85 : 0.7, ev,
                last.hostTimeNs() - (long) (longest * 1e9), last.hostTimeNs());
    }

    // ---- nothing wrong

    private static Decision progressing(List<Sample> series, Sample last) {
        List<String> ev = new ArrayList<>();
        Sample first = series.get(Math.max(0, series.size() - 9));
        double confidence = 0.5;
        if (first != last && first.kernel() != null && last.kernel() != null) {
            long dj = last.kernel().jiffies() - first.kernel().jiffies();
            if (dj > 0) {
                confidence = 0.9;
            }
            ev.add(String.format(Locale.ROOT, "jiffies +%d in %.1f s", dj, seconds(span(first, last))));
        } else if (last.kernel() == null) {
            ev.add("no kernel readings yet" + (last.cpus().stream().anyMatch(VcpuSample::inKernelImage) ? "" : " (firmware or early boot)"));
        }
        if (first != last && last.consoleBytes() >= 0 && last.consoleBytes() > first.consoleBytes()) {
            ev.add("console +" + (last.consoleBytes() - first.consoleBytes()) + " bytes");
            confidence = Math.max(confidence, 0.8);
        }
        if (last.lastMilestone() != null) {
            ev.add("last milestone: " + last.lastMilestone());
        }
        long idle = last.cpus().stream().filter(VcpuSample::halted).count();
        ev.add(idle + " of " + last.cpus().size() + " vCPUs idle");
        return new Decision(Verdict.PROGRESSING, null, confidence, ev, last.hostTimeNs(), last.hostTimeNs());
    }

    // ---- helpers

    /**
     * The samples of the last {@code ns} of host time, from the newest sample at or before the
     * window's start; null when the series does not reach back that far (too early to decide).
     */
    static List<Sample> window(List<Sample> series, Sample last, long ns) {
        long start = last.hostTimeNs() - ns;
        int from = -1;
        for (int i = series.size() - 1; i >= 0; i--) {
            if (series.get(i).hostTimeNs() <= start) {
                from = i;
                break;
            }
        }
        if (from < 0) {
            return null;
        }
        return series.subList(from, series.size());
    }

    /** The first sample of the unbroken run, ending at {@code last}, in which {@code p} holds. */
    private static Sample onset(List<Sample> series, Sample last, java.util.function.Predicate<Sample> p) {
        Sample onset = last;
        for (int i = series.size() - 1; i >= 0 && p.test(series.get(i)); i--) {
            onset = series.get(i);
        }
        return onset;
    }

    private static Sample firstWhere(List<Sample> series, java.util.function.Predicate<Sample> p) {
        return series.stream().filter(p).findFirst().orElse(series.get(series.size() - 1));
    }

    /** CPU time the vCPU's host thread got over the window, ns; -1 when unknown. */
    private static long ranNs(List<Sample> w, int cpu) {
        VcpuSample a = w.get(0).cpus().size() > cpu ? w.get(0).cpus().get(cpu) : null;
        VcpuSample b = w.get(w.size() - 1).cpus().get(cpu);
        if (a == null || a.threadCpuNs() < 0 || b.threadCpuNs() < 0) {
            return -1;
        }
        return b.threadCpuNs() - a.threadCpuNs();
    }

    /** Share of the time between two samples that QEMU's main thread waited, runnable, for a host CPU; 0 when unknown. */
    private static double waitShare(Sample a, Sample b) {
        long wall = b.hostTimeNs() - a.hostTimeNs();
        if (a.qemuWaitNs() < 0 || b.qemuWaitNs() < 0 || wall <= 0) {
            return 0;
        }
        return (b.qemuWaitNs() - a.qemuWaitNs()) / (double) wall;
    }

    /** Share of wall time the vCPU's host thread spent on a CPU over the window; -1 when unknown. */
    private static double busyShare(List<Sample> w, int cpu) {
        VcpuSample a = w.get(0).cpus().size() > cpu ? w.get(0).cpus().get(cpu) : null;
        VcpuSample b = w.get(w.size() - 1).cpus().get(cpu);
        if (a == null || a.threadCpuNs() < 0 || b.threadCpuNs() < 0) {
            return -1;
        }
        long wall = w.get(w.size() - 1).hostTimeNs() - w.get(0).hostTimeNs();
        return wall <= 0 ? -1 : Math.min(1.0, (b.threadCpuNs() - a.threadCpuNs()) / (double) wall);
    }

    private static String jiffiesLine(List<Sample> w, Sample last) {
        Sample first = w.get(0);
        if (first.kernel() == null || last.kernel() == null) {
            return "jiffies: not readable";
        }
        long d = last.kernel().jiffies() - first.kernel().jiffies();
        return d == 0 ? String.format(Locale.ROOT, "jiffies frozen at %d for %.1f s", last.kernel().jiffies(), seconds(span(first, last)))
                : String.format(Locale.ROOT, "jiffies advance (+%d in %.1f s): time goes on", d, seconds(span(first, last)));
    }

    private static String where(VcpuSample c) {
        return c.ripSymbol() != null ? c.ripSymbol() : String.format(Locale.ROOT, "0x%x", c.rip());
    }

    private static List<String> limit(Set<String> s, int n) {
        List<String> out = new ArrayList<>(s).subList(0, Math.min(n, s.size()));
        if (s.size() > n) {
            out = new ArrayList<>(out);
            out.add("(" + (s.size() - n) + " more)");
        }
        return out;
    }

    /** "all 4 vCPUs", or "the only vCPU" on a uniprocessor guest. */
    private static String allVcpus(int n) {
        return n == 1 ? "the only vCPU" : "all " + n + " vCPUs";
    }

    private static long span(Sample a, Sample b) {
        return b.hostTimeNs() - a.hostTimeNs();
    }

    private static double seconds(long ns) {
        return ns / 1e9;
    }
}
