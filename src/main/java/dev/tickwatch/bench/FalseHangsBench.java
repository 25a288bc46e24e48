package dev.tickwatch.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.boot.loop.BootOutcome;
import dev.tickwatch.boot.loop.BootRecord;
import dev.tickwatch.boot.loop.BootWatcher;
import dev.tickwatch.boot.loop.ConsoleWatcher;
import dev.tickwatch.boot.loop.DiagnosticFolder;
import dev.tickwatch.boot.loop.LoopOptions;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.boot.loop.BootLoop;
import dev.tickwatch.boot.loop.WatchOptions;
import dev.tickwatch.boot.stats.ClopperPearson;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.Commands;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.command.JsonOption;
import dev.tickwatch.qemu.Accel;
import dev.tickwatch.qemu.Appliance;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Thresholds;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch bench false-hangs}: healthy appliance boots, counted by how they ended. Every
 * boot is healthy, so every hang is a false one; host-side failures (QEMU never exiting after the
 * guest powered off) are counted apart, as the boot loop counts them (passed, named). With several
 * {@code --mode}s the modes take turns in rounds of the same boots (same seeds, so the same vCPU
 * counts and start delays), so that drifting host load hits each alike.
 */
@CliOnly("a benchmark or recorder: figures and transcripts, not a look at a guest")
@Command(name = "false-hangs", mixinStandardHelpOptions = true,
        description = {"Healthy boots under host load, counted by how they ended: false hangs by kind, and QEMU "
            + "exit hangs (host-side) apart.",
            "Modes: verdicts (the boot loop's watcher: samples until the success marker), "
                + "sample-to-power-down (samples until the kernel's power-off line, as before), "
                + "console-only (no QMP command at all while the guest runs)."})
public final class FalseHangsBench implements Callable<Integer> {

    /** What watches each boot. */
    enum Mode {
        verdicts, sample_to_power_down, console_only;

        String label() {
            return name().replace('_', '-');
        }

        BootWatcher watcher(WatchOptions w) {
            return switch (this) {
                case verdicts -> new ConsoleWatcher(w, Thresholds.defaults(), true);
                case sample_to_power_down -> new ConsoleWatcher(w, Thresholds.defaults(), false);
                case console_only -> new ConsoleWatcher(w);
            };
        }

        static Mode parse(String s) {
            return Mode.valueOf(s.replace('-', '_'));
        }
    }

    @Spec
    CommandSpec spec;

    @Option(names = {"-n", "--boots"}, paramLabel = "N", defaultValue = "200",
            description = "boots per mode (default: ${DEFAULT-VALUE})")
    int boots;

    @Option(names = {"-j", "--parallel"}, paramLabel = "N", defaultValue = "2",
            description = "parallel workers (default: ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--load", paramLabel = "N", defaultValue = "1",
            description = "busy host threads during the boots (default: ${DEFAULT-VALUE})")
    int load;

    @Option(names = "--jitter", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "vary vCPUs (1..2) and start times per boot from the seed (default: on)")
    boolean jitter;

    @Option(names = "--mode", paramLabel = "MODE", split = ",",
            description = "verdicts, sample-to-power-down or console-only; repeatable (default: verdicts)")
    List<String> modes;

    @Option(names = "--round", paramLabel = "N", defaultValue = "50",
            description = "boots per mode before the next mode's turn (default: ${DEFAULT-VALUE})")
    int round;

    @Option(names = "--timeout", paramLabel = "S", defaultValue = "300",
            description = "last resort per boot, seconds (default: ${DEFAULT-VALUE})")
    int timeoutS;

    @Mixin
    JsonOption jsonOption;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<Mode> ms = new ArrayList<>();
        for (String m : modes == null ? List.of("verdicts") : modes) {
            try {
                ms.add(Mode.parse(m));
            } catch (IllegalArgumentException e) {
                throw Commands.usage(spec, "unknown mode '" + m
                        + "' (expected verdicts, sample-to-power-down or console-only)");
            }
        }
        if (boots < 1 || parallel < 1 || round < 1 || load < 0) {
            throw Commands.usage(spec, "--boots, --parallel and --round must be at least 1, --load at least 0");
        }
        KernelCache.Kernel k = KernelCache.standard().current();
        Path work = Files.createTempDirectory("tickwatch-bench-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Map<Mode, List<BootRecord>> records = new LinkedHashMap<>();
        Map<Mode, Double> wall = new LinkedHashMap<>();
        ms.forEach(m -> {
            records.put(m, new ArrayList<>());
            wall.put(m, 0.0);
        });
        try {
            Path initrd = Appliance.builder().build().write(work.resolve("initrd.gz"));
            QemuConfig config = QemuConfig.builder().kernel(k.image()).initrd(initrd).smp(2).accel(Accel.TCG).build();
            WatchOptions w = WatchOptions.builder().timeout(Duration.ofSeconds(timeoutS)).build();
            long seed = 1;
            for (int done = 0; done < boots; done += round) {
                int n = Math.min(round, boots - done);
                for (Mode m : ms) {
                    // The same seed for every mode in this round: the same boots, watched differently.
                    LoopOptions lo = LoopOptions.builder().config(config).boots(n).parallel(parallel).jitter(jitter)
                            .load(load).seed(seed).keepGoing(true).build();
                    BootLoop loop = new BootLoop(lo, m.watcher(w), new DiagnosticFolder(work.resolve("hangs")), r -> { });
                    long t0 = System.nanoTime();
                    LoopResult r = loop.run();
                    wall.merge(m, (System.nanoTime() - t0) / 1e9, Double::sum);
                    records.get(m).addAll(r.records());
                    if (!jsonOption.json()) {
                        out.printf(Locale.ROOT, "bench false-hangs: %s: %d of %d boots done%n", m.label(),
                                records.get(m).size(), boots);
                        out.flush();
                    }
                }
                seed++;
            }
        } finally {
            FileTrees.deleteTree(work);
        }
        int code = ExitCode.OK;
        ArrayNode json = Json.MAPPER.createArrayNode();
        for (Mode m : ms) {
            List<BootRecord> rs = records.get(m);
            Map<String, Integer> hangs = new TreeMap<>();
            List<String> what = new ArrayList<>(); // each hang's boot, seed and first evidence line: what a person checks first
            Map<String, Integer> host = new TreeMap<>();
            int passed = 0;
            int cannot = 0;
            for (BootRecord b : rs) {
                BootOutcome o = b.outcome();
                switch (o.kind()) {
                    case OK -> {
                        passed++;
                        if (o.isHostFailure()) {
                            host.merge(o.verdict(), 1, Integer::sum);
                        }
                    }
                    case HUNG, TIMEOUT -> {
                        hangs.merge(o.verdict(), 1, Integer::sum);
                        what.add(String.format(Locale.ROOT, "%s, seed %s, %d vCPU%s: %s", o.verdict(), Json.hex(b.seed()),
                                b.smp(), b.smp() == 1 ? "" : "s", o.evidence().isEmpty() ? "" : o.evidence().get(0)));
                    }
                    default -> cannot++;
                }
            }
            int falseHangs = hangs.values().stream().mapToInt(Integer::intValue).sum();
            int exitHangs = host.getOrDefault(ConsoleWatcher.QEMU_EXIT_HANG, 0);
            if (falseHangs > 0) {
                code = ExitCode.CANNOT_TEST; // the bench's claim (no false hang) did not hold
            }
            if (jsonOption.json()) {
                ObjectNode o = json.addObject().put("mode", m.label()).put("boots", rs.size()).put("passed", passed)
                        .put("cannot_test", cannot).put("false_hangs", falseHangs).put("load", load)
                        .put("parallel", parallel).put("jitter", jitter).put("wall_s", Math.round(wall.get(m) * 10) / 10.0)
                        .put("qemu_exit_hangs", exitHangs)
                        .put("qemu_exit_hang_rate_upper95", ClopperPearson.upper95(exitHangs, rs.size()));
                ObjectNode h = o.putObject("hangs_by_verdict");
                hangs.forEach(h::put);
                ObjectNode hf = o.putObject("host_failures");
                host.forEach(hf::put);
                ArrayNode hl = o.putArray("hangs");
                what.forEach(hl::add);
            } else {
                out.printf(Locale.ROOT, "bench false-hangs: %s: %d healthy boots (%d workers, load %d%s) in %.0f s:"
                        + " %d passed, %d false hang%s%s, %d could not test%n", m.label(), rs.size(), parallel, load,
                        jitter ? ", jitter" : "", wall.get(m), passed, falseHangs, falseHangs == 1 ? "" : "s",
                        hangs.isEmpty() ? "" : " " + hangs, cannot);
                what.stream().limit(10).forEach(h -> out.println("  hang: " + h));
                out.printf(Locale.ROOT, "  QEMU exit hangs (host-side, counted as passed): %d in %d boots"
                        + " (rate < %.2g, 95 %%)%s%n", exitHangs, rs.size(),
                        ClopperPearson.upper95(exitHangs, rs.size()), host.size() > (exitHangs > 0 ? 1 : 0)
                                ? "; other host-side failures: " + host : "");
            }
        }
        if (jsonOption.json()) {
            out.println(Json.pretty(json));
        }
        out.flush();
        return code;
    }
}
