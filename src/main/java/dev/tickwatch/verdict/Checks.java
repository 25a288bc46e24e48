package dev.tickwatch.verdict;

import dev.tickwatch.guest.log.LogJson;
import dev.tickwatch.probe.ConsoleMarkers;
import dev.tickwatch.probe.KernelSample;
import dev.tickwatch.probe.LapicTimer;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.probe.VcpuSample;
import dev.tickwatch.util.Fmt;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The judge's checks, each on its own: what QEMU says outright, then each hang's conditions over
 * its threshold's window of samples. A check that fires returns a first decision with its own
 * evidence; {@link Judge} decides what it means given the verdict before. Pure, like the judge.
 */
final class Checks {

    private Checks() {
    }

    // ---- what QEMU and the console say outright

    static Decision fromQemu(List<Sample> series, Sample last, Seen seen) {
        LogJson.Report logPanic = seen.firstPanicReport(series);
        if (last.consolePanic() || "guest-panicked".equals(last.status()) || logPanic != null) {
            List<String> ev = new ArrayList<>();
            if (last.consolePanic()) {
                ev.add("the console shows \"" + ConsoleMarkers.KERNEL_PANIC + "\"");
            }
            if (logPanic != null) {
                // With quiet (or no console) the log is the only place the panic shows.
                ev.add("the kernel log says: " + logPanic.line());
            }
            if ("guest-panicked".equals(last.status())) {
                ev.add("QEMU reports the guest panicked (query-status: guest-panicked)");
            }
            Sample onset = firstWhere(series, s -> s.consolePanic() || "guest-panicked".equals(s.status())
                    || (s.kernel() != null && s.kernel().kernelReports().stream().anyMatch(r -> r.kind().equals("panic"))));
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

    /**
     * The oldest "panic" report in the series, or null: {@code kernelReports(series)}'s first panic,
     * without collecting every report of the last minute at every sample.
     */
    static LogJson.Report firstPanicReport(List<Sample> series) {
        // At every sample over the whole history: indexed loops, no iterator for the (mostly empty) report lists.
        for (int i = 0; i < series.size(); i++) {
            KernelSample k = series.get(i).kernel();
            List<LogJson.Report> reports = k == null ? List.of() : k.kernelReports();
            for (int j = 0; j < reports.size(); j++) {
                if (reports.get(j).kind().equals("panic")) {
                    return reports.get(j);
                }
            }
        }
        return null;
    }

    /**
     * The newest {@code n} of the kernel's own detectors' reports in the series, oldest first:
     * collected from the newest sample back, not every report of the history at every decision.
     */
    static List<LogJson.Report> kernelReports(List<Sample> series, int n) {
        List<LogJson.Report> out = new ArrayList<>();
        for (int i = series.size() - 1; i >= 0 && out.size() < n; i--) {
            KernelSample k = series.get(i).kernel();
            List<LogJson.Report> reports = k == null ? List.of() : k.kernelReports();
            for (int j = reports.size() - 1; j >= 0 && out.size() < n; j--) {
                out.add(reports.get(j));
            }
        }
        Collections.reverse(out);
        return out;
    }

    static Decision firmwareStuck(List<Sample> series, Sample last, Thresholds t, Seen seen) {
        Sample first = series.get(0);
        // The wall-clock bound first: it costs nothing.
        if (span(first, last) < t.firmware().toNanos()) {
            return null;
        }
        // Never a console line from the kernel, never a kernel reading and never a vCPU in the
        // kernel image: firmware or the decompressor is stuck. A vCPU seen in the kernel image is
        // the kernel (stuck or not, that is for the other checks: a watch with HMP alone, no
        // console and no memory, sees nothing else, and is no firmware hang; bench watch-scale's
        // replayed guests all said FIRMWARE_STUCK).
        if (seen.everKernel()) {
            return null;
        }
        // On a starved host the firmware and the decompressor get a sliver of a core: the bound is
        // on the CPU time the boot vCPU actually got (a third of it), not only on the wall clock.
        long ran = ranNs(series, 0);
        if (ran >= 0 && ran < t.firmware().toNanos() / 3) {
            return null;
        }
        VcpuSample c = last.cpus().isEmpty() ? null : last.cpus().get(0);
        return new Decision(Verdict.FIRMWARE_STUCK, null, 0.9, List.of(
                Fmt.format("no kernel after %.1f s%s: %s, no vCPU ever in the kernel image and guest"
                        + " memory never showed a running kernel", seconds(span(first, last)),
                        ran >= 0 ? Fmt.format(" (CPU0's vCPU thread ran %.1f s of it)", seconds(ran)) : "",
                        last.consoleBytes() < 0 ? "no console to read" : "the console shows no \"Linux version\""),
                c == null ? "no vCPU state" : Fmt.format("CPU0 at %s RIP=0x%x", c.longMode() ? "64-bit" : "32/16-bit",
                        c.rip())), first.hostTimeNs(), last.hostTimeNs());
    }

    // ---- spin with interrupts off

    static Decision spinLockup(List<Sample> series, Sample last, Thresholds t, Seen seen) {
        List<Sample> w = window(series, last, t.spin().toNanos());
        if (w == null) {
            return null;
        }
        List<String> evidence = new ArrayList<>();
        List<Integer> spinning = new ArrayList<>();
        int onsetAt = 0;
        for (VcpuSample c : last.cpus()) {
            int cpu = c.cpu();
            // The last sample first: it is in the window, and most of the time it does not spin.
            if (!spinsHard(last, cpu) || !allSpinHard(w, cpu)) {
                continue;
            }
            // On a loaded host a vCPU thread that does not get a host CPU stands still at whatever
            // RIP it had, interrupts off or not. It must have run for half the threshold to count:
            // over the whole unbroken spin, not just the window, so a vCPU that gets a quarter of a
            // host core is still decided (after about twice the threshold), not never.
            int from = seen.spinFrom(cpu);
            List<Sample> run = series.subList(from, series.size());
            long ran = ranNs(run, cpu);
            if (ran >= 0 && ran < t.spin().toNanos() / 2) {
                continue;
            }
            // Until start_kernel first enables interrupts the kernel runs with IF=0, and it may sit
            // on one rep stos for seconds under TCG on a starved host: before the kernel showed
            // life (jiffies moved, userland), IF=0 is early boot until earlyTooLong's bound.
            if (!seen.life() && !Judge.isEarlyTooLong(series, cpu, t)) {
                continue;
            }
            int places = seen.spinPlaces(cpu);
            if (places >= 0 ? run.size() < SPIN_SAMPLES || places > run.size() / 2 : !stationary(run, cpu)) {
                continue;
            }
            spinning.add(cpu);
            onsetAt = Math.max(onsetAt, from);
        }
        if (spinning.isEmpty()) {
            return null;
        }
        // The unbroken run in which every spinning CPU spins starts where the latest of their own runs does.
        Sample onset = series.get(onsetAt);
        boolean lowerBound = onset == series.get(0);
        for (int cpu : spinning) {
            Set<String> where = w.stream().map(s -> s.cpus().get(cpu)).map(Checks::where)
                    .collect(Collectors.toCollection(LinkedHashSet::new));
            double busy = busyShare(w, cpu);
            evidence.add(Fmt.format("CPU%d spins with interrupts off for %s: HLT=0 IF=0, RIP at %s%s",
                    cpu, Ktime.seconds(span(onset, last), lowerBound), String.join(", ", limit(where, 3)),
                    busy >= 0 ? Fmt.format("; its vCPU thread busy %.0f%% of the time", busy * 100) : ""));
        }
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
        // With every CPU spinning the clock froze with them: the guest's wall clock dates it.
        boolean clockFrozen = spinning.size() == last.cpus().size() && jiffiesFrozen(series, onset, last);
        Onset o = Onset.of(series, onset, last, clockFrozen);
        return new Decision(Verdict.SPIN_LOCKUP, null, confidence, evidence, o.ns(), last.hostTimeNs(), o.how(),
                last.hostTimeNs(), pids(last, spinning));
    }

    /** Fewest samples of an unbroken IF=0 run that can show it going round a loop. */
    static final int SPIN_SAMPLES = 4;

    /**
     * Whether the vCPU went round a loop over the run: seen at least {@link #SPIN_SAMPLES} times,
     * at few places (functions when symbols are known, else addresses), each at least twice on
     * average. A spin loop is one to three addresses; a booting kernel caught with IF=0 at a few
     * samples (in interrupt handlers, under irqsave locks, or sampled sparsely by a starved
     * watcher: two samples 2 s apart) is somewhere else each time (a healthy 6.1 boot on a
     * loaded host: 4 samples at 4 addresses in 1.1 s, samples/series/healthy-generic-loaded).
     */
    static boolean stationary(List<Sample> run, int cpu) {
        Set<String> places = new HashSet<>();
        int seen = 0;
        VcpuSample before = null;
        for (Sample s : run) {
            if (s.cpus().size() > cpu) {
                VcpuSample c = s.cpus().get(cpu);
                seen++;
                // A held spin's run is the whole history: the place the sample before had (same
                // symbol, or same address without one) is the same place, no string to cut and hash.
                if (before != null && (c.ripSymbol() == null ? before.ripSymbol() == null && before.rip() == c.rip()
                        : c.ripSymbol().equals(before.ripSymbol()))) {
                    continue;
                }
                before = c;
                places.add(place(c));
                if (places.size() > run.size() / 2) {
                    return false; // more places than half of all it could be seen in
                }
            }
        }
        return seen >= SPIN_SAMPLES && places.size() <= seen / 2;
    }

    /** Where a spinning vCPU is, as {@link #stationary} counts places: its function when known, else its address. */
    static String place(VcpuSample c) {
        String sym = c.ripSymbol();
        int plus = sym == null ? -1 : sym.indexOf('+');
        return sym == null ? Long.toHexString(c.rip()) : plus > 0 ? sym.substring(0, plus) : sym;
    }

    /** Whether the vCPU at index {@code cpu} spins hard in every sample of {@code w}: a loop, at every sample of every watch. */
    private static boolean allSpinHard(List<Sample> w, int cpu) {
        for (int i = 0; i < w.size(); i++) {
            if (!spinsHard(w.get(i), cpu)) {
                return false;
            }
        }
        return true;
    }

    static boolean spinsHard(VcpuSample c) {
        return !c.halted() && !c.interruptsEnabled() && c.inKernelImage();
    }

    /** Whether the vCPU at index {@code cpu} of {@code s} spins hard (false when {@code s} has no such vCPU). */
    static boolean spinsHard(Sample s, int cpu) {
        return s.cpus().size() > cpu && spinsHard(s.cpus().get(cpu));
    }

    // ---- timers stopped while idle

    static Decision timerStall(List<Sample> series, Sample last, Thresholds t, Seen seen) {
        List<Sample> w = window(series, last, t.stall().toNanos());
        if (w == null || last.cpus().isEmpty()) {
            return null;
        }
        boolean allIdle = true;
        for (int i = 0; i < w.size() && allIdle; i++) {
            allIdle = allIdle(w.get(i));
        }
        // A tick storm keeps the vCPUs going in and out of the timer interrupt path (HLT=0, IF=0
        // in the handler): not every sample finds every vCPU in HLT. They count by share.
        double idleShare = idleShare(w);
        if (!allIdle && idleShare < STORM_IDLE_SHARE) {
            return null;
        }
        // What decides comes first; the evidence (a scan of the whole idle run, formatting) is
        // written only for a decision: a healthy idle guest gets here at every sample.
        boolean kernelKnown = true;
        boolean lapicIdleAll = true;
        for (int i = 0; i < w.size(); i++) {
            kernelKnown &= w.get(i).kernel() != null;
            lapicIdleAll = lapicIdleAll && lapicIdle(w.get(i));
        }
        boolean lapicIdle = lapicIdle(last);
        if (!kernelKnown) {
            // Without guest memory only the LAPIC can tell a stall from a long NO_HZ sleep.
            if (!allIdle || !lapicIdleAll) {
                return null;
            }
            List<String> ev = new ArrayList<>();
            ev.add(idleLine(series, w, last, allIdle, idleShare, seen));
            ev.add(lapicLine(last));
            ev.add("no kernel readings (guest memory not readable): jiffies and kernel timers unknown");
            Sample onset = series.get(seen.quietFrom());
            Onset o = Onset.of(series, onset, last, false);
            return new Decision(Verdict.TIMER_STALL, "lost-timer", 0.6, ev, o.ns(), last.hostTimeNs(), o.how(),
                    last.hostTimeNs(), Map.of());
        }
        long jiffies = last.kernel().jiffies();
        for (Sample s : w) {
            if (s.kernel().jiffies() != jiffies) {
                return null;
            }
        }
        Sample frozenSince = series.get(seen.frozenFrom());
        long frozenNs = last.hostTimeNs() - frozenSince.hostTimeNs();
        double frozenS = seconds(frozenNs);
        boolean lowerBound = frozenSince == series.get(0);
        // The guest's clock now is at least the last tick plus the host time jiffies have stood still.
        long lastTick = last.kernel().lastJiffiesUpdateNs();
        boolean tickKnown = Ktime.plausible(lastTick);
        long guestNowAtLeast = lastTick + frozenNs;
        KernelSample.Cpu soonest = null;
        for (KernelSample.Cpu c : last.kernel().cpus()) {
            if (Ktime.sentinel(c.expiresNextNs()) == null && (soonest == null || c.expiresNextNs() < soonest.expiresNextNs())) {
                soonest = c;
            }
        }
        long overdueNs = soonest == null || !tickKnown ? 0 : guestNowAtLeast - soonest.expiresNextNs();
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
        if (!storm && (!allIdle || (!overdue && !lapicIdle))) {
            return null; // a long NO_HZ sleep with a timer armed for later: healthy
        }
        String flavour = storm ? "tick-storm" : "lost-timer";
        Onset o = Onset.of(series, frozenSince, last, true);
        List<String> ev = new ArrayList<>();
        ev.add(idleLine(series, w, last, allIdle, idleShare, seen));
        ev.add(Fmt.format("jiffies frozen at %d for %s", jiffies, o.duration(frozenSince, last)));
        if (storm) {
            ev.add(Fmt.format("local timer interrupts keep coming (%d in %.1f s) but jiffies never advance",
                    locDelta, frozenS));
        } else if (locFrozen) {
            ev.add(Fmt.format("local timer interrupts frozen on every CPU (LOC %s)",
                    last.kernel().cpus().stream().map(c -> Long.toString(c.localTimerInterrupts())).collect(Collectors.joining("/"))));
        }
        if (!tickKnown) {
            ev.add("last_jiffies_update is " + Ktime.sentinel(lastTick) + ": the tick never ran, or not since early init");
        }
        if (overdue) {
            ev.add(Fmt.format("CPU%d hrtimer expires_next %s in the past", soonest.cpu(),
                    Ktime.seconds(overdueNs, lowerBound)));
        }
        for (KernelSample.Cpu c : last.kernel().cpus()) {
            String name = Ktime.sentinel(c.expiresNextNs());
            if (name != null) {
                ev.add(Fmt.format("CPU%d hrtimer expires_next is %s", c.cpu(), name));
            }
        }
        ev.add(lapicLine(last));
        double confidence = 0.55 + (overdue ? 0.15 : 0) + (lapicIdle ? 0.15 : 0) + (locFrozen || storm ? 0.1 : 0)
                + (frozenS >= 2 * seconds(t.stall().toNanos()) ? 0.04 : 0);
        return new Decision(Verdict.TIMER_STALL, flavour, confidence, ev, o.ns(), last.hostTimeNs(), o.how(),
                last.hostTimeNs(), Map.of());
    }

    /** Every vCPU of {@code s} in HLT with IF=1 (and there are some). */
    static boolean allIdle(Sample s) {
        if (s.cpus().isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.cpus().size(); i++) {
            VcpuSample c = s.cpus().get(i);
            if (!c.halted() || !c.interruptsEnabled()) {
                return false;
            }
        }
        return true;
    }

    /** Every vCPU of {@code s} with its LAPIC timer known and nothing armed. */
    static boolean lapicIdle(Sample s) {
        for (VcpuSample c : s.cpus()) {
            if (c.lapic() == null || c.lapic().armed()) {
                return false;
            }
        }
        return true;
    }

    /** A stall's first line: where the vCPUs sleep, and for how long (all idle) or how often (a storm's share). */
    private static String idleLine(List<Sample> series, List<Sample> w, Sample last, boolean allIdle, double idleShare, Seen seen) {
        Set<String> where = last.cpus().stream().filter(c -> c.halted()).map(Checks::where)
                .collect(Collectors.toCollection(LinkedHashSet::new));
        if (allIdle) {
            // The whole unbroken idle run, not only the window that decided: a snapshot taken 37 s
            // into a stall said "in HLT for 2.0 s" beside "jiffies frozen for 37.1 s".
            Sample idleSince = series.get(seen.idleFrom());
            return Fmt.format("%s in HLT with IF=1 at %s for %s", allVcpus(last.cpus().size()),
                    String.join(", ", limit(where, 2)), Ktime.seconds(span(idleSince, last), idleSince == series.get(0)));
        }
        Set<String> busy = w.stream().flatMap(s -> s.cpus().stream()).filter(c -> !(c.halted() && c.interruptsEnabled()))
                .map(Checks::where).collect(Collectors.toCollection(LinkedHashSet::new));
        return Fmt.format("%s in HLT with IF=1 at %s in %.0f%% of vCPU samples over %.1f s;"
                + " the rest in and out of interrupts at %s", allVcpus(last.cpus().size()),
                String.join(", ", limit(where, 2)), idleShare * 100, seconds(span(w.get(0), last)),
                String.join(", ", limit(busy, 3)));
    }

    /** At least this share of vCPU samples in HLT with IF=1 keeps a tick storm a stall (the rest: its handler). */
    static final double STORM_IDLE_SHARE = 0.8;

    static double idleShare(List<Sample> w) {
        long all = 0;
        long idle = 0;
        for (Sample s : w) {
            for (VcpuSample c : s.cpus()) {
                all++;
                idle += c.halted() && c.interruptsEnabled() ? 1 : 0;
            }
        }
        return all == 0 ? 0 : idle / (double) all;
    }

    static boolean jiffiesFrozen(List<Sample> series, Sample from, Sample last) {
        if (last.kernel() == null) {
            return false;
        }
        long j = last.kernel().jiffies();
        // From the newest back to the onset (host times only grow): not the whole history.
        for (int i = series.size() - 1; i >= 0 && series.get(i).hostTimeNs() >= from.hostTimeNs(); i--) {
            Sample s = series.get(i);
            if (s.kernel() != null && s.kernel().jiffies() != j) {
                return false;
            }
        }
        return true;
    }

    /** Each CPU with its current pid in {@code s} (-1 unknown). */
    static Map<Integer, Integer> pids(Sample s, List<Integer> cpus) {
        Map<Integer, Integer> m = new LinkedHashMap<>();
        for (int cpu : cpus) {
            Integer pid = currentPid(s, cpu);
            m.put(cpu, pid == null ? -1 : pid);
        }
        return m;
    }

    static long locDelta(Sample from, Sample to) {
        if (from.kernel() == null || to.kernel() == null) {
            return 0;
        }
        long a = from.kernel().cpus().stream().mapToLong(KernelSample.Cpu::localTimerInterrupts).sum();
        long b = to.kernel().cpus().stream().mapToLong(KernelSample.Cpu::localTimerInterrupts).sum();
        return b - a;
    }

    static String lapicLine(Sample s) {
        Set<String> states = new LinkedHashSet<>();
        for (VcpuSample c : s.cpus()) {
            LapicTimer l = c.lapic();
            states.add(l == null ? "unknown" : l.timerMode() + (l.masked() ? ", masked" : "")
                    + (l.armed() ? ", armed (" + l.currentCount() + " left)" : ", nothing armed"));
        }
        return "LAPIC timer: " + String.join("; ", states);
    }

    // ---- busy in the kernel with interrupts on

    static Decision softLockup(List<Sample> series, Sample last, Thresholds t) {
        List<Sample> w = window(series, last, t.softLockup().toNanos());
        if (w == null) {
            return null;
        }
        for (VcpuSample c : last.cpus()) {
            int cpu = c.cpu();
            // The last sample first: it is in the window, and most of the time its CPU is idle or elsewhere.
            if (!busyInKernel(last, cpu) || !allBusyInKernel(w, cpu)) {
                continue;
            }
            // Interrupts off most of the time is a spin (SPIN_LOCKUP's), not a soft lockup: a
            // soft-locked CPU still takes its timer interrupts, so only some samples catch IF=0.
            long ifOn = w.stream().filter(s -> s.cpus().get(cpu).interruptsEnabled()).count();
            if (ifOn * 2 <= w.size()) {
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
            Sample onset = onset(series, last, s -> s.cpus().size() > cpu && !s.cpus().get(cpu).halted()
                    && Objects.equals(currentPid(s, cpu), pid));
            ev.add(Fmt.format("CPU%d stuck in the kernel for %s on one task, %s (pid %d), without scheduling",
                    cpu, Ktime.seconds(span(onset, last), onset == series.get(0)), comm, pid));
            ev.add(Fmt.format("interrupts on (IF=1 in %d of %d samples), RIP at %s", ifOn, w.size(),
                    String.join(", ", limit(where, 3))));
            ev.add(jiffiesLine(w, last));
            if (busy >= 0) {
                ev.add(Fmt.format("its vCPU thread busy %.0f%% of the time", busy * 100));
            }
            Onset o = Onset.of(series, onset, last, false);
            return new Decision(Verdict.SOFT_LOCKUP, null, busy >= 0 ? 0.85 : 0.7, ev, o.ns(), last.hostTimeNs(), o.how(),
                    last.hostTimeNs(), Map.of(cpu, pid));
        }
        return null;
    }

    private static boolean allBusyInKernel(List<Sample> w, int cpu) {
        for (int i = 0; i < w.size(); i++) {
            if (!busyInKernel(w.get(i), cpu)) {
                return false;
            }
        }
        return true;
    }

    /** Whether the vCPU at index {@code cpu} of {@code s} runs (not in HLT) in the kernel image. */
    private static boolean busyInKernel(Sample s, int cpu) {
        return s.cpus().size() > cpu && !s.cpus().get(cpu).halted() && s.cpus().get(cpu).inKernelImage();
    }

    static Integer currentPid(Sample s, int cpu) {
        if (s.kernel() == null) {
            return null;
        }
        for (KernelSample.Cpu k : s.kernel().cpus()) {
            if (k.cpu() == cpu) {
                return k.currentPid();
            }
        }
        return null;
    }

    /** The vCPU numbered {@code cpu} in {@code s}, or null. */
    static VcpuSample vcpu(Sample s, int cpu) {
        for (VcpuSample c : s.cpus()) {
            if (c.cpu() == cpu) {
                return c;
            }
        }
        return null;
    }

    // ---- tasks sleeping on each other

    static Decision sleepDeadlock(List<Sample> series, Sample last, Thresholds t, Seen seen) {
        Decision cycle = lockCycle(series, last, seen);
        if (cycle != null) {
            return cycle;
        }
        Sample withTasks = seen.newestTasks(series);
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
        ev.add(Fmt.format("%d task%s in D state for over %.0f s: %s", stuck.size(), stuck.size() == 1 ? "" : "s",
                limit, stuck.stream().limit(6).map(b -> Fmt.format("%s (pid %d, %.1f s)", b.comm(), b.pid(),
                        b.blockedForS())).collect(Collectors.joining(", "))));
        ev.add(jiffiesMove ? jiffiesLine(List.of(first, last), last) : "jiffies: too few readings to say time goes on");
        ev.add("no boot milestone for " + Fmt.format("%.0f s", seconds(last.hostTimeNs() - first.hostTimeNs()))
                + "; last milestone: " + Objects.requireNonNullElse(last.lastMilestone(), "none"));
        long idle = last.cpus().stream().filter(VcpuSample::halted).count();
        ev.add(idle + " of " + last.cpus().size() + " vCPUs idle (HLT)");
        return new Decision(Verdict.SLEEP_DEADLOCK, null, jiffiesMove ? 0.85 : 0.7, ev,
                last.hostTimeNs() - (long) (longest * 1e9), last.hostTimeNs(),
                "from the guest's task list: the longest D-state wait", last.hostTimeNs(), Map.of());
    }

    /**
     * A cycle in the wait-for graph in the newest two lock readings (samples whose kernel readings
     * carry {@code lock_cycles}; older recordings have none): tasks that each wait for a lock the
     * next one holds, which nothing in the guest will release. Two readings that agree rule out a
     * graph torn by a lock changing hands between reads. No threshold to wait out.
     */
    static Decision lockCycle(List<Sample> series, Sample last) {
        return lockCycle(series, last, Seen.of(null, series));
    }

    static Decision lockCycle(List<Sample> series, Sample last, Seen seen) {
        Sample newest = seen.newestLocks(series);
        Sample before = seen.locksBefore(series);
        if (before == null || newest.kernel().lockCycles().isEmpty()) {
            return null;
        }
        List<KernelSample.LockCycle> prior = before.kernel().lockCycles();
        List<KernelSample.LockCycle> both = newest.kernel().lockCycles().stream().filter(prior::contains).toList();
        if (both.isEmpty()) {
            return null;
        }
        Set<Integer> pids = both.stream().flatMap(c -> c.edges().stream()).map(KernelSample.LockEdge::pid)
                .collect(Collectors.toCollection(LinkedHashSet::new));
        List<String> ev = new ArrayList<>();
        ev.add(Fmt.format("%s in the wait-for graph, the same in two readings %.1f s apart: %d task%s"
                + " wait%s on each other's locks", both.size() == 1 ? "a lock cycle" : both.size() + " lock cycles",
                seconds(span(before, newest)), pids.size(), pids.size() == 1 ? "" : "s", pids.size() == 1 ? "s" : ""));
        for (KernelSample.LockCycle c : both.subList(0, Math.min(both.size(), 4))) {
            ev.addAll(c.lines());
        }
        // The onset: the longest D-state wait among the cycle's tasks, as the task list has it.
        double longest = newest.kernel().blockedTasks() == null ? -1 : newest.kernel().blockedTasks().stream()
                .filter(b -> pids.contains(b.pid())).mapToDouble(KernelSample.BlockedTask::blockedForS).max().orElse(-1);
        Sample first = onset(series, newest, s -> s.kernel() == null || s.kernel().lockCycles() == null
                || s.kernel().lockCycles().stream().anyMatch(both::contains));
        long onsetNs = longest > 0 ? newest.hostTimeNs() - (long) (longest * 1e9) : first.hostTimeNs();
        String how = longest > 0 ? "from the guest's task list: the longest D-state wait in the cycle" : Decision.FROM_SAMPLES;
        if (longest > 0) {
            ev.add(Fmt.format("in D state for up to %.1f s", longest));
        }
        ev.add(first.kernel() != null && first != last ? jiffiesLine(List.of(first, last), last)
                : "jiffies: too few readings to say time goes on");
        long idle = last.cpus().stream().filter(VcpuSample::halted).count();
        ev.add(idle + " of " + last.cpus().size() + " vCPUs idle (HLT)");
        return new Decision(Verdict.SLEEP_DEADLOCK, null, 0.95, ev, Math.min(onsetNs, newest.hostTimeNs()),
                last.hostTimeNs(), how, last.hostTimeNs(), Map.of());
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
    static Sample onset(List<Sample> series, Sample last, java.util.function.Predicate<Sample> p) {
        Sample onset = last;
        for (int i = series.size() - 1; i >= 0 && p.test(series.get(i)); i--) {
            onset = series.get(i);
        }
        return onset;
    }

    static Sample firstWhere(List<Sample> series, java.util.function.Predicate<Sample> p) {
        return series.stream().filter(p).findFirst().orElse(series.get(series.size() - 1));
    }

    /** CPU time the vCPU's host thread got over the window, ns; -1 when unknown. */
    static long ranNs(List<Sample> w, int cpu) {
        VcpuSample a = w.get(0).cpus().size() > cpu ? w.get(0).cpus().get(cpu) : null;
        VcpuSample b = w.get(w.size() - 1).cpus().size() > cpu ? w.get(w.size() - 1).cpus().get(cpu) : null;
        if (a == null || b == null || a.threadCpuNs() < 0 || b.threadCpuNs() < 0) {
            return -1;
        }
        return b.threadCpuNs() - a.threadCpuNs();
    }

    /** Share of the time between two samples that QEMU's main thread waited, runnable, for a host CPU; 0 when unknown. */
    static double waitShare(Sample a, Sample b) {
        long wall = b.hostTimeNs() - a.hostTimeNs();
        if (a.qemuWaitNs() < 0 || b.qemuWaitNs() < 0 || wall <= 0) {
            return 0;
        }
        return (b.qemuWaitNs() - a.qemuWaitNs()) / (double) wall;
    }

    /** Share of wall time the vCPU's host thread spent on a CPU over the window; -1 when unknown. */
    static double busyShare(List<Sample> w, int cpu) {
        VcpuSample a = w.get(0).cpus().size() > cpu ? w.get(0).cpus().get(cpu) : null;
        VcpuSample b = w.get(w.size() - 1).cpus().get(cpu);
        if (a == null || a.threadCpuNs() < 0 || b.threadCpuNs() < 0) {
            return -1;
        }
        long wall = w.get(w.size() - 1).hostTimeNs() - w.get(0).hostTimeNs();
        return wall <= 0 ? -1 : Math.min(1.0, (b.threadCpuNs() - a.threadCpuNs()) / (double) wall);
    }

    static String jiffiesLine(List<Sample> w, Sample last) {
        Sample first = w.get(0);
        if (first.kernel() == null || last.kernel() == null) {
            return "jiffies: not readable";
        }
        long d = last.kernel().jiffies() - first.kernel().jiffies();
        return d == 0 ? Fmt.format("jiffies frozen at %d for %.1f s", last.kernel().jiffies(), seconds(span(first, last)))
                : Fmt.format("jiffies advance (+%d in %.1f s): time goes on", d, seconds(span(first, last)));
    }

    static String where(VcpuSample c) {
        return c.ripSymbol() != null ? c.ripSymbol() : Fmt.format("0x%x", c.rip());
    }

    static List<String> limit(Set<String> s, int n) {
        List<String> out = new ArrayList<>(s).subList(0, Math.min(n, s.size()));
        if (s.size() > n) {
            out = new ArrayList<>(out);
            out.add("(" + (s.size() - n) + " more)");
        }
        return out;
    }

    /** "all 4 vCPUs", or "the only vCPU" on a uniprocessor guest. */
    static String allVcpus(int n) {
        return n == 1 ? "the only vCPU" : "all " + n + " vCPUs";
    }

    static long span(Sample a, Sample b) {
        return b.hostTimeNs() - a.hostTimeNs();
    }

    static double seconds(long ns) {
        return ns / 1e9;
    }
}
