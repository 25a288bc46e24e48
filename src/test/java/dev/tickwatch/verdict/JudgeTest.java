package dev.tickwatch.verdict;

import dev.tickwatch.guest.log.LogJson;
import dev.tickwatch.probe.KernelSample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.probe.KernelSample;
import dev.tickwatch.probe.LapicTimer;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.probe.SampleJson;
import dev.tickwatch.probe.VcpuSample;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The judge on sample series recorded from real lab guests ({@code samples/series/*.jsonl},
 * written by {@code samples/series/record.sh}), replayed sample by sample as the watch does, and
 * on variations of them that must not be judged the same.
 */
class JudgeTest {

    static final Path SERIES = Path.of("samples/series");

    static List<Sample> load(String mode) throws IOException {
        List<Sample> out = new ArrayList<>();
        for (String line : Files.readAllLines(SERIES.resolve(mode + ".jsonl"))) {
            if (!line.isBlank()) {
                out.add(SampleJson.fromJson(Json.MAPPER.readTree(line)));
            }
        }
        return out;
    }

    /** Every decision, sample by sample, each judged with the one before as the watch does. */
    static List<Decision> decisions(List<Sample> series, Thresholds t) {
        List<Decision> all = new ArrayList<>();
        Decision previous = null;
        for (int i = 1; i <= series.size(); i++) {
            previous = Judge.next(previous, series.subList(0, i), t);
            all.add(previous);
        }
        return all;
    }

    /** The decisions the watch would have printed: one per change (the first sample's "too short" unannounced). */
    static List<Decision> replay(List<Sample> series, Thresholds t) {
        List<Decision> changes = new ArrayList<>();
        List<Decision> all = decisions(series, t);
        for (int i = 0; i < all.size(); i++) {
            Decision d = all.get(i);
            if (i == 0 && d.verdict() == Verdict.UNDECIDED) {
                continue;
            }
            if (changes.isEmpty() || !d.sameAs(changes.get(changes.size() - 1))) {
                changes.add(d);
            }
        }
        return changes;
    }

    @ParameterizedTest(name = "{0} -> {1} {2}")
    @CsvSource({
        "timer-stall-lost, TIMER_STALL, lost-timer",
        "timer-stall-storm, TIMER_STALL, tick-storm",
        "spin-deadlock, SPIN_LOCKUP, ",
        "spin-one, SPIN_LOCKUP, ",
        "soft-lockup, SOFT_LOCKUP, ",
        "sleep-deadlock, SLEEP_DEADLOCK, ",
        "panic, PANICKED, "})
    void eachRecordedLabSeriesEndsInItsVerdictWithNoOtherHangBefore(String mode, Verdict expected, String flavour)
            throws IOException {
        List<Decision> changes = replay(load(mode), Thresholds.defaults());
        Decision last = changes.get(changes.size() - 1);
        assertEquals(expected, last.verdict(), mode + ": " + changes);
        assertEquals(flavour, last.flavour());
        assertTrue(changes.stream().filter(d -> d.verdict().isHang()).allMatch(d -> d.verdict() == expected),
                "no other hang verdict on the way: " + changes);
        assertFalse(last.evidence().isEmpty());
        assertTrue(last.confidence() >= 0.8, last.toString());
        if (expected != Verdict.PANICKED) {
            assertTrue(last.decidedNs() > last.onsetNs(), "onset precedes the decision");
        }
    }

    @Test
    void timerStallEvidenceReadsLikeAKernelDeveloperWroteIt() throws IOException {
        Decision d = Judge.judge(load("timer-stall-lost"), Thresholds.defaults());
        String all = String.join("\n", d.evidence());
        assertTrue(all.contains("all 2 vCPUs in HLT with IF=1 at native_safe_halt+0xb/0x10"), all);
        assertTrue(all.matches("(?s).*jiffies frozen at \\d+ for \\d+\\.\\d s.*"), all);
        assertTrue(all.contains("hrtimer expires_next"), all);
        assertTrue(all.contains("LAPIC timer: one-shot, nothing armed"), all);
    }

    @Test
    void tooEarlyToTellIsNotAHang() throws IOException {
        List<Sample> s = load("timer-stall-lost");
        Decision full = Judge.judge(s, Thresholds.defaults());
        // Cut the series one second after the jiffies froze: below the 2 s threshold.
        long cut = full.onsetNs() + 1_000_000_000L;
        List<Sample> early = s.stream().filter(x -> x.hostTimeNs() <= cut).toList();
        assertFalse(Judge.judge(early, Thresholds.defaults()).verdict().isHang());
        // And a longer threshold is honoured.
        assertFalse(Judge.judge(s, Thresholds.defaults().withStall(java.time.Duration.ofSeconds(30))).verdict().isHang());
    }

    @Test
    void aLongNoHzSleepWithATimerArmedIsHealthy() throws IOException {
        // The same frozen jiffies and HLT, but every LAPIC counts down and the next hrtimer lies ahead:
        // that is NO_HZ letting idle CPUs sleep, not a lost timer.
        List<Sample> s = map(load("timer-stall-lost"), x -> withCpus(x, c -> new VcpuSample(c.cpu(), c.threadId(),
                c.threadCpuNs(), c.threadWaitNs(), c.rip(), c.ripSymbol(), c.interruptsEnabled(), c.halted(), c.cpl(), c.longMode(),
                new LapicTimer(0x400ec, "one-shot", false, 0xec, 16, 9_000_000, 5_000_000)), k -> new KernelSample(
                k.jiffies(), k.lastJiffiesUpdateNs(), k.tickDoTimerCpu(), k.hz(), k.cpus().stream().map(c -> new KernelSample.Cpu(
                c.cpu(), c.localTimerInterrupts(), k.lastJiffiesUpdateNs() + 60_000_000_000L, c.hrtimerEvents(), true,
                c.currentComm(), c.currentPid())).toList(), k.blockedTasks())));
        Decision d = Judge.judge(s, Thresholds.defaults());
        assertEquals(Verdict.PROGRESSING, d.verdict(), d.toString());
    }

    @Test
    void withoutGuestMemoryTheLapicAloneStillNamesTheStall() throws IOException {
        List<Sample> s = map(load("timer-stall-lost"), x -> new Sample(x.hostTimeNs(), x.wallTimeMs(), x.status(),
                x.consoleBytes(), x.lastMilestone(), x.consolePanic(), x.cpus(), null, x.sources(), x.qemuWaitNs()));
        Decision d = Judge.judge(s, Thresholds.defaults());
        assertEquals(Verdict.TIMER_STALL, d.verdict());
        assertTrue(d.confidence() < 0.8, "less sure without kernel readings: " + d.confidence());
        assertTrue(d.evidence().stream().anyMatch(e -> e.contains("no kernel readings")));
    }

    @Test
    void firmwareAndDecompressorRunningWithInterruptsOffIsNotASpin() throws IOException {
        // The spin series moved below the kernel image (real mode / decompressor addresses).
        List<Sample> s = map(load("spin-deadlock"), x -> withCpus(x, c -> new VcpuSample(c.cpu(), c.threadId(),
                c.threadCpuNs(), c.threadWaitNs(), 0xfd0b4, null, false, false, 0, false, null), k -> null));
        Decision d = Judge.judge(s, Thresholds.defaults());
        assertNotEquals(Verdict.SPIN_LOCKUP, d.verdict(), d.toString());
    }

    @Test
    void aKernelThatNeverStartsIsFirmwareStuck() throws IOException {
        List<Sample> base = load("spin-deadlock");
        long t0 = base.get(0).hostTimeNs();
        List<Sample> s = new ArrayList<>();
        Decision d = Judge.judge(firmwareLoop(1.0), Thresholds.defaults());
        assertEquals(Verdict.FIRMWARE_STUCK, d.verdict(), d.toString());
        assertEquals(125, d.verdict().exitCode(), "could not test, for git bisect run");
        assertTrue(d.evidence().get(0).contains("(CPU0's vCPU thread ran 32.5 s of it)"), d.evidence().toString());
    }

    /**
     * Seen in VerdictIT on a host kept busy: Debian's generic 6.1 kernel, whose boot vCPU got a
     * tenth of a core, had not reached its kernel after 30 s of wall time and was called
     * FIRMWARE_STUCK. With 3 s of CPU time in 32 s the firmware has not had its chance yet.
     */
    /**
     * Seen in VerdictIT on PREEMPT_RT: in the idle minute one sample's kernel read failed (a list
     * mid-update) while the console was quiet, and the judge said UNDECIDED "nothing readable".
     * The readings of the rest of the window still show jiffies moving.
     */
    @Test
    void oneSampleWithoutKernelReadingsDoesNotHideProgress() throws IOException {
        List<Sample> s = new ArrayList<>(load("sleep-deadlock"));
        Sample last = s.remove(s.size() - 1);
        s.add(new Sample(last.hostTimeNs(), last.wallTimeMs(), last.status(), last.consoleBytes(), last.lastMilestone(),
                last.consolePanic(), last.cpus(), null, last.sources(), last.qemuWaitNs()));
        Decision d = Judge.judge(s.subList(Math.max(0, s.size() - 40), s.size()), Thresholds.defaults());
        assertEquals(Verdict.PROGRESSING, d.verdict(), d.toString());
        assertTrue(d.evidence().get(0).startsWith("jiffies +"), d.evidence().toString());
    }

    /**
     * Seen in VerdictIT: a healthy boot of Debian's PREEMPT_RT kernel was UNDECIDED ("nothing
     * readable") for a few seconds after the kernel started and before the probe's first kernel
     * reading, its console quiet. A vCPU running kernel code at many addresses is booting; one
     * going round two addresses is not proof of anything.
     */
    @Test
    void aKernelRunningBeforeItsFirstReadingIsProgressingButATightLoopIsNot() {
        assertEquals(Verdict.PROGRESSING, Judge.judge(earlyKernel(8, "kernel"), Thresholds.defaults()).verdict());
        assertTrue(Judge.judge(earlyKernel(8, "kernel"), Thresholds.defaults()).evidence().get(0)
                .startsWith("early boot: CPU0 runs in the kernel at 8 different addresses"));
        assertEquals(Verdict.UNDECIDED, Judge.judge(earlyKernel(2, "userland"), Thresholds.defaults()).verdict());
        // Before the kernel's first console line (seen in VerdictIT on the generic and RT kernels,
        // which sat on one instruction for seconds): the CPU time it is given is what shows.
        Decision pre = Judge.judge(earlyKernel(1, null), Thresholds.defaults());
        assertEquals(Verdict.PROGRESSING, pre.verdict(), pre.toString());
        assertTrue(pre.evidence().get(0).startsWith("early boot: CPU0 ran 1.9 s of CPU in 2.0 s before the kernel's first"
                + " console line"), pre.evidence().toString());
    }

    /**
     * Seen in CI and again in VerdictIT (healthy-rt-early-readings: Debian's 6.1 RT, idle host):
     * the probe's first kernel readings came 0.6 s before the kernel's first console line, jiffies
     * not yet moving; the judge took the reading as the end of early boot and said "nothing
     * progressed". A first reading is not a sign of life; jiffies that move are. The loaded
     * generic boot (healthy-generic-loaded) too stays PROGRESSING or host-starved throughout.
     */
    @ParameterizedTest
    @CsvSource({"healthy-rt-early-readings", "healthy-generic-loaded"})
    void recordedHealthyBootsAreNeverUndecidedExceptWhereTheHostStarvedThem(String name) throws IOException {
        List<Decision> changes = replay(load(name), Thresholds.defaults());
        assertTrue(changes.stream().allMatch(d -> d.verdict() == Verdict.PROGRESSING || d.verdict() == Verdict.SHUTDOWN
                || (d.verdict() == Verdict.UNDECIDED && d.evidence().get(0).startsWith("host starved"))), changes.toString());
        assertTrue(decisions(load(name), Thresholds.defaults()).stream()
                .anyMatch(d -> d.evidence().get(0).startsWith("early boot: CPU0 runs in the kernel")), "early boot named as such");
    }

    /**
     * A kernel running at many addresses with IF=1 and jiffies never moving (a calibration loop
     * waiting for a tick that never comes) is early boot only for the bound: after 10 s of CPU
     * in the kernel it is no longer progress, and the judge says why.
     */
    @Test
    void earlyBootIsProgressOnlyUntilItsBoundOfCpuTime() {
        List<Sample> s = new ArrayList<>();
        for (int i = 0; i <= 60; i++) {
            long rip = 0xffffffff81000000L + (i % 5) * 0x40;
            s.add(new Sample(1_000_000_000L + i * 250_000_000L, i * 250L, "running", 0, null, false,
                    List.of(new VcpuSample(0, 11, i * 240_000_000L, 0, rip, null, true, false, 0, true, null),
                            new VcpuSample(1, 12, 0, 0, 0xfff0, null, false, true, 0, false, null)),
                    null, List.of(), 0));
        }
        List<Decision> all = decisions(s, Thresholds.defaults());
        assertEquals(Verdict.PROGRESSING, all.get(20).verdict(), all.get(20).toString());
        Decision end = all.get(all.size() - 1);
        assertEquals(Verdict.UNDECIDED, end.verdict(), end.toString());
        assertTrue(end.evidence().get(0).startsWith("early boot: CPU0 ran 1"), end.evidence().toString());
        assertTrue(end.evidence().get(0).contains("jiffies never moved"), end.evidence().toString());
    }

    /**
     * The kernel's own word beside ours: a soft-lockup watchdog report in the log is quoted in the
     * hang's evidence, and a panic in the log (quiet: the console never showed it) is PANICKED.
     */
    @Test
    void theKernelsOwnReportsAreQuotedAndALoggedPanicIsPanicked() throws IOException {
        List<Sample> s = load("soft-lockup");
        Sample last = s.get(s.size() - 1);
        LogJson.Report watchdog = new LogJson.Report("soft-lockup", 812, 26_123_456_000L,
                "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [insmod:92]");
        s.set(s.size() - 1, withReports(last, List.of(watchdog)));
        Decision d = Judge.judge(s, Thresholds.defaults());
        assertEquals(Verdict.SOFT_LOCKUP, d.verdict(), d.toString());
        assertTrue(d.evidence().contains("the kernel's soft-lockup report [   26.123456]: watchdog: BUG: soft lockup - CPU#1"
                + " stuck for 22s! [insmod:92]"), d.evidence().toString());

        List<Sample> h = load("healthy-rt-early-readings");
        int at = h.size() / 2;
        while (h.get(at).kernel() == null) {
            at++;
        }
        Sample hl = h.get(at);
        List<Sample> cut = new ArrayList<>(h.subList(0, at));
        cut.add(withReports(hl, List.of(new LogJson.Report("panic", 900, 30_000_000_000L,
                "Kernel panic - not syncing: tickwatch lab: induced panic"))));
        Decision p = Judge.judge(cut, Thresholds.defaults());
        assertEquals(Verdict.PANICKED, p.verdict(), p.toString());
        assertTrue(p.evidence().contains("the kernel log says: Kernel panic - not syncing: tickwatch lab: induced panic"),
                p.evidence().toString());
    }

    private static Sample withReports(Sample s, List<LogJson.Report> reports) {
        KernelSample k = s.kernel();
        KernelSample nk = new KernelSample(k.jiffies(), k.lastJiffiesUpdateNs(), k.tickDoTimerCpu(), k.hz(), k.cpus(),
                k.blockedTasks(), k.wallClockNs(), k.lockCycles(), reports);
        return new Sample(s.hostTimeNs(), s.wallTimeMs(), s.status(), s.consoleBytes(), s.lastMilestone(), s.consolePanic(),
                s.cpus(), nk, s.sources(), s.qemuWaitNs());
    }

    /**
     * A watch with HMP alone (no console, guest memory not readable) of a kernel whose vCPUs sit
     * in the kernel image is no firmware hang, however long: bench watch-scale's replayed guests
     * all said FIRMWARE_STUCK after 30 s.
     */
    @Test
    void vcpusInTheKernelImageAreNeverFirmwareStuck() {
        List<Sample> s = new ArrayList<>();
        for (int i = 0; i <= 160; i++) {
            s.add(new Sample(1_000_000_000L + i * 250_000_000L, i * 250L, "running", -1, null, false,
                    List.of(new VcpuSample(0, 11, i * 200_000_000L, 0, 0xffffffff81a17a0bL, null, true, true, 0, true, null),
                            new VcpuSample(1, 12, i * 200_000_000L, 0, 0xffffffff81a17a0bL, null, true, true, 0, true, null)),
                    null, List.of(), 0));
        }
        for (Decision d : decisions(s, Thresholds.defaults())) {
            assertNotEquals(Verdict.FIRMWARE_STUCK, d.verdict(), d.toString());
        }
    }

    /** 2.5 s of CPU0 running kernel code at {@code addresses} different RIPs, no kernel readings, a quiet console. */
    private static List<Sample> earlyKernel(int addresses, String milestone) {
        List<Sample> s = new ArrayList<>();
        for (int i = 0; i <= 10; i++) {
            long rip = 0xffffffff81000000L + (i % addresses) * 0x40;
            s.add(new Sample(1_000_000_000L + i * 250_000_000L, i * 250L, "running", 500, milestone, false,
                    List.of(new VcpuSample(0, 11, i * 240_000_000L, 0, rip, null, true, false, 0, true, null),
                            new VcpuSample(1, 12, 0, 0, 0xfff0, null, false, true, 0, false, null)),
                    null, List.of(), 0));
        }
        return s;
    }

    /**
     * Seen in VerdictIT: the second sample of a healthy boot's watch, 0.3 s in, said "nothing
     * progressed for >= 0.3 s": true, but a third of a second is no time for anything to show.
     */
    @Test
    void aWatchsFirstMomentsAreTooShortNotStill() {
        List<Sample> s = earlyKernel(2, "userland").subList(0, 2);
        Decision d = Judge.judge(s, Thresholds.defaults());
        assertEquals(Verdict.UNDECIDED, d.verdict(), d.toString());
        assertTrue(d.evidence().get(0).startsWith("series too short: 0.3 s of samples"), d.evidence().toString());
    }

    @Test
    void aStarvedBootVcpuIsNotFirmwareStuckAfterThirtySecondsOfWallTime() throws IOException {
        Decision d = Judge.judge(firmwareLoop(0.1), Thresholds.defaults());
        assertNotEquals(Verdict.FIRMWARE_STUCK, d.verdict(), d.toString());
        assertFalse(d.verdict().isHang(), d.toString());
    }

    private static List<Sample> firmwareLoop(double share) throws IOException {
        return firmwareLoop(load("spin-deadlock"), share);
    }

    /** 32.5 s of a vCPU looping at one firmware address, its thread getting {@code share} of a core. */
    static List<Sample> firmwareLoop(List<Sample> base, double share) {
        long t0 = base.get(0).hostTimeNs();
        List<Sample> s = new ArrayList<>();
        for (int i = 0; i <= 130; i++) {
            Sample x = base.get(0);
            long ran = (long) (i * 250_000_000L * share);
            s.add(new Sample(t0 + i * 250_000_000L, x.wallTimeMs() + i * 250L, "running", 0, null, false,
                    x.cpus().stream().map(c -> new VcpuSample(c.cpu(), c.threadId(), c.threadCpuNs() + ran, c.threadWaitNs(),
                            0xfd0b4, null, false, false, 0, false, null)).toList(), null, List.of(), -1));
        }
        return s;
    }

    @Test
    void qemuStatesComeFirst() throws IOException {
        List<Sample> s = load("spin-deadlock");
        Sample last = s.get(s.size() - 1);
        List<Sample> paused = new ArrayList<>(s);
        paused.add(new Sample(last.hostTimeNs() + 1, last.wallTimeMs(), "paused", last.consoleBytes(), last.lastMilestone(),
                false, last.cpus(), last.kernel(), last.sources(), -1));
        assertEquals(Verdict.PAUSED, Judge.judge(paused, Thresholds.defaults()).verdict());
        List<Sample> gone = new ArrayList<>(s);
        gone.add(new Sample(last.hostTimeNs() + 1, last.wallTimeMs(), "exited", last.consoleBytes(), "done", false,
                List.of(), null, List.of(), -1));
        Decision d = Judge.judge(gone, Thresholds.defaults());
        assertEquals(Verdict.SHUTDOWN, d.verdict());
        assertEquals(0, d.verdict().exitCode());
        assertNull(d.flavour());
    }

    @Test
    void dTasksAloneWithoutTimeDoNotMakeASleepDeadlockOnAHealthyGuest() throws IOException {
        // Healthy guest: tasks in D for a moment (I/O) is normal; the threshold is about long waits.
        List<Sample> s = map(load("spin-one"), x -> x.kernel() == null ? x : new Sample(x.hostTimeNs(), x.wallTimeMs(),
                x.status(), x.consoleBytes(), x.lastMilestone(), false, x.cpus().stream().map(c -> new VcpuSample(c.cpu(),
                c.threadId(), c.threadCpuNs(), c.threadWaitNs(), c.rip(), c.ripSymbol(), true, true, c.cpl(), c.longMode(), c.lapic())).toList(),
                new KernelSample(x.kernel().jiffies(), x.kernel().lastJiffiesUpdateNs(), x.kernel().tickDoTimerCpu(),
                        x.kernel().hz(), x.kernel().cpus(), List.of(new KernelSample.BlockedTask(42, "jbd2/vda1-8", 0.3))),
                x.sources(), x.qemuWaitNs()));
        assertNotEquals(Verdict.SLEEP_DEADLOCK, Judge.judge(s, Thresholds.defaults()).verdict());
    }

    @Test
    void aVcpuThatGotNoHostCpuIsStarvedNotSpinning() throws IOException {
        // The spin series, but the vCPU threads' CPU time stands still: they never ran, so their
        // unchanging RIP and IF=0 say nothing about the guest (a loaded host).
        List<Sample> s = map(load("spin-deadlock"), x -> withCpus(x, c -> new VcpuSample(c.cpu(), c.threadId(), 1_000_000L,
                x.hostTimeNs(), c.rip(), c.ripSymbol(), c.interruptsEnabled(), c.halted(), c.cpl(), c.longMode(), c.lapic()),
                k -> k));
        assertNotEquals(Verdict.SPIN_LOCKUP, Judge.judge(s, Thresholds.defaults()).verdict());
    }

    @Test
    void aKernelCaughtWithInterruptsOffSomewhereElseEachTimeIsNotASpin() throws IOException {
        // The spin series, but every spinning sample finds the CPU at another address (a booting
        // kernel caught in interrupt handlers and irqsave sections): not going round a loop.
        List<Sample> base = load("spin-deadlock");
        List<Sample> s = new ArrayList<>();
        for (int i = 0; i < base.size(); i++) {
            long shift = i * 0x1234L;
            s.add(withCpus(base.get(i), c -> c.interruptsEnabled() || c.halted() ? c : new VcpuSample(c.cpu(), c.threadId(),
                    c.threadCpuNs(), c.threadWaitNs(), c.rip() + shift, null, false, false, c.cpl(), c.longMode(), c.lapic()),
                    k -> k));
        }
        assertNotEquals(Verdict.SPIN_LOCKUP, Judge.judge(s, Thresholds.defaults()).verdict());
        assertFalse(JudgeTest.decisions(s, Thresholds.defaults()).stream().anyMatch(d -> d.verdict() == Verdict.SPIN_LOCKUP));
        // The recorded series itself: one address, nine samples.
        assertEquals(Verdict.SPIN_LOCKUP, Judge.judge(base, Thresholds.defaults()).verdict());
    }

    @Test
    void twoSamplesSecondsApartFromAStarvedWatcherAreNotASpin() throws IOException {
        // A watcher that got no CPU sampled twice in 2.2 s, both times with IF=0: that the CPU
        // stayed there in between is a guess, not a sighting.
        List<Sample> base = load("spin-deadlock");
        List<Sample> sparse = new ArrayList<>(base.subList(0, 7));
        sparse.add(base.get(base.size() - 1));
        assertNotEquals(Verdict.SPIN_LOCKUP, Judge.judge(sparse, Thresholds.defaults()).verdict());
    }

    @Test
    void interruptsOffBeforeTheKernelShowedLifeIsEarlyBootUntilItsBound() throws IOException {
        // The spin series as if before start_kernel enabled interrupts: no userland, jiffies never
        // moved. IF=0 is how the kernel runs then; a CPU sitting on one instruction (a rep stos
        // clearing memory under TCG) is early boot until FIRMWARE_STUCK's bound of CPU time.
        List<Sample> base = load("spin-deadlock");
        long jiffies = base.get(0).kernel().jiffies();
        UnaryOperator<Sample> early = x -> {
            Sample y = withCpus(x, c -> c, k -> new KernelSample(jiffies, k.lastJiffiesUpdateNs(), k.tickDoTimerCpu(),
                    k.hz(), k.cpus(), k.blockedTasks()));
            return new Sample(y.hostTimeNs(), y.wallTimeMs(), y.status(), y.consoleBytes(), "kernel", false, y.cpus(),
                    y.kernel(), y.sources(), y.qemuWaitNs());
        };
        List<Sample> s = map(base, early);
        assertNotEquals(Verdict.SPIN_LOCKUP, Judge.judge(s, Thresholds.defaults()).verdict());
        // The same series five times slower, CPU time and all: 12.8 s of CPU since the first
        // kernel instruction, past the bound (a third of the 30 s firmware threshold): a spin.
        long t0 = base.get(0).hostTimeNs();
        List<Sample> longer = map(s, x -> {
            Sample y = withCpus(x, c -> new VcpuSample(c.cpu(), c.threadId(), c.threadCpuNs() * 5, c.threadWaitNs(), c.rip(),
                    c.ripSymbol(), c.interruptsEnabled(), c.halted(), c.cpl(), c.longMode(), c.lapic()), k -> k);
            return new Sample(t0 + (x.hostTimeNs() - t0) * 5, y.wallTimeMs(), y.status(), y.consoleBytes(), y.lastMilestone(),
                    false, y.cpus(), y.kernel(), y.sources(), y.qemuWaitNs());
        });
        Decision d = Judge.judge(longer, Thresholds.defaults());
        assertEquals(Verdict.SPIN_LOCKUP, d.verdict(), d.toString());
    }

    @Test
    void aStarvedQemuCannotDeliverTimersSoNoStallIsCalled() throws IOException {
        // QEMU's main thread waited runnable for the whole time: its timers could not fire.
        List<Sample> stalled = load("timer-stall-lost");
        long t0 = stalled.get(0).hostTimeNs();
        List<Sample> s = map(stalled, x -> new Sample(x.hostTimeNs(), x.wallTimeMs(), x.status(), x.consoleBytes(),
                x.lastMilestone(), x.consolePanic(), x.cpus(), x.kernel(), x.sources(), (x.hostTimeNs() - t0) * 9 / 10));
        assertNotEquals(Verdict.TIMER_STALL, Judge.judge(s, Thresholds.defaults()).verdict());
        // The same series with QEMU on the CPU whenever it wanted it is a stall.
        List<Sample> fed = map(stalled, x -> new Sample(x.hostTimeNs(), x.wallTimeMs(), x.status(), x.consoleBytes(),
                x.lastMilestone(), x.consolePanic(), x.cpus(), x.kernel(), x.sources(), 5_000_000L));
        assertEquals(Verdict.TIMER_STALL, Judge.judge(fed, Thresholds.defaults()).verdict());
    }

    private static List<Sample> map(List<Sample> s, UnaryOperator<Sample> f) {
        return s.stream().map(f).toList();
    }

    static Sample withCpus(Sample x, UnaryOperator<VcpuSample> cpu, UnaryOperator<KernelSample> kernel) {
        return new Sample(x.hostTimeNs(), x.wallTimeMs(), x.status(), x.consoleBytes(), x.lastMilestone(), x.consolePanic(),
                x.cpus().stream().map(cpu).toList(), x.kernel() == null ? null : kernel.apply(x.kernel()), x.sources(),
                x.qemuWaitNs());
    }
}
