package dev.tickwatch.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.qemu.Accel;
import dev.tickwatch.qemu.Appliance;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.probe.Milestone;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.watch.Watch;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch bench watch-overhead}: how much a Watch at its default rate (kernel readings
 * on) slows the guest it watches. Boots the built-in appliance to power-off under TCG, bare and
 * watched, in pairs whose order alternates (so drift in the machine's load hits both sides
 * alike), and reports the medians and their ratio.
 */
@CliOnly("a benchmark or recorder: figures and transcripts, not a look at a guest")
@Command(name = "watch-overhead", mixinStandardHelpOptions = true,
        description = {"Boot-to-poweroff time of the appliance with and without a watch on its QMP.",
            "Boots in alternating pairs, bare and watched; prints medians and their ratio."})
public final class WatchOverheadBench implements Callable<Integer> {

    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(120);

    @Spec
    CommandSpec spec;

    @Option(names = "--pairs", paramLabel = "N", defaultValue = "20", description = "bare/watched pairs (default: ${DEFAULT-VALUE})")
    int pairs;

    /** One boot: its time, and for a watched one what the watch did. */
    private record Run(boolean watched, double seconds, long samples, long kernelSamples, String verdict, long cpuNs,
            double loadBefore) {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path work = Files.createTempDirectory("tickwatch-bench-");
        try {
            Path initrd = Appliance.builder().build().write(work.resolve("initrd.gz"));
            QemuConfig config = QemuConfig.builder().kernel(KernelCache.standard().current().image())
                    .initrd(initrd).accel(Accel.TCG).build();
            HostLoad.Snapshot host0 = HostLoad.snapshot();
            double load0 = HostLoad.loadAverage1m();
            // One boot not counted: page cache, JIT of the launcher and of the probe.
            Run warm = boot(config, true);
            out.printf(Locale.ROOT, "warm-up (watched, not counted): %.2f s, %d samples, load average %.2f%n", warm.seconds(),
                    warm.samples(), warm.loadBefore());
            List<Run> bare = new ArrayList<>();
            List<Run> watched = new ArrayList<>();
            for (int i = 0; i < pairs; i++) {
                // ABAB... would favour whichever side runs second as the machine warms: alternate the order.
                boolean watchedFirst = i % 2 == 1;
                for (int k = 0; k < 2; k++) {
                    Run r = boot(config, watchedFirst == (k == 0));
                    (r.watched() ? watched : bare).add(r);
                    out.printf(Locale.ROOT, "pair %2d %-7s %.2f s  load %.2f%s%n", i + 1, r.watched() ? "watched" : "bare",
                            r.seconds(), r.loadBefore(), r.watched() ? String.format(Locale.ROOT, "  (%d samples, %d with kernel readings, last verdict %s, watcher CPU %.2f s)",
                                    r.samples(), r.kernelSamples(), r.verdict(), r.cpuNs() / 1e9) : "");
                    out.flush();
                }
            }
            double hostBusy = HostLoad.snapshot().busySince(host0);
            double load1 = HostLoad.loadAverage1m();
            double mBare = median(bare.stream().map(Run::seconds).toList());
            double mWatched = median(watched.stream().map(Run::seconds).toList());
            List<Double> pairRatios = new ArrayList<>();
            for (int i = 0; i < pairs; i++) {
                pairRatios.add(watched.get(i).seconds() / bare.get(i).seconds());
            }
            double samplesPerS = watched.stream().mapToDouble(r -> r.samples() / r.seconds()).average().orElse(0);
            double cpuShare = watched.stream().mapToDouble(r -> r.cpuNs() / 1e9 / r.seconds()).average().orElse(0);
            long withKernel = watched.stream().filter(r -> r.kernelSamples() > 0).count();

            out.printf(Locale.ROOT, "bare:    median %.3f s  (min %.3f, max %.3f)%n", mBare, min(bare), max(bare));
            out.printf(Locale.ROOT, "watched: median %.3f s  (min %.3f, max %.3f)%n", mWatched, min(watched), max(watched));
            Bootstrap ci = Bootstrap.ofMedian(pairRatios);
            out.printf(Locale.ROOT, "ratio of medians %.3f (goal < 1.01); median of pair ratios %.3f,"
                    + " 95%% bootstrap interval %.3f .. %.3f (%d resamples of the %d pairs)%n", mWatched / mBare,
                    ci.median(), ci.low(), ci.high(), ci.resamples(), pairs);
            out.printf(Locale.ROOT, "watch: %.1f samples/s on average, kernel read in %d of %d watched boots, watcher CPU %.1f%% of one core%n",
                    samplesPerS, withKernel, watched.size(), cpuShare * 100);
            out.printf(Locale.ROOT, "host: %.0f%% of all cores busy over the runs, load average %.2f -> %.2f (shared machine)%n",
                    hostBusy * 100, load0, load1);
            ObjectNode o = Json.object();
            o.put("pairs", pairs);
            o.put("boot_median_s", HostLoad.round(mBare, 3));
            o.put("boot_watched_median_s", HostLoad.round(mWatched, 3));
            o.put("ratio", HostLoad.round(mWatched / mBare, 4));
            o.put("pair_ratio_median", HostLoad.round(ci.median(), 4));
            o.put("pair_ratio_ci95_low", HostLoad.round(ci.low(), 4));
            o.put("pair_ratio_ci95_high", HostLoad.round(ci.high(), 4));
            o.put("bootstrap_resamples", ci.resamples());
            o.put("warmup_boots_excluded", 1);
            o.put("boot_min_s", HostLoad.round(min(bare), 3));
            o.put("boot_watched_min_s", HostLoad.round(min(watched), 3));
            o.put("watch_samples_per_s", HostLoad.round(samplesPerS, 2));
            o.put("watched_boots_with_kernel_readings", withKernel);
            o.put("watcher_cpu_share_pct", HostLoad.round(cpuShare * 100, 2));
            o.put("host_busy_pct", HostLoad.round(hostBusy * 100, 1));
            o.put("loadavg_1m_start", load0);
            o.put("loadavg_1m_end", load1);
            var b = o.putArray("bare_s");
            bare.forEach(r -> b.add(HostLoad.round(r.seconds(), 3)));
            var w = o.putArray("watched_s");
            watched.forEach(r -> w.add(HostLoad.round(r.seconds(), 3)));
            // Every run as it happened, in order: what the figures above were made from.
            var raw = o.putArray("runs");
            for (int i = 0; i < pairs; i++) {
                for (Run r : List.of(bare.get(i), watched.get(i))) {
                    ObjectNode j = raw.addObject();
                    j.put("pair", i + 1);
                    j.put("watched", r.watched());
                    // The order alternates by pair: watched first in the even-numbered ones.
                    j.put("ran_first", r.watched() == ((i % 2) == 1));
                    j.put("boot_s", HostLoad.round(r.seconds(), 3));
                    j.put("samples", r.samples());
                    j.put("kernel_samples", r.kernelSamples());
                    j.put("verdict", r.verdict());
                    j.put("process_cpu_s", HostLoad.round(r.cpuNs() / 1e9, 3));
                    j.put("loadavg_1m_before", r.loadBefore());
                }
            }
            out.println(Json.compact(o));
            out.flush();
            return ExitCode.OK;
        } finally {
            FileTrees.deleteTree(work);
        }
    }

    /** One boot to power-off, timed from before QEMU starts to its exit. */
    private static Run boot(QemuConfig config, boolean watch) {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        AtomicLong samples = new AtomicLong();
        AtomicLong kernelSamples = new AtomicLong();
        double load = HostLoad.loadAverage1m();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        try (QemuVm vm = QemuVm.start(config)) {
            Watch w = null;
            try {
                if (watch) {
                    w = new Watch(new Probe(vm.qmp(), vm.console(), ProbeOptions.defaults()), Watch.Options.defaults());
                    w.onSample(s -> {
                        samples.incrementAndGet();
                        if (s.kernel() != null) {
                            kernelSamples.incrementAndGet();
                        }
                    });
                    w.start();
                }
                if (!vm.waitForExit(BOOT_TIMEOUT)) {
                    throw new TickwatchException("the appliance did not power off within " + BOOT_TIMEOUT.toSeconds() + " s");
                }
                double s = (System.nanoTime() - t0) / 1e9;
                long cpu = os.getProcessCpuTime() - cpu0;
                if (!vm.console().text().contains(Milestone.DONE.marker())) {
                    throw new TickwatchException("the appliance exited without reaching " + Milestone.DONE.marker()
                            + "; console tail:\n" + vm.console().tail(5));
                }
                String verdict = w == null || w.current() == null ? "-" : w.current().verdict().name();
                return new Run(watch, s, samples.get(), kernelSamples.get(), verdict, cpu, load);
            } finally {
                if (w != null) {
                    w.close();
                }
            }
        }
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static double min(List<Run> rs) {
        return rs.stream().mapToDouble(Run::seconds).min().orElse(0);
    }

    private static double max(List<Run> rs) {
        return rs.stream().mapToDouble(Run::seconds).max().orElse(0);
    }
}
