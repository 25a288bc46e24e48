package dev.tickwatch.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.tickwatch.guest.log.LogJson;
import dev.tickwatch.probe.KernelSample;
import dev.tickwatch.probe.LapicTimer;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.probe.VcpuSample;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * {@link Seen} answers exactly what a scan of the whole series answers, however the series slides:
 * the scans below are the judge's own before it kept what it had seen, and every answer is checked
 * against them at every step, incrementally (as {@code Watch} calls the judge) and afresh.
 */
class SeenTest {

    @Test
    void everyAnswerOverTheJudgeCorpusIsTheFullScans() throws IOException {
        int steps = 0;
        for (JudgeGolden.Case c : JudgeGolden.cases()) {
            for (long history : new long[] {0, 1_000_000_000L, 5_000_000_000L}) {
                steps += replay(c.name(), c.series(), history, null);
            }
        }
        assertEquals(true, steps > 10_000, "the corpus was replayed: " + steps + " steps");
    }

    @Test
    void everyAnswerOverRandomSlidingSeriesIsTheFullScans() {
        for (int seed = 0; seed < 300; seed++) {
            Random r = new Random(seed);
            replay("seed " + seed, randomSeries(r, 40 + r.nextInt(120)), 0, r);
        }
    }

    /**
     * Replays {@code series} as a watch would (trimmed to {@code historyNs}, or, with {@code r},
     * dropping and appending a random number of samples a step), checking every answer; returns the steps.
     */
    private static int replay(String name, List<Sample> series, long historyNs, Random r) {
        Seen before = null;
        int from = 0;
        int steps = 0;
        for (int to = 1; to <= series.size(); to += r == null ? 1 : 1 + r.nextInt(3)) {
            if (r != null) {
                from = Math.min(to - 1, from + (r.nextInt(4) == 0 ? r.nextInt(6) : 0));
            }
            while (historyNs > 0 && to - from > 2 && series.get(from).hostTimeNs() < series.get(to - 1).hostTimeNs() - historyNs) {
                from++;
            }
            List<Sample> s = List.copyOf(series.subList(from, to));
            Seen seen = Seen.of(before, s);
            check(name + ", samples " + from + ".." + to, s, seen);
            check(name + ", samples " + from + ".." + to + " afresh", s, Seen.of(null, s));
            before = seen;
            steps++;
        }
        return steps;
    }

    private static void check(String what, List<Sample> s, Seen seen) {
        assertEquals(life(s), seen.life(), what + ": life");
        assertEquals(everKernel(s), seen.everKernel(), what + ": kernel");
        assertSame(Checks.firstPanicReport(s), seen.firstPanicReport(s), what + ": panic report");
        assertEquals(!Checks.kernelReports(s, 1).isEmpty(), seen.anyReport(), what + ": reports");
        assertSame(newest(s, 0, x -> x.kernel() != null && x.kernel().lockCycles() != null), seen.newestLocks(s), what + ": locks");
        assertSame(newest(s, 1, x -> x.kernel() != null && x.kernel().lockCycles() != null), seen.locksBefore(s), what + ": locks before");
        assertSame(newest(s, 0, x -> x.kernel() != null && x.kernel().blockedTasks() != null), seen.newestTasks(s), what + ": tasks");
        assertEquals(onsetIndex(s, Checks::allIdle), seen.idleFrom(), what + ": idle run");
        assertEquals(onsetIndex(s, x -> (x.cpus().isEmpty() || Checks.allIdle(x)) && Checks.lapicIdle(x)), seen.quietFrom(),
                what + ": quiet run");
        Sample last = s.get(s.size() - 1);
        assertEquals(onsetIndex(s, x -> x.kernel() != null && last.kernel() != null && x.kernel().jiffies() == last.kernel().jiffies()),
                seen.frozenFrom(), what + ": frozen run");
        for (int cpu = 0; cpu < 4; cpu++) {
            int c = cpu;
            int from = onsetIndex(s, x -> Checks.spinsHard(x, c));
            assertEquals(from, seen.spinFrom(cpu), what + ": CPU" + cpu + "'s spin run");
            int places = seen.spinPlaces(cpu);
            if (Checks.spinsHard(last, cpu) && places >= 0) {
                Set<String> p = new HashSet<>();
                for (Sample x : s.subList(from, s.size())) {
                    p.add(Checks.place(x.cpus().get(cpu)));
                }
                assertEquals(p.size(), places, what + ": CPU" + cpu + "'s places");
            }
        }
    }

    // ---- the scans Seen replaced

    /** Jiffies that moved between two readings, or userland. */
    private static boolean life(List<Sample> series) {
        long seen = -1;
        for (Sample s : series) {
            if (s.lastMilestone() != null && !s.lastMilestone().equals("kernel")) {
                return true;
            }
            if (s.kernel() != null && s.kernel().jiffies() > 0) {
                if (seen > 0 && s.kernel().jiffies() != seen) {
                    return true;
                }
                seen = s.kernel().jiffies();
            }
        }
        return false;
    }

    private static boolean everKernel(List<Sample> series) {
        for (Sample s : series) {
            if (s.lastMilestone() != null || s.kernel() != null || s.cpus().stream().anyMatch(VcpuSample::inKernelImage)) {
                return true;
            }
        }
        return false;
    }

    private static int onsetIndex(List<Sample> series, Predicate<Sample> p) {
        int at = series.size() - 1;
        for (int i = series.size() - 1; i >= 0 && p.test(series.get(i)); i--) {
            at = i;
        }
        return at;
    }

    /** The newest sample where {@code p} holds, skipping {@code skip} of them; null when there are not that many. */
    private static Sample newest(List<Sample> series, int skip, Predicate<Sample> p) {
        for (int i = series.size() - 1; i >= 0; i--) {
            if (p.test(series.get(i)) && skip-- == 0) {
                return series.get(i);
            }
        }
        return null;
    }

    // ---- random guests: few values of everything, so that runs, repeats and changes all happen

    private static List<Sample> randomSeries(Random r, int n) {
        List<Sample> out = new ArrayList<>();
        int cpus = 1 + r.nextInt(3);
        long jiffies = r.nextBoolean() ? 0 : 1000;
        String milestone = null;
        for (int i = 0; i < n; i++) {
            if (r.nextInt(8) == 0) {
                cpus = 1 + r.nextInt(3); // a vCPU count that changes tests the runs of vCPUs that come and go
            }
            if (r.nextInt(6) == 0) {
                jiffies += r.nextInt(3);
            }
            if (r.nextInt(40) == 0) {
                milestone = r.nextBoolean() ? "kernel" : "userland";
            }
            List<VcpuSample> v = new ArrayList<>();
            for (int c = 0; c < cpus; c++) {
                boolean spin = r.nextInt(3) > 0;
                long rip = spin ? 0xffffffff81000000L + r.nextInt(4) * 16 : r.nextInt(5) == 0 ? 0xfff0 : 0xffffffff81200000L;
                String sym = r.nextInt(3) == 0 ? null : "f" + r.nextInt(3) + "+0x" + r.nextInt(2) + "/0x40";
                LapicTimer lapic = r.nextInt(4) == 0 ? null : new LapicTimer(0x400ec, "one-shot", false, 0xec, 16, 1000,
                        r.nextBoolean() ? 0 : 500);
                v.add(new VcpuSample(c, 100 + c, i * 1_000_000L, -1, rip, sym, spin ? r.nextInt(4) == 0 : r.nextInt(4) > 0,
                        !spin && r.nextBoolean(), 0, true, lapic));
            }
            KernelSample k = null;
            if (r.nextInt(5) > 0) {
                List<LogJson.Report> reports = r.nextInt(25) > 0 ? List.of()
                        : List.of(new LogJson.Report(r.nextBoolean() ? "panic" : "soft-lockup", i, i, "report " + i));
                k = new KernelSample(r.nextInt(10) == 0 ? 0 : jiffies, 0, 0, 250, List.of(),
                        r.nextInt(7) == 0 ? List.of() : null, null, r.nextInt(7) == 0 ? List.of() : null, reports);
            }
            out.add(new Sample(1_000_000_000L + i * 250_000_000L, i, "running", -1, milestone, false, v, k, List.of(), -1));
        }
        return out;
    }
}
