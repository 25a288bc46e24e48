package dev.tickwatch.verdict;

import dev.tickwatch.probe.KernelSample;
import dev.tickwatch.probe.LapicTimer;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.probe.VcpuSample;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The judge's decisions, every one of them, over a fixed corpus: every recorded series, the
 * series the other judge tests build, and deterministic variations of them (kernel readings
 * gone, sub-sampled, stretched, starved, cut at the front, trimmed to a sliding history as the
 * watch does, other thresholds), each replayed sample by sample as the watch does and also judged
 * afresh at every length. {@link #main} writes {@link #GOLDEN} from the code as it is; {@link
 * JudgeGoldenTest} asserts the code still gives exactly that: a change meant to make the judge
 * cheaper must not change one decision.
 */
final class JudgeGolden {

    static final Path GOLDEN = Path.of("src/test/resources/dev/tickwatch/verdict/judge-golden.txt.gz");

    private JudgeGolden() {
    }

    /** A named series and the thresholds to judge it with; {@code fresh}: judged afresh at every length too. */
    record Case(String name, List<Sample> series, Thresholds t, boolean fresh) {

        Case(String name, List<Sample> series, Thresholds t) {
            this(name, series, t, false);
        }
    }

    static List<Case> cases() throws IOException {
        Thresholds d = Thresholds.defaults();
        Map<String, List<Sample>> bases = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(JudgeTest.SERIES)) {
            for (String n : files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jsonl")
                    && !n.endsWith(".verdicts.jsonl")).sorted().toList()) {
                bases.put(n.replace(".jsonl", ""), JudgeTest.load(n.replace(".jsonl", "")));
            }
        }
        List<Case> out = new ArrayList<>();
        for (Map.Entry<String, List<Sample>> e : bases.entrySet()) {
            String n = e.getKey();
            List<Sample> s = e.getValue();
            out.add(new Case(n, s, d, true));
            if (s.size() < 3) {
                continue;
            }
            out.add(new Case(n + " extended 20 s", JudgeStateTest.extend(s, 20), d));
            out.add(new Case(n + " no kernel", map(s, x -> new Sample(x.hostTimeNs(), x.wallTimeMs(), x.status(),
                    x.consoleBytes(), x.lastMilestone(), x.consolePanic(), x.cpus(), null, x.sources(), x.qemuWaitNs())), d));
            out.add(new Case(n + " every 2nd", every(s, 2, 0), d));
            out.add(new Case(n + " every 3rd from 1", every(s, 3, 1), d));
            out.add(new Case(n + " from a quarter", s.subList(s.size() / 4, s.size()), d));
            out.add(new Case(n + " from half", s.subList(s.size() / 2, s.size()), d));
            out.add(new Case(n + " history 5 s", s, d));
            out.add(new Case(n + " history 20 s", s, d));
            out.add(new Case(n + " stretched x5", stretch(s, 5), d));
            out.add(new Case(n + " early", early(s), d));
            out.add(new Case(n + " early stretched x5", stretch(early(s), 5), d));
            out.add(new Case(n + " rips shifted", shifted(s), d));
            out.add(new Case(n + " threads frozen", map(s, x -> JudgeTest.withCpus(x, c -> new VcpuSample(c.cpu(),
                    c.threadId(), 1_000_000L, x.hostTimeNs(), c.rip(), c.ripSymbol(), c.interruptsEnabled(), c.halted(), c.cpl(),
                    c.longMode(), c.lapic()), k -> k)), d));
            long t0 = s.get(0).hostTimeNs();
            out.add(new Case(n + " qemu starved", map(s, x -> new Sample(x.hostTimeNs(), x.wallTimeMs(), x.status(),
                    x.consoleBytes(), x.lastMilestone(), x.consolePanic(), x.cpus(), x.kernel(), x.sources(),
                    (x.hostTimeNs() - t0) * 9 / 10)), d));
            out.add(new Case(n + " lapic armed", map(s, x -> JudgeTest.withCpus(x, c -> new VcpuSample(c.cpu(), c.threadId(),
                    c.threadCpuNs(), c.threadWaitNs(), c.rip(), c.ripSymbol(), c.interruptsEnabled(), c.halted(), c.cpl(),
                    c.longMode(), new LapicTimer(0x400ec, "one-shot", false, 0xec, 16, 9_000_000, 5_000_000)),
                    k -> new KernelSample(k.jiffies(), k.lastJiffiesUpdateNs(), k.tickDoTimerCpu(), k.hz(), k.cpus().stream()
                            .map(c -> new KernelSample.Cpu(c.cpu(), c.localTimerInterrupts(), k.lastJiffiesUpdateNs()
                                    + 60_000_000_000L, c.hrtimerEvents(), true, c.currentComm(), c.currentPid())).toList(),
                            k.blockedTasks()))), d));
            out.add(new Case(n + " all idle", map(s, x -> JudgeTest.withCpus(x, c -> new VcpuSample(c.cpu(), c.threadId(),
                    c.threadCpuNs(), c.threadWaitNs(), c.rip(), c.ripSymbol(), true, true, c.cpl(), c.longMode(), c.lapic()),
                    k -> k)), d));
            out.add(new Case(n + " D tasks", map(s, x -> x.kernel() == null ? x : JudgeTest.withCpus(x, c -> c,
                    k -> new KernelSample(k.jiffies(), k.lastJiffiesUpdateNs(), k.tickDoTimerCpu(), k.hz(), k.cpus(),
                            List.of(new KernelSample.BlockedTask(42, "jbd2/vda1-8", (x.hostTimeNs() - t0) / 1e9 + 20),
                                    new KernelSample.BlockedTask(43, "kworker/0:1", 0.3)), k.wallClockNs(), k.lockCycles(),
                            k.kernelReports()))), d));
            out.add(new Case(n + " firmware 5 s", s, d.withFirmware(Duration.ofSeconds(5))));
            out.add(new Case(n + " early firmware 5 s", early(s), d.withFirmware(Duration.ofSeconds(5))));
            out.add(new Case(n + " soft lockup 2 s", s, d.withSoftLockup(Duration.ofSeconds(2))));
            out.add(new Case(n + " spin 1 s stall 1 s", s, d.withSpin(Duration.ofSeconds(1)).withStall(Duration.ofSeconds(1))));
            out.add(new Case(n + " sleep deadlock 5 s", s, d.withSleepDeadlock(Duration.ofSeconds(5))));
        }
        for (Arguments a : JudgeStateTest.everySeries().toList()) {
            String name = (String) a.get()[0];
            if (!name.endsWith("extended 20 s")) {
                @SuppressWarnings("unchecked")
                List<Sample> s = (List<Sample>) a.get()[1];
                out.add(new Case("state: " + name, s, d, true));
            }
        }
        out.add(new Case("lock cycle twice", LockCycleCheckTest.series(Map.of(0, List.of(), 4,
                List.of(LockCycleCheckTest.abba(LockCycleCheckTest.MB)), 12, List.of(LockCycleCheckTest.abba(LockCycleCheckTest.MB)))), d));
        out.add(new Case("lock cycle torn", LockCycleCheckTest.series(Map.of(0, List.of(), 4,
                List.of(LockCycleCheckTest.abba(LockCycleCheckTest.MB)), 8, List.of(), 12,
                List.of(LockCycleCheckTest.abba(LockCycleCheckTest.MA)))), d));
        // JudgeTest's synthetic guests: early boot at many addresses and at one, firmware loops,
        // and an HMP-only guest idle in the kernel image (what bench watch-scale replays).
        out.add(new Case("synthetic early boot 60 s", earlyBoot(60, 5, null, true), d, true));
        out.add(new Case("synthetic early boot one address", earlyBoot(20, 1, null, true), d, true));
        out.add(new Case("synthetic early boot 2 addresses userland", earlyBoot(20, 2, "userland", true), d, true));
        out.add(new Case("synthetic hmp only idle in the kernel", hmpOnly(160), d, true));
        out.add(new Case("synthetic hmp only history 20 s", hmpOnly(160), d));
        out.add(new Case("synthetic firmware loop", JudgeTest.firmwareLoop(bases.get("spin-deadlock"), 1.0), d, true));
        out.add(new Case("synthetic firmware loop starved", JudgeTest.firmwareLoop(bases.get("spin-deadlock"), 0.1), d, true));
        return out;
    }

    /** The history the watch would hand the judge, in seconds, for a case named so; 0: all of it. */
    private static long historyNs(String name) {
        return name.endsWith("history 5 s") ? 5_000_000_000L : name.endsWith("history 20 s") ? 20_000_000_000L : 0;
    }

    /** Every decision of the case as lines: the watch's replay, then (if {@code fresh}) a judgement afresh at every length. */
    static List<String> lines(Case c) {
        List<String> out = new ArrayList<>();
        long history = historyNs(c.name());
        Decision previous = null;
        List<Sample> s = c.series();
        int from = 0;
        for (int i = 1; i <= s.size(); i++) {
            // As Watch.tick trims its history: at least two samples, the rest within the history.
            while (history > 0 && i - from > 2 && s.get(from).hostTimeNs() < s.get(i - 1).hostTimeNs() - history) {
                from++;
            }
            previous = Judge.next(previous, List.copyOf(s.subList(from, i)), c.t());
            out.add("next " + i + " " + render(previous));
        }
        if (c.fresh()) {
            for (int i = 1; i <= s.size(); i++) {
                out.add("judge " + i + " " + render(Judge.judge(s.subList(0, i), c.t())));
            }
        }
        return out;
    }

    /** Every field of a decision; its CPUs sorted (a Map.copyOf iterates in no fixed order). */
    static String render(Decision d) {
        return d.verdict() + " | " + d.flavour() + " | " + d.confidence() + " | onset " + d.onsetNs() + " " + d.onsetHow()
                + " | decided " + d.decidedNs() + " | since " + d.sinceNs() + " | cpus " + new TreeMap<>(d.cpus())
                + " | " + String.join(" // ", d.evidence());
    }

    static Map<String, List<String>> all() throws IOException {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Case c : cases()) {
            if (out.put(c.name(), lines(c)) != null) {
                throw new IllegalStateException("two cases named " + c.name());
            }
        }
        return out;
    }

    static Map<String, List<String>> read() throws IOException {
        Map<String, List<String>> out = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(GOLDEN)),
                StandardCharsets.UTF_8))) {
            List<String> current = null;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.startsWith("# ")) {
                    current = new ArrayList<>();
                    out.put(line.substring(2), current);
                } else {
                    current.add(line);
                }
            }
        }
        return out;
    }

    /**
     * Writes {@link #GOLDEN} from the judge as it is now; with {@code check}, compares instead and
     * prints the first difference (what JudgeGoldenTest asserts, without Maven). Run from the project directory.
     */
    public static void main(String[] args) throws IOException {
        Map<String, List<String>> all = all();
        if (args.length > 0 && args[0].equals("check")) {
            Map<String, List<String>> expected = read();
            if (!expected.keySet().equals(all.keySet())) {
                System.out.println("cases differ");
                System.exit(1);
            }
            for (Map.Entry<String, List<String>> e : expected.entrySet()) {
                List<String> got = all.get(e.getKey());
                for (int i = 0; i < Math.max(e.getValue().size(), got.size()); i++) {
                    String want = i < e.getValue().size() ? e.getValue().get(i) : null;
                    String have = i < got.size() ? got.get(i) : null;
                    if (!java.util.Objects.equals(want, have)) {
                        System.out.println(e.getKey() + ", line " + i + ":\n  want " + want + "\n  got  " + have);
                        System.exit(1);
                    }
                }
            }
            System.out.println(all.size() + " cases, " + all.values().stream().mapToInt(List::size).sum() + " decisions: as recorded");
            return;
        }
        Files.createDirectories(GOLDEN.getParent());
        try (Writer w = new OutputStreamWriter(new GZIPOutputStream(Files.newOutputStream(GOLDEN)), StandardCharsets.UTF_8)) {
            for (Map.Entry<String, List<String>> e : all.entrySet()) {
                w.write("# " + e.getKey() + "\n");
                for (String l : e.getValue()) {
                    w.write(l + "\n");
                }
            }
        }
        System.out.println(all.size() + " cases, " + all.values().stream().mapToInt(List::size).sum() + " decisions -> " + GOLDEN);
    }

    /** CPU0 running kernel code at {@code addresses} RIPs with IF=1, no kernel readings, for {@code n} samples. */
    private static List<Sample> earlyBoot(int n, int addresses, String milestone, boolean console) {
        List<Sample> s = new ArrayList<>();
        for (int i = 0; i <= n; i++) {
            long rip = 0xffffffff81000000L + (i % addresses) * 0x40;
            s.add(new Sample(1_000_000_000L + i * 250_000_000L, i * 250L, "running", console ? 500 : -1, milestone, false,
                    List.of(new VcpuSample(0, 11, i * 240_000_000L, 0, rip, null, true, false, 0, true, null),
                            new VcpuSample(1, 12, 0, 0, 0xfff0, null, false, true, 0, false, null)),
                    null, List.of(), 0));
        }
        return s;
    }

    /** HMP alone: two vCPUs in HLT in the kernel image, no console, no guest memory. */
    static List<Sample> hmpOnly(int n) {
        List<Sample> s = new ArrayList<>();
        for (int i = 0; i <= n; i++) {
            s.add(new Sample(1_000_000_000L + i * 250_000_000L, i * 250L, "running", -1, null, false,
                    List.of(new VcpuSample(0, 11, i * 200_000_000L, 0, 0xffffffff81a17a0bL, null, true, true, 0, true, null),
                            new VcpuSample(1, 12, i * 200_000_000L, 0, 0xffffffff81a17a0bL, null, true, true, 0, true, null)),
                    null, List.of(), 0));
        }
        return s;
    }

    private static List<Sample> map(List<Sample> s, UnaryOperator<Sample> f) {
        return s.stream().map(f).collect(Collectors.toList());
    }

    private static List<Sample> every(List<Sample> s, int n, int offset) {
        List<Sample> out = new ArrayList<>();
        for (int i = offset; i < s.size(); i += n) {
            out.add(s.get(i));
        }
        return out;
    }

    /** The same series {@code f} times slower, host time and CPU time alike. */
    private static List<Sample> stretch(List<Sample> s, int f) {
        long t0 = s.get(0).hostTimeNs();
        return map(s, x -> {
            Sample y = JudgeTest.withCpus(x, c -> new VcpuSample(c.cpu(), c.threadId(), c.threadCpuNs() < 0 ? -1
                    : c.threadCpuNs() * f, c.threadWaitNs(), c.rip(), c.ripSymbol(), c.interruptsEnabled(), c.halted(), c.cpl(),
                    c.longMode(), c.lapic()), k -> k);
            return new Sample(t0 + (x.hostTimeNs() - t0) * f, y.wallTimeMs(), y.status(), y.consoleBytes(), y.lastMilestone(),
                    y.consolePanic(), y.cpus(), y.kernel(), y.sources(), y.qemuWaitNs());
        });
    }

    /** As if before the kernel showed life: jiffies never move, the milestone is "kernel" throughout. */
    private static List<Sample> early(List<Sample> s) {
        long jiffies = s.stream().filter(x -> x.kernel() != null).mapToLong(x -> x.kernel().jiffies()).findFirst().orElse(0);
        return map(s, x -> {
            Sample y = JudgeTest.withCpus(x, c -> c, k -> new KernelSample(jiffies, k.lastJiffiesUpdateNs(), k.tickDoTimerCpu(),
                    k.hz(), k.cpus(), k.blockedTasks()));
            return new Sample(y.hostTimeNs(), y.wallTimeMs(), y.status(), y.consoleBytes(), "kernel", false, y.cpus(),
                    y.kernel(), y.sources(), y.qemuWaitNs());
        });
    }

    /** Every running vCPU at another address in each sample, symbols gone. */
    private static List<Sample> shifted(List<Sample> s) {
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            long shift = i * 0x1234L;
            out.add(JudgeTest.withCpus(s.get(i), c -> c.halted() ? c : new VcpuSample(c.cpu(), c.threadId(), c.threadCpuNs(),
                    c.threadWaitNs(), c.rip() + shift, null, c.interruptsEnabled(), false, c.cpl(), c.longMode(), c.lapic()),
                    k -> k));
        }
        return out;
    }
}
