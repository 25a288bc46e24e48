package dev.tickwatch.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.probe.KernelSample;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.probe.VcpuSample;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The judge as a state machine (Judge's class comment): every recorded series in
 * {@code samples/series/*.jsonl} against its {@code .verdicts.jsonl} (a new recording joins the
 * table by adding both files), and every wrong flip measured in issue 14 rebuilt by a controlled
 * transformation of a recorded series, each test saying which observation it mirrors. Over all of
 * them: a hang verdict is never followed by PROGRESSING without progress.
 */
class JudgeStateTest {

    static final Thresholds T = Thresholds.defaults();
    static final long PERIOD = 250_000_000L;

    // ---- the table of recorded series

    static Stream<Arguments> recorded() throws IOException {
        try (Stream<Path> files = Files.list(JudgeTest.SERIES)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jsonl") && !n.endsWith(".verdicts.jsonl"))
                    .filter(n -> Files.exists(JudgeTest.SERIES.resolve(n.replace(".jsonl", ".verdicts.jsonl"))))
                    .map(n -> Arguments.of(n.replace(".jsonl", ""))).toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("recorded")
    void eachRecordedSeriesGivesItsRecordedVerdictSequence(String mode) throws IOException {
        List<String> expected = new ArrayList<>();
        for (String line : Files.readAllLines(JudgeTest.SERIES.resolve(mode + ".verdicts.jsonl"))) {
            if (!line.isBlank()) {
                JsonNode o = Json.MAPPER.readTree(line);
                expected.add(o.path("verdict").asText() + (o.path("flavour").isNull() ? "" : " " + o.path("flavour").asText()));
            }
        }
        List<Decision> changes = JudgeTest.replay(JudgeTest.load(mode), T);
        assertEquals(expected, changes.stream().map(JudgeStateTest::name).toList(), changes.toString());
    }

    // ---- the flips of issue 14, rebuilt from recorded series

    /**
     * Mirrors the tick storm on 4 vCPUs (and on PREEMPT_RT): jiffies frozen, thousands of local
     * timer interrupts, vCPUs caught in and out of the interrupt path so that not every sample
     * finds every vCPU in HLT. Was: TIMER_STALL tick-storm, then "PROGRESSING (0.50): jiffies +0
     * in 2.0 s; 1 of 2 vCPUs idle". Here CPU1 is in the handler (HLT=0, IF=0) in 30 % of the
     * samples once the storm began, and the storm goes on for 20 s.
     */
    static List<Sample> stormInAndOutOfTheHandler() throws IOException {
        List<Sample> s = extend(JudgeTest.load("timer-stall-storm"), 20);
        long frozen = s.get(6).hostTimeNs();
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            Sample x = s.get(i);
            out.add(x.hostTimeNs() > frozen && i % 10 < 3 ? withCpu(x, 1, c -> inHandler(c)) : x);
        }
        return out;
    }

    @Test
    void aTickStormWhoseVcpusAreInAndOutOfTheHandlerStaysATimerStall() throws IOException {
        List<Decision> all = JudgeTest.decisions(stormInAndOutOfTheHandler(), T);
        int first = firstHang(all);
        assertTrue(first >= 0, "decided: " + JudgeTest.replay(stormInAndOutOfTheHandler(), T));
        for (Decision d : all.subList(first, all.size())) {
            assertEquals("TIMER_STALL tick-storm", name(d), d.toString());
        }
        assertTrue(all.stream().anyMatch(d -> d.evidence().get(0).contains("% of vCPU samples")),
                "some decisions count idle vCPUs by share: " + all.get(all.size() - 1));
    }

    /**
     * Mirrors the interrupts-arriving stall on 2 vCPUs that ended as PROGRESSING: the storm goes on
     * and now and then a sample has no kernel readings (a memory read that failed mid-update), so
     * the stall check cannot see jiffies: that is no progress.
     */
    static List<Sample> stormWithUnreadableSamples() throws IOException {
        List<Sample> s = extend(JudgeTest.load("timer-stall-storm"), 20);
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            Sample x = s.get(i);
            out.add(i > 20 && i % 7 == 0 ? kernel(x, k -> null) : x);
        }
        return out;
    }

    @Test
    void aStormStallDoesNotEndAsProgressingWhenSomeSamplesCannotReadTheKernel() throws IOException {
        List<Decision> all = JudgeTest.decisions(stormWithUnreadableSamples(), T);
        Decision last = all.get(all.size() - 1);
        assertEquals(Verdict.TIMER_STALL, last.verdict(), last.toString());
        assertTrue(all.stream().anyMatch(d -> d.evidence().get(0).matches("still: nothing has progressed for \\d+\\.\\d s since"
                + " TIMER_STALL was decided")), "held with its age");
        assertEquals(2, JudgeTest.replay(stormWithUnreadableSamples(), T).size(), "PROGRESSING, then TIMER_STALL only");
    }

    /**
     * Mirrors SPIN_LOCKUP then "PROGRESSING (0.50): jiffies +0 in 2.0 s; 0 of 2 vCPUs idle" on a
     * busy host: after the decision both vCPU threads get no host CPU for 3 s (their schedstat
     * time stands still), so the spin check skips them.
     */
    static List<Sample> spinStarvedAfterTheDecision() throws IOException {
        List<Sample> s = extend(JudgeTest.load("spin-deadlock"), 10);
        long from = s.get(15).hostTimeNs();
        long to = from + 3_000_000_000L;
        return starve(starve(s, 0, from, to), 1, from, to);
    }

    @Test
    void aStarvedVcpuInASpinKeepsTheSpinLockup() throws IOException {
        List<Sample> s = spinStarvedAfterTheDecision();
        List<Decision> all = JudgeTest.decisions(s, T);
        int first = firstHang(all);
        assertTrue(all.subList(first, all.size()).stream().allMatch(d -> d.verdict() == Verdict.SPIN_LOCKUP), all.toString());
        // The spin check counts a vCPU's CPU time over its whole spin (it had run well over 1 s
        // before the starvation), so it keeps seeing both CPUs itself: no "still" needed, and the
        // evidence shows the starvation as the vCPU thread's low busy share.
        long from = s.get(15).hostTimeNs() + 2_500_000_000L;
        List<Decision> starved = all.stream().filter(d -> d.decidedNs() >= from && d.decidedNs() <= from + 500_000_000L).toList();
        assertFalse(starved.isEmpty(), "decisions while CPU0 starves");
        assertTrue(starved.stream().allMatch(d -> d.evidence().stream()
                .anyMatch(e -> e.matches("CPU0 spins .*busy [0-4]?[0-9]% of the time"))), "CPU0's starvation shows: " + starved);
        assertEquals(List.of("PROGRESSING", "SPIN_LOCKUP"), JudgeTest.replay(s, T).stream().map(JudgeStateTest::name).toList());
    }

    /**
     * Mirrors the 30 s watch of the all-CPU spin with both host cores busy, which changed verdict
     * 16 times (PROGRESSING>SPIN_LOCKUP>PROGRESSING>SOFT_LOCKUP>...): each vCPU thread starves in
     * random bursts, and (as on that host) jiffies still creep on, which let SOFT_LOCKUP fire for
     * CPUs whose interrupts were off.
     */
    static List<Sample> spinOnABusyHost() throws IOException {
        List<Sample> s = extend(JudgeTest.load("spin-deadlock"), 30);
        Random r = new Random(14);
        long start = s.get(6).hostTimeNs();
        for (int cpu = 0; cpu < 2; cpu++) {
            for (long t = start; t < s.get(s.size() - 1).hostTimeNs(); t += 4_000_000_000L) {
                long from = t + r.nextInt(2000) * 1_000_000L;
                s = starve(s, cpu, from, from + 1_000_000_000L + r.nextInt(1500) * 1_000_000L);
            }
        }
        List<Sample> out = new ArrayList<>();
        long j0 = s.get(6).kernel().jiffies();
        for (Sample x : s) {
            long dj = Math.max(0, (x.hostTimeNs() - start) / 40_000_000L);
            out.add(x.hostTimeNs() <= start ? x : kernel(x, k -> new KernelSample(j0 + dj, k.lastJiffiesUpdateNs(),
                    k.tickDoTimerCpu(), k.hz(), k.cpus(), k.blockedTasks(), k.wallClockNs())));
        }
        return out;
    }

    /**
     * Mirrors VerdictIT's SPIN_DEADLOCK on a host kept busy by a kernel build and five builds of
     * this project: "no hang verdict in 60 s", last "jiffies +0 in 2.1 s, 0 of 2 vCPUs idle". Each
     * vCPU thread got well under half a core, so within any 2 s window it had run less than the 1 s
     * the spin check asks for, and it was never decided. Here both get 30 % of a core from the
     * start of the spin: the check must count their CPU time over the whole spin, and decide once
     * they have spun for 1 s of CPU time (about 3.3 s of wall time), not never.
     */
    @Test
    void aSpinWhoseVcpusGetAThirdOfACoreIsStillDecided() throws IOException {
        List<Sample> s = extend(JudgeTest.load("spin-deadlock"), 20);
        int spinFrom = -1;
        for (int i = 0; i < s.size() && spinFrom < 0; i++) {
            if (s.get(i).cpus().stream().allMatch(Checks::spinsHard)) {
                spinFrom = i;
            }
        }
        assertTrue(spinFrom >= 0, "the recorded series spins");
        long from = s.get(spinFrom).hostTimeNs();
        for (int cpu = 0; cpu < 2; cpu++) {
            s = throttle(s, cpu, from, 0.3);
        }
        List<Decision> all = JudgeTest.decisions(s, T);
        int first = firstHang(all);
        assertTrue(first >= 0, "decided at all: " + JudgeTest.replay(s, T));
        assertEquals(Verdict.SPIN_LOCKUP, all.get(first).verdict(), all.get(first).toString());
        double afterS = (s.get(first).hostTimeNs() - from) / 1e9;
        assertTrue(afterS >= 3.0, "not before the vCPUs ran 1 s of CPU time: decided " + afterS + " s into the spin");
        assertTrue(afterS < 6.0, "soon after: decided " + afterS + " s into the spin");
    }

    /** From {@code from} on, CPU {@code cpu}'s vCPU thread gets only {@code share} of the CPU time it had. */
    static List<Sample> throttle(List<Sample> s, int cpu, long from, double share) {
        List<Sample> out = new ArrayList<>();
        long base = -1;
        for (Sample x : s) {
            VcpuSample c = x.cpus().size() > cpu ? x.cpus().get(cpu) : null;
            if (c == null || c.threadCpuNs() < 0 || x.hostTimeNs() < from) {
                out.add(x);
                continue;
            }
            if (base < 0) {
                base = c.threadCpuNs();
            }
            long b = base;
            out.add(withCpu(x, cpu, v -> threadCpu(v, b + (long) ((v.threadCpuNs() - b) * share))));
        }
        return out;
    }

    @Test
    void aSpinOnABusyHostIsDecidedOnceAndNeverASoftLockup() throws IOException {
        List<Sample> s = spinOnABusyHost();
        List<Decision> changes = JudgeTest.replay(s, T);
        assertTrue(JudgeTest.decisions(s, T).stream().noneMatch(d -> d.verdict() == Verdict.SOFT_LOCKUP),
                "interrupts off is never a soft lockup: " + changes);
        int first = firstHang(changes);
        assertTrue(first >= 0, changes.toString());
        assertEquals(List.of("SPIN_LOCKUP"), changes.subList(first, changes.size()).stream().map(JudgeStateTest::name).toList(),
                changes.toString());
        assertTrue(changes.size() <= 3, "few changes, not 16: " + changes);
    }

    @Test
    void bothCpusWithInterruptsOffAreNeverASoftLockupEvenWhenTheSpinCheckSkipsThem() throws IOException {
        // The busy-host spin with every vCPU thread starved for the last 2 s of each 10 s: the spin
        // check skips them, soft lockup's 8 s window sees them busy, in the kernel, on one task.
        List<Sample> s = spinOnABusyHost();
        for (int i = s.size() - 1; i > 30; i--) {
            Decision d = Checks.softLockup(s.subList(0, i), s.get(i - 1), T);
            assertTrue(d == null, "no SOFT_LOCKUP with IF=0: " + d);
        }
    }

    /** The guest recovers: jiffies move again after a storm stall, which ends the hang with the evidence. */
    @Test
    void aHeldStallEndsOnRealProgressOnly() throws IOException {
        List<Sample> s = new ArrayList<>(extend(JudgeTest.load("timer-stall-storm"), 10));
        Sample last = s.get(s.size() - 1);
        for (int i = 1; i <= 8; i++) {
            long t = last.hostTimeNs() + i * PERIOD;
            Sample x = at(last, t);
            s.add(kernel(x, k -> new KernelSample(k.jiffies() + 60L * (t - last.hostTimeNs()) / PERIOD, k.lastJiffiesUpdateNs()
                    + (t - last.hostTimeNs()), k.tickDoTimerCpu(), k.hz(), k.cpus(), k.blockedTasks())));
        }
        List<Decision> changes = JudgeTest.replay(s, T);
        assertEquals(List.of("PROGRESSING", "TIMER_STALL tick-storm", "PROGRESSING"),
                changes.stream().map(JudgeStateTest::name).toList(), changes.toString());
        assertTrue(changes.get(2).evidence().get(0).startsWith("progress again after TIMER_STALL (held "),
                changes.get(2).evidence().toString());
    }

    @Test
    void healthySleepIsNoReasonToDropAHang() throws IOException {
        // After the lost-timer stall, the LAPIC shows an armed timer and the next hrtimer lies ahead:
        // what a healthy NO_HZ sleep looks like, but nothing progressed.
        List<Sample> base = extend(JudgeTest.load("timer-stall-lost"), 5);
        long decided = JudgeTest.decisions(base, T).stream().filter(d -> d.verdict().isHang()).findFirst().orElseThrow().decidedNs();
        List<Sample> s = base.stream().map(x -> x.hostTimeNs() <= decided ? x : JudgeTest.withCpus(x,
                c -> new VcpuSample(c.cpu(), c.threadId(), c.threadCpuNs(), c.threadWaitNs(), c.rip(), c.ripSymbol(),
                        c.interruptsEnabled(), c.halted(), c.cpl(), c.longMode(),
                        new dev.tickwatch.probe.LapicTimer(0x400ec, "one-shot", false, 0xec, 16, 9_000_000, 5_000_000)),
                k -> new KernelSample(k.jiffies(), k.lastJiffiesUpdateNs(), k.tickDoTimerCpu(), k.hz(), k.cpus().stream()
                        .map(c -> new KernelSample.Cpu(c.cpu(), c.localTimerInterrupts(), k.lastJiffiesUpdateNs() + 60_000_000_000L,
                                c.hrtimerEvents(), true, c.currentComm(), c.currentPid())).toList(), k.blockedTasks()))).toList();
        Decision last = JudgeTest.decisions(s, T).get(s.size() - 1);
        assertEquals(Verdict.TIMER_STALL, last.verdict(), last.toString());
        assertTrue(last.evidence().get(0).startsWith("still: "), last.evidence().toString());
    }

    // ---- UNDECIDED

    @Test
    void aHostThatStarvesQemuMakesItUndecidedWithTheReason() throws IOException {
        List<Sample> stalled = JudgeTest.load("timer-stall-lost");
        long t0 = stalled.get(0).hostTimeNs();
        List<Sample> s = stalled.stream().map(x -> new Sample(x.hostTimeNs(), x.wallTimeMs(), x.status(), x.consoleBytes(),
                x.lastMilestone(), x.consolePanic(), x.cpus(), x.kernel(), x.sources(), (x.hostTimeNs() - t0) * 9 / 10)).toList();
        Decision d = Judge.judge(s, T);
        assertEquals(Verdict.UNDECIDED, d.verdict(), d.toString());
        assertTrue(d.evidence().get(0).startsWith("host starved: QEMU's main thread waited for a host CPU 90%"), d.toString());
        assertFalse(d.verdict().isHang());
        assertEquals(125, d.verdict().exitCode());
    }

    @Test
    void oneSampleIsTooShortAndNothingReadableSaysSo() throws IOException {
        List<Sample> s = JudgeTest.load("timer-stall-lost");
        Decision one = Judge.judge(s.subList(0, 1), T);
        assertEquals(Verdict.UNDECIDED, one.verdict());
        assertTrue(one.evidence().get(0).startsWith("series too short"), one.toString());
        // Without guest memory and without a console, an idle guest whose LAPIC is armed shows nothing either way.
        List<Sample> blind = s.stream().map(x -> new Sample(x.hostTimeNs(), x.wallTimeMs(), x.status(), -1, null, false,
                x.cpus().stream().map(c -> new VcpuSample(c.cpu(), c.threadId(), c.threadCpuNs(), c.threadWaitNs(), c.rip(),
                        c.ripSymbol(), true, true, c.cpl(), c.longMode(), new dev.tickwatch.probe.LapicTimer(0x400ec, "one-shot", false,
                        0xec, 16, 9_000_000, 5_000_000))).toList(), null, x.sources(), -1)).toList();
        Decision d = Judge.judge(blind, T);
        assertEquals(Verdict.UNDECIDED, d.verdict(), d.toString());
        assertTrue(d.evidence().get(0).startsWith("nothing readable: no kernel readings"), d.toString());
    }

    // ---- the property over every series

    static Stream<Arguments> everySeries() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (Arguments a : recorded().toList()) {
            String mode = (String) a.get()[0];
            out.add(Arguments.of(mode, JudgeTest.load(mode)));
            out.add(Arguments.of(mode + " extended 20 s", extend(JudgeTest.load(mode), 20)));
        }
        out.add(Arguments.of("storm in and out of the handler", stormInAndOutOfTheHandler()));
        out.add(Arguments.of("storm with unreadable samples", stormWithUnreadableSamples()));
        out.add(Arguments.of("spin starved after the decision", spinStarvedAfterTheDecision()));
        out.add(Arguments.of("spin on a busy host", spinOnABusyHost()));
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everySeries")
    void aHangIsNeverFollowedByProgressingWithoutProgress(String name, List<Sample> series) {
        List<Decision> all = JudgeTest.decisions(series, T);
        Decision hang = null;
        for (int i = 0; i < all.size(); i++) {
            Decision d = all.get(i);
            if (hang != null && d.verdict() == Verdict.PROGRESSING) {
                long since = hang.sinceNs();
                List<Sample> after = series.subList(0, i + 1).stream().filter(x -> x.hostTimeNs() >= since).toList();
                assertTrue(progressed(after), name + ": " + hang.verdict() + " then PROGRESSING without progress at sample " + i
                        + ": " + d);
            }
            hang = d.verdict().isHang() ? d : d.verdict() == Verdict.PROGRESSING ? null : hang;
        }
    }

    /** Independent of the judge's own wording: jiffies, console, milestone or a current pid changed. */
    private static boolean progressed(List<Sample> s) {
        Sample a = s.get(0);
        Sample b = s.get(s.size() - 1);
        boolean jiffies = a.kernel() != null && b.kernel() != null && a.kernel().jiffies() != b.kernel().jiffies();
        boolean pids = a.kernel() != null && b.kernel() != null && !a.kernel().cpus().stream().map(KernelSample.Cpu::currentPid)
                .toList().equals(b.kernel().cpus().stream().map(KernelSample.Cpu::currentPid).toList());
        return jiffies || pids || b.consoleBytes() > a.consoleBytes() || !Objects.equals(a.lastMilestone(), b.lastMilestone());
    }

    // ---- evidence values and onsets

    @Test
    void sentinelKtimesAreNamedNeverPrintedAsBillionsOfSeconds() throws IOException {
        // Mirrors the kernel whose jiffies update stopped in early init: "CPU0 hrtimer expires_next
        // 9223372014.4 s in the past". CPU0 holds KTIME_MAX, CPU1 a negative value.
        List<Sample> s = JudgeTest.load("timer-stall-lost").stream().map(x -> kernel(x, k -> new KernelSample(k.jiffies(),
                k.lastJiffiesUpdateNs(), k.tickDoTimerCpu(), k.hz(), k.cpus().stream().map(c -> new KernelSample.Cpu(c.cpu(),
                c.localTimerInterrupts(), c.cpu() == 0 ? Long.MAX_VALUE : -22_400_000_000L, c.hrtimerEvents(), c.tickStopped(),
                c.currentComm(), c.currentPid())).toList(), k.blockedTasks()))).toList();
        Decision d = Judge.judge(s, T);
        assertEquals(Verdict.TIMER_STALL, d.verdict(), d.toString());
        String all = String.join("\n", d.evidence());
        assertTrue(all.contains("CPU0 hrtimer expires_next is KTIME_MAX: nothing armed"), all);
        assertTrue(all.contains("CPU1 hrtimer expires_next is negative (-22400000000 ns): unset or overflowed"), all);
        assertFalse(all.matches("(?s).*\\d{7,}\\.\\d s.*"), "no duration of millions of seconds: " + all);
        assertEquals("KTIME_MAX: nothing armed", Ktime.text(Long.MAX_VALUE));
        assertEquals("0: never set", Ktime.text(0));
        assertTrue(Ktime.text(Long.MAX_VALUE - 22_400_000_000L).startsWith("overflowed"));
        assertEquals("1.500000000 s", Ktime.text(1_500_000_000L));
    }

    @Test
    void aFreezeThatBeganBeforeTheWatchReadsAsALowerBound() throws IOException {
        // Mirrors the snapshot of a stall taken about 32 s after it began: the watch saw only its own
        // 3 s, and said "jiffies frozen for 2.8 s" and an onset 30 s too late.
        List<Sample> s = frozenOnly();
        Decision d = Judge.judge(s, T);
        assertEquals(Verdict.TIMER_STALL, d.verdict(), d.toString());
        assertTrue(d.evidence().stream().anyMatch(e -> e.matches("jiffies frozen at \\d+ for >= \\d\\.\\d s")), d.evidence().toString());
        assertTrue(d.evidence().stream().anyMatch(e -> e.matches("CPU\\d hrtimer expires_next >= \\d\\.\\d s in the past")),
                d.evidence().toString());
        assertTrue(d.onsetIsLowerBound(), d.onsetHow());
        assertEquals(s.get(0).hostTimeNs(), d.onsetNs());
    }

    @Test
    void theGuestsFrozenWallClockDatesTheOnset() throws IOException {
        // The same, with tk_core.timekeeper's wall clock read (the probe reads it while jiffies stand
        // still): it stopped 30 s before the watch's first sample.
        List<Sample> frozen = frozenOnly();
        long stoppedNs = frozen.get(0).wallTimeMs() * 1_000_000L - 30_000_000_000L;
        List<Sample> s = frozen.stream().map(x -> kernel(x, k -> new KernelSample(k.jiffies(), k.lastJiffiesUpdateNs(),
                k.tickDoTimerCpu(), k.hz(), k.cpus(), k.blockedTasks(), stoppedNs))).toList();
        Decision d = Judge.judge(s, T);
        assertEquals(Verdict.TIMER_STALL, d.verdict());
        assertEquals(Onset.FROM_WALL_CLOCK, d.onsetHow());
        assertFalse(d.onsetIsLowerBound());
        assertEquals(30.0, (s.get(0).hostTimeNs() - d.onsetNs()) / 1e9, 0.01);
        assertTrue(d.evidence().stream().anyMatch(e -> e.matches("jiffies frozen at \\d+ for about 3\\d\\.\\d s by the guest's"
                + " frozen wall clock \\(>= \\d\\.\\d s seen by this watch\\)")), d.evidence().toString());
        // A guest clock ahead of the host's (a wrong RTC) is not trusted: back to the lower bound.
        List<Sample> ahead = frozen.stream().map(x -> kernel(x, k -> new KernelSample(k.jiffies(), k.lastJiffiesUpdateNs(),
                k.tickDoTimerCpu(), k.hz(), k.cpus(), k.blockedTasks(), stoppedNs + 3600_000_000_000L))).toList();
        assertTrue(Judge.judge(ahead, T).onsetIsLowerBound());
    }

    /** timer-stall-lost from its first frozen sample on: the watch attached after the freeze. */
    private static List<Sample> frozenOnly() throws IOException {
        List<Sample> s = extend(JudgeTest.load("timer-stall-lost"), 1);
        long j = s.get(s.size() - 1).kernel().jiffies();
        return s.stream().filter(x -> x.kernel() != null && x.kernel().jiffies() == j).toList();
    }

    // ---- helpers: controlled transformations

    static String name(Decision d) {
        return d.verdict() + (d.flavour() == null ? "" : " " + d.flavour());
    }

    private static int firstHang(List<Decision> all) {
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).verdict().isHang()) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The series continued for {@code seconds} as its last two samples went on: the same state, the
     * vCPU threads' CPU time, LOC counts and QEMU wait growing at their last rates, jiffies and the
     * console as they were (a hang goes on; a series that ended in QEMU's exit stays exited).
     */
    static List<Sample> extend(List<Sample> series, double seconds) {
        List<Sample> out = new ArrayList<>(series);
        Sample a = series.get(series.size() - 2);
        Sample b = series.get(series.size() - 1);
        for (long dt = PERIOD; dt <= seconds * 1e9; dt += PERIOD) {
            long step = dt;
            double f = step / (double) Math.max(1, b.hostTimeNs() - a.hostTimeNs());
            List<VcpuSample> cpus = new ArrayList<>();
            for (VcpuSample c : b.cpus()) {
                VcpuSample p = a.cpus().stream().filter(x -> x.cpu() == c.cpu()).findFirst().orElse(c);
                cpus.add(new VcpuSample(c.cpu(), c.threadId(), c.threadCpuNs() < 0 ? -1 : c.threadCpuNs()
                        + (long) ((c.threadCpuNs() - p.threadCpuNs()) * f), c.threadWaitNs(), c.rip(), c.ripSymbol(),
                        c.interruptsEnabled(), c.halted(), c.cpl(), c.longMode(), c.lapic()));
            }
            KernelSample k = b.kernel() == null ? null : new KernelSample(b.kernel().jiffies(), b.kernel().lastJiffiesUpdateNs(),
                    b.kernel().tickDoTimerCpu(), b.kernel().hz(), b.kernel().cpus().stream().map(c -> {
                        long before = a.kernel() == null ? c.localTimerInterrupts() : a.kernel().cpus().stream()
                                .filter(x -> x.cpu() == c.cpu()).mapToLong(KernelSample.Cpu::localTimerInterrupts).findFirst()
                                .orElse(c.localTimerInterrupts());
                        return new KernelSample.Cpu(c.cpu(), c.localTimerInterrupts() + (long) ((c.localTimerInterrupts() - before) * f),
                                c.expiresNextNs(), c.hrtimerEvents(), c.tickStopped(), c.currentComm(), c.currentPid());
                    }).toList(), null, b.kernel().wallClockNs());
            out.add(new Sample(b.hostTimeNs() + step, b.wallTimeMs() + step / 1_000_000, b.status(), b.consoleBytes(),
                    b.lastMilestone(), b.consolePanic(), cpus, k, b.sources(), b.qemuWaitNs()));
        }
        return out;
    }

    /** A copy of {@code x} taken at host time {@code t}. */
    private static Sample at(Sample x, long t) {
        return new Sample(t, x.wallTimeMs() + (t - x.hostTimeNs()) / 1_000_000, x.status(), x.consoleBytes(), x.lastMilestone(),
                x.consolePanic(), x.cpus(), x.kernel(), x.sources(), x.qemuWaitNs());
    }

    /** CPU {@code cpu}'s vCPU thread gets no host CPU between {@code from} and {@code to}: its CPU time stands still there. */
    static List<Sample> starve(List<Sample> s, int cpu, long from, long to) {
        List<Sample> out = new ArrayList<>();
        long stolen = 0;
        long standing = -1;
        for (Sample x : s) {
            VcpuSample c = x.cpus().size() > cpu ? x.cpus().get(cpu) : null;
            if (c == null || c.threadCpuNs() < 0) {
                out.add(x);
                continue;
            }
            if (x.hostTimeNs() >= from && x.hostTimeNs() <= to) {
                if (standing < 0) {
                    standing = c.threadCpuNs() - stolen;
                }
                long frozenAt = standing;
                out.add(withCpu(x, cpu, v -> threadCpu(v, frozenAt)));
            } else {
                if (standing >= 0) {
                    stolen = c.threadCpuNs() - standing;
                    standing = -1;
                }
                long shift = stolen;
                out.add(shift == 0 ? x : withCpu(x, cpu, v -> threadCpu(v, v.threadCpuNs() - shift)));
            }
        }
        return out;
    }

    private static VcpuSample threadCpu(VcpuSample c, long ns) {
        return new VcpuSample(c.cpu(), c.threadId(), ns, c.threadWaitNs(), c.rip(), c.ripSymbol(), c.interruptsEnabled(),
                c.halted(), c.cpl(), c.longMode(), c.lapic());
    }

    private static VcpuSample inHandler(VcpuSample c) {
        return new VcpuSample(c.cpu(), c.threadId(), c.threadCpuNs(), c.threadWaitNs(), c.rip() - 0x40,
                "asm_sysvec_apic_timer_interrupt+0x1a/0x20", false, false, 0, true, c.lapic());
    }

    private static Sample withCpu(Sample x, int cpu, Function<VcpuSample, VcpuSample> f) {
        List<VcpuSample> cpus = new ArrayList<>(x.cpus());
        cpus.set(cpu, f.apply(cpus.get(cpu)));
        return new Sample(x.hostTimeNs(), x.wallTimeMs(), x.status(), x.consoleBytes(), x.lastMilestone(), x.consolePanic(),
                cpus, x.kernel(), x.sources(), x.qemuWaitNs());
    }

    private static Sample kernel(Sample x, Function<KernelSample, KernelSample> f) {
        return new Sample(x.hostTimeNs(), x.wallTimeMs(), x.status(), x.consoleBytes(), x.lastMilestone(), x.consolePanic(),
                x.cpus(), x.kernel() == null ? null : f.apply(x.kernel()), x.sources(), x.qemuWaitNs());
    }
}
