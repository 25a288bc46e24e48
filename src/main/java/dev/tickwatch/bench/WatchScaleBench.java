package dev.tickwatch.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.watch.Watch;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Decision;
import dev.tickwatch.verdict.Verdict;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch bench watch-scale}: this process watches N fake guests at the default rate,
 * each a recorded QMP session on its own unix socket served by {@code bench replay-qmp} in a
 * child JVM (so this process's CPU time is the watching side's alone), and reports that CPU time
 * as a share of one core, the sampling rate reached, and whether each watch reached the verdict
 * its recorded HMP state implies when no kernel memory can be read.
 */
@CliOnly("a benchmark or recorder: figures and transcripts, not a look at a guest")
@Command(name = "watch-scale", mixinStandardHelpOptions = true,
        description = {"CPU share of one core used to watch N replayed guests at the default sampling rate.",
            "The guests are fake QMP peers in a child process, one unix socket each; checks each watch's verdict."})
public final class WatchScaleBench implements Callable<Integer> {

    /** The entry point, by name: bench sits below cli and does not import it. */
    private static final String MAIN = "dev.tickwatch.cli.Main";

    /**
     * The verdict each recorded lab mode must give with registers and LAPIC only (readKernel
     * false, no console), and why. Modes whose hang shows only in guest memory or on the console
     * show nothing either way from HMP alone: UNDECIDED ("nothing readable") is the honest answer
     * there (it was PROGRESSING before the judge needed evidence of progress).
     */
    static final Map<String, Verdict> EXPECTED = Map.of(
            // Every vCPU HLT=1 IF=1, LAPIC one-shot with nothing armed: the LAPIC rule decides.
            "timer-stall-lost", Verdict.TIMER_STALL,
            // Both vCPUs HLT=0 IF=0 at a kernel RIP.
            "spin-deadlock", Verdict.SPIN_LOCKUP,
            // CPU1 HLT=0 IF=0 in a module (above the kernel image base).
            "spin-one", Verdict.SPIN_LOCKUP,
            // Idle with the LAPIC timer armed: only LOC counts from memory show the storm.
            "timer-stall-storm", Verdict.UNDECIDED,
            // D-state tasks are read from memory.
            "sleep-deadlock", Verdict.UNDECIDED,
            // Needs the current task per CPU from memory.
            "soft-lockup", Verdict.UNDECIDED,
            // Needs the console's "Kernel panic" or a pvpanic status; query-status says running.
            "panic", Verdict.UNDECIDED);

    @Spec
    CommandSpec spec;

    @Option(names = "--guests", paramLabel = "N", defaultValue = "100", description = "fake guests (default: ${DEFAULT-VALUE})")
    int guests;

    @Option(names = "--period-ms", paramLabel = "MS", defaultValue = "250", description = "sampling period, ms (default: ${DEFAULT-VALUE})")
    long periodMs;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "30", description = "measured window (default: ${DEFAULT-VALUE})")
    int seconds;

    /** The window is also measured in slices this long: their spread is printed beside the total. */
    private static final int SLICE_S = 5;

    @Option(names = "--warmup-seconds", paramLabel = "S", defaultValue = "20",
            description = {"sampling before the window, not measured: JIT (still compiling 5 s in) and the history verdicts need",
                "(default: ${DEFAULT-VALUE})"})
    int warmupSeconds;

    @Option(names = "--transcript", paramLabel = "FILE", defaultValue = ReplayQmpCommand.DEFAULT_TRANSCRIPT,
            description = {"QMP transcript the fake guests replay; default:", "${DEFAULT-VALUE}"})
    Path transcript;

    @Option(names = "--hmp", paramLabel = "DIR", defaultValue = ReplayQmpCommand.DEFAULT_HMP,
            description = {"recorded HMP outputs, one subfolder per lab mode; default:", "${DEFAULT-VALUE}"})
    Path hmp;

    private record Guest(int index, String mode, QmpClient qmp, Watch watch) {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("tickwatch-scale-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Process replay = null;
        List<Guest> watched = new ArrayList<>();
        try {
            replay = startReplay(dir);
            Map<Integer, String[]> peers = readPeers(replay);
            AtomicLong samples = new AtomicLong();
            Watch.Options options = new Watch.Options(Duration.ofMillis(periodMs), Watch.Options.DEFAULT_HISTORY,
                    Watch.Options.defaults().thresholds());
            ProbeOptions probeOptions = ProbeOptions.builder().readKernel(false).build();
            for (int i = 0; i < guests; i++) {
                String[] p = peers.get(i);
                QmpClient qmp = QmpClient.connect(Endpoint.parse(p[1]));
                Watch w = new Watch(new Probe(qmp, null, probeOptions), options);
                w.onSample(s -> samples.incrementAndGet());
                watched.add(new Guest(i, p[0], qmp, w));
            }
            for (Guest g : watched) {
                g.watch().start();
            }
            out.printf(Locale.ROOT, "watching %d replayed guests every %d ms; warm-up %d s, then %d s measured%n",
                    guests, periodMs, warmupSeconds, seconds);
            out.flush();
            TimeUnit.SECONDS.sleep(warmupSeconds);

            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            Map<Long, Long> threadCpu0 = threadCpu(threads);
            HostLoad.Snapshot host0 = HostLoad.snapshot();
            double load0 = HostLoad.loadAverage1m();
            long replayCpu0 = HostLoad.processCpuNs(replay.pid());
            long samples0 = samples.get();
            long gc0 = gcMillis();
            long jit0 = ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            List<double[]> slices = new ArrayList<>();
            long sliceCpu = cpu0;
            long sliceT = t0;
            long sliceSamples = samples0;
            for (long end = t0 + TimeUnit.SECONDS.toNanos(seconds), now; (now = System.nanoTime()) < end; ) {
                TimeUnit.NANOSECONDS.sleep(Math.min(end - now, TimeUnit.SECONDS.toNanos(SLICE_S)));
                long c = os.getProcessCpuTime();
                long t = System.nanoTime();
                long sm = samples.get();
                // {start s into the window, CPU % of one core, samples/s, load average}
                slices.add(new double[] {(sliceT - t0) / 1e9, (c - sliceCpu) / (double) (t - sliceT) * 100,
                    (sm - sliceSamples) / ((t - sliceT) / 1e9), HostLoad.loadAverage1m()});
                sliceCpu = c;
                sliceT = t;
                sliceSamples = sm;
            }
            long wall = System.nanoTime() - t0;
            long cpu = os.getProcessCpuTime() - cpu0;
            long n = samples.get() - samples0;
            long gcMs = gcMillis() - gc0;
            long jitMs = ManagementFactory.getCompilationMXBean().getTotalCompilationTime() - jit0;
            long replayCpu = HostLoad.processCpuNs(replay.pid()) - replayCpu0;
            double hostBusy = HostLoad.snapshot().busySince(host0);
            double load1 = HostLoad.loadAverage1m();
            Map<String, Long> byGroup = threadGroups(threads, threadCpu0);

            double share = cpu / (double) wall * 100;
            double rate = n / (wall / 1e9);
            double target = guests * 1000.0 / periodMs;
            Map<String, Map<String, Integer>> verdicts = new TreeMap<>();
            int ok = 0;
            int failed = 0;
            for (Guest g : watched) {
                Decision d = g.watch().current();
                String got = d == null ? "none" : d.verdict().name() + (d.flavour() == null ? "" : "/" + d.flavour());
                verdicts.computeIfAbsent(g.mode(), k -> new TreeMap<>()).merge(got, 1, Integer::sum);
                if (d != null && d.verdict() == EXPECTED.get(g.mode())) {
                    ok++;
                }
                if (g.watch().end().isDone()) {
                    failed++;
                }
            }

            out.printf(Locale.ROOT, "samples: %d in %.1f s = %.0f/s (target %.0f/s, %.0f%%)%n", n, wall / 1e9, rate, target,
                    rate / target * 100);
            double goal = guests * 0.05;
            out.printf(Locale.ROOT, "watcher process CPU after a %d s warm-up (not counted): %.2f s in %.1f s = %.1f%% of one core"
                    + " (goal < %.3g%%: 0.05%% a guest), load average %.2f -> %.2f%n",
                    warmupSeconds, cpu / 1e9, wall / 1e9, share, goal, load0, load1);
            double[] sliceShares = slices.stream().mapToDouble(x -> x[1]).sorted().toArray();
            if (sliceShares.length > 1) {
                out.printf(Locale.ROOT, "  in %d slices of %d s: %.1f%% .. %.1f%% (median %.1f%%); each with its load average:",
                        sliceShares.length, SLICE_S, sliceShares[0], sliceShares[sliceShares.length - 1],
                        Bootstrap.median(sliceShares.clone()));
                for (double[] x : slices) {
                    out.printf(Locale.ROOT, " %.1f%% @%.2f", x[1], x[3]);
                }
                out.println();
            }
            for (var e : byGroup.entrySet()) {
                out.printf(Locale.ROOT, "  %-16s %.1f%% of one core%n", e.getKey() + " threads:", e.getValue() / (double) wall * 100);
            }
            out.printf(Locale.ROOT, "  (the rest: GC, JIT and other JVM threads; in the window GC took %d ms, JIT %d ms)%n",
                    gcMs, jitMs);
            out.printf(Locale.ROOT, "replay process CPU: %.1f%% of one core (not counted above)%n", replayCpu / (double) wall * 100);
            out.printf(Locale.ROOT, "host: %.0f%% of all cores busy during the window, load average %.2f -> %.2f (shared machine)%n",
                    hostBusy * 100, load0, load1);
            out.println("verdicts (mode: expected <- got x count):");
            for (var e : verdicts.entrySet()) {
                Verdict exp = EXPECTED.get(e.getKey());
                out.printf(Locale.ROOT, "  %-18s %-12s <- %s%n", e.getKey(), exp == null ? "(none known)" : exp, e.getValue());
            }
            out.printf(Locale.ROOT, "%d of %d watches reached the expected verdict; %d watches ended early%n", ok, guests, failed);

            ObjectNode o = Json.object();
            o.put("guests", guests);
            o.put("period_ms", periodMs);
            o.put("window_s", HostLoad.round(wall / 1e9, 2));
            o.put("samples_per_s", HostLoad.round(rate, 1));
            o.put("target_samples_per_s", HostLoad.round(target, 1));
            o.put("warmup_s_excluded", warmupSeconds);
            o.put("cpu_share_pct", HostLoad.round(share, 2));
            o.put("cpu_share_goal_pct", HostLoad.round(goal, 2));
            for (var e : byGroup.entrySet()) {
                o.put("cpu_share_pct_" + e.getKey().replace('-', '_'), HostLoad.round(e.getValue() / (double) wall * 100, 2));
            }
            o.put("gc_ms", gcMs);
            o.put("jit_ms", jitMs);
            o.put("replay_cpu_share_pct", HostLoad.round(replayCpu / (double) wall * 100, 2));
            o.put("host_busy_pct", HostLoad.round(hostBusy * 100, 1));
            o.put("loadavg_1m_start", load0);
            o.put("loadavg_1m_end", load1);
            o.put("verdicts_expected", ok);
            o.put("watches_ended_early", failed);
            var raw = o.putArray("slices");
            for (double[] x : slices) {
                ObjectNode j = raw.addObject();
                j.put("start_s", HostLoad.round(x[0], 1));
                j.put("cpu_share_pct", HostLoad.round(x[1], 2));
                j.put("samples_per_s", HostLoad.round(x[2], 1));
                j.put("loadavg_1m_end", x[3]);
            }
            ObjectNode v = o.putObject("verdicts");
            verdicts.forEach((mode, counts) -> {
                ObjectNode m = v.putObject(mode);
                counts.forEach(m::put);
            });
            out.println(Json.compact(o));
            out.flush();
            return ok == guests && failed == 0 ? ExitCode.OK : ExitCode.CANNOT_TEST;
        } finally {
            for (Guest g : watched) {
                g.watch().close();
                g.qmp().close();
            }
            if (replay != null) {
                stopReplay(replay);
            }
            FileTrees.deleteTree(dir);
        }
    }

    private Process startReplay(Path dir) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        // A small serial-GC heap: the peers are the load generator and should not crowd the watcher.
        List<String> cmd = List.of(java, "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                MAIN, "bench", "replay-qmp", "--count", Integer.toString(guests), "--dir", dir.toString(),
                "--transcript", transcript.toString(), "--hmp", hmp.toString());
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /** Reads {@code guest I MODE ENDPOINT} lines up to {@code ready}: index to {mode, endpoint}. */
    private Map<Integer, String[]> readPeers(Process replay) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(replay.getInputStream(), StandardCharsets.UTF_8));
        Map<Integer, String[]> peers = new HashMap<>();
        String line;
        while ((line = r.readLine()) != null && !line.startsWith("ready")) {
            String[] f = line.split(" ");
            if (f.length == 4 && f[0].equals("guest")) {
                peers.put(Integer.parseInt(f[1]), new String[] {f[2], f[3]});
            }
        }
        if (line == null || peers.size() != guests) {
            throw new TickwatchException("the replay process did not start its " + guests + " peers (got " + peers.size() + ")");
        }
        return peers;
    }

    private static void stopReplay(Process replay) throws InterruptedException {
        // Closing its stdin is its signal to close the servers and delete the sockets.
        try {
            replay.getOutputStream().close();
        } catch (java.io.IOException e) {
            // Already gone: nothing to signal.
        }
        if (!replay.waitFor(10, TimeUnit.SECONDS)) {
            replay.destroy();
            if (!replay.waitFor(5, TimeUnit.SECONDS)) {
                replay.destroyForcibly().waitFor();
            }
        }
    }

    /** Time the collectors report spent collecting, ms, summed over collectors. */
    private static long gcMillis() {
        long ms = 0;
        for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ms += Math.max(0, gc.getCollectionTime());
        }
        return ms;
    }

    private static Map<Long, Long> threadCpu(ThreadMXBean threads) {
        Map<Long, Long> m = new HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            m.put(id, threads.getThreadCpuTime(id));
        }
        return m;
    }

    /** CPU ns since {@code before}, summed by thread name: tickwatch-watch, tickwatch-io, other java. */
    private static Map<String, Long> threadGroups(ThreadMXBean threads, Map<Long, Long> before) {
        Map<String, Long> groups = new TreeMap<>();
        for (ThreadInfo ti : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (ti == null) {
                continue;
            }
            long now = threads.getThreadCpuTime(ti.getThreadId());
            if (now < 0) {
                continue;
            }
            long delta = now - before.getOrDefault(ti.getThreadId(), 0L);
            String name = ti.getThreadName();
            String group = name.startsWith("tickwatch-watch") ? "watch" : name.startsWith("tickwatch-io") ? "netty-io"
                    : "other-java";
            groups.merge(group, delta, Long::sum);
        }
        return groups;
    }
}
