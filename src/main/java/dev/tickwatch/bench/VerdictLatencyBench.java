package dev.tickwatch.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.lab.Lab;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.lab.LabMode;
import dev.tickwatch.watch.Watch;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Decision;
import dev.tickwatch.verdict.Verdict;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch bench verdict-latency}: for each lab mode, the time from the injection (the
 * init's insmod line appearing on the console, seen through inotify) to the verdict of a watch at
 * default settings, median over several fresh guests. A sleep deadlock says which rule decided it:
 * the lock cycle in the wait-for graph, or the D-state threshold.
 */
@CliOnly("a benchmark or recorder: figures and transcripts, not a look at a guest")
@Command(name = "verdict-latency", mixinStandardHelpOptions = true,
        description = "Time from a lab hang's injection to its verdict, per mode, median over --runs guests.")
public final class VerdictLatencyBench implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "fresh guests per mode (default: ${DEFAULT-VALUE})")
    int runs;

    @Option(names = "--mode", paramLabel = "MODE", description = "a lab mode, repeatable (default: every hang mode)")
    List<String> modes;

    @Option(names = "--kernel", paramLabel = "NAME", split = ",",
            description = "kernels from the cache, repeatable; 'matrix': every kernel bin/setup --matrix installed"
                    + " (default: the current one)")
    List<String> kernels;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<LabMode> list = new ArrayList<>();
        if (modes == null) {
            for (LabMode m : LabMode.values()) {
                if (m != LabMode.HEALTHY) {
                    list.add(m);
                }
            }
        } else {
            for (String m : modes) {
                list.add(LabMode.parse(m));
            }
        }
        KernelCache cache = KernelCache.standard();
        List<String> names = new ArrayList<>();
        for (String k : kernels == null ? List.of(cache.current().abi()) : kernels) {
            names.addAll(k.equals("matrix") ? cache.matrix() : List.of(k));
        }
        ObjectNode all = Json.object();
        for (String name : names) {
            KernelCache.Kernel kernel = cache.kernel(name);
            if (names.size() > 1) {
                out.println("kernel " + name + ":");
            }
            ObjectNode perKernel = names.size() > 1 ? all.putObject(name) : all;
            latencies(out, list, kernel, perKernel);
        }
        out.println(Json.compact(all));
        out.flush();
        return ExitCode.OK;
    }

    private void latencies(PrintWriter out, List<LabMode> list, KernelCache.Kernel kernel, ObjectNode all) throws Exception {
        for (LabMode mode : list) {
            List<Double> latencies = new ArrayList<>();
            String verdict = null;
            for (int i = 0; i < runs; i++) {
                Path work = Files.createTempDirectory("tickwatch-latency-");
                try (QemuVm vm = QemuVm.start(Lab.config(mode, work, true, List.of(), kernel).build());
                        Watch watch = new Watch(new Probe(vm.qmp(), vm.console(), ProbeOptions.defaults()),
                                Watch.Options.defaults())) {
                    CompletableFuture<Decision> hang = new CompletableFuture<>();
                    watch.onChange(d -> {
                        if (d.verdict().isHang()) {
                            hang.complete(d);
                        }
                    }).start();
                    if (!vm.console().await(t -> t.contains(Lab.INSMOD_MARKER), Duration.ofSeconds(90))) {
                        throw new TickwatchException(mode.label() + ": the lab module was not loaded");
                    }
                    long injected = System.nanoTime();
                    Decision d;
                    try {
                        d = hang.get(120, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.TimeoutException e) {
                        // A mode this kernel gives no way to prove from outside (e.g. no task list).
                        verdict = "none in 120 s (" + watch.current().verdict() + ")";
                        latencies.add(Double.NaN);
                        continue;
                    }
                    double latency = (d.decidedNs() - injected) / 1e9;
                    latencies.add(latency);
                    if (d.onsetNs() < injected - 500_000_000L) {
                        // A hang that began before the injection was seen is a false alarm or a late console: say so.
                        out.printf(Locale.ROOT, "%s run %d: onset %.2f s BEFORE the insmod line was seen: %s%n", mode.label(),
                                i + 1, (injected - d.onsetNs()) / 1e9, d.evidence());
                    }
                    verdict = d.verdict() + (d.flavour() == null ? "" : " " + d.flavour());
                    if (d.verdict() == Verdict.SLEEP_DEADLOCK) {
                        // Which rule decided: the wait-for graph's cycle (at once) or the D-state threshold.
                        verdict += d.evidence().get(0).startsWith("a lock cycle") ? " (lock cycle)" : " (D-state threshold)";
                    }
                } finally {
                    FileTrees.deleteTree(work);
                }
            }
            latencies.removeIf(x -> x.isNaN());
            if (latencies.isEmpty()) {
                out.printf(Locale.ROOT, "%-18s %s%n", mode.label(), verdict);
                all.putObject(mode.label()).put("verdict", verdict).putNull("median_latency_s").put("runs", runs);
                continue;
            }
            Collections.sort(latencies);
            double median = latencies.get(latencies.size() / 2);
            out.printf(Locale.ROOT, "%-18s %-34s median %5.2f s  (runs: %s)%n", mode.label(), verdict, median, latencies.stream()
                    .map(x -> String.format(Locale.ROOT, "%.2f", x)).toList());
            out.flush();
            all.putObject(mode.label()).put("verdict", verdict).put("median_latency_s", Math.round(median * 100) / 100.0)
                    .put("runs", runs);
        }
    }
}
