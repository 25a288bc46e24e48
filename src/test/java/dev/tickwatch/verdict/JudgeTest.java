package dev.tickwatch.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.probe.KernelSample;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.probe.SampleJson;
import dev.tickwatch.probe.VcpuSample;
import dev.tickwatch.qmp.hmp.LapicState;
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

    /** The decisions the watch would have printed: one per change. */
    static List<Decision> replay(List<Sample> series, Thresholds t) {
        List<Decision> changes = new ArrayList<>();
        for (int i = 1; i <= series.size(); i++) {
            Decision d = Judge.judge(series.subList(0, i), t);
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
                new LapicState(0x400ec, "one-shot", false, 0xec, 16, 9_000_000, 5_000_000)), k -> new KernelSample(
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
        for (int i = 0; i <= 130; i++) {
            Sample x = base.get(0);
            s.add(new Sample(t0 + i * 250_000_000L, x.wallTimeMs() + i * 250L, "running", 0, null, false,
                    x.cpus().stream().map(c -> new VcpuSample(c.cpu(), c.threadId(), c.threadCpuNs(), c.threadWaitNs(), 0xfd0b4, null,
                            false, false, 0, false, null)).toList(), null, List.of(), -1));
        }
        Decision d = Judge.judge(s, Thresholds.defaults());
        assertEquals(Verdict.FIRMWARE_STUCK, d.verdict(), d.toString());
        assertEquals(125, d.verdict().exitCode(), "could not test, for git bisect run");
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

    private static Sample withCpus(Sample x, UnaryOperator<VcpuSample> cpu, UnaryOperator<KernelSample> kernel) {
        return new Sample(x.hostTimeNs(), x.wallTimeMs(), x.status(), x.consoleBytes(), x.lastMilestone(), x.consolePanic(),
                x.cpus().stream().map(cpu).toList(), x.kernel() == null ? null : kernel.apply(x.kernel()), x.sources(),
                x.qemuWaitNs());
    }
}
