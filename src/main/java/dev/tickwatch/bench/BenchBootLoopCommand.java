package dev.tickwatch.bench;

import dev.tickwatch.qemu.Accel;
import dev.tickwatch.qemu.Appliance;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.boot.loop.BootLoop;
import dev.tickwatch.boot.loop.BootWatchers;
import dev.tickwatch.boot.loop.DiagnosticFolder;
import dev.tickwatch.boot.loop.LoopOptions;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.boot.loop.WatchOptions;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.command.JsonOption;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch bench boot-loop}: the harness's boots per minute next to a plain shell loop
 * ({@code xargs -P T}) of the very same {@code qemu-system-x86_64} command line
 * ({@link QemuVm#commandLine}) with the same parallelism, alternating plain and harness per
 * round so drifting host load hits both. Goal: ratio >= 0.99 (issue 17).
 */
@CliOnly("a benchmark or recorder: figures and transcripts, not a look at a guest")
@Command(name = "boot-loop", mixinStandardHelpOptions = true,
        description = "Boots per minute: tickwatch boot-loop vs a plain shell loop of the same QEMU command line.")
public final class BenchBootLoopCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-n", "--boots"}, paramLabel = "N", defaultValue = "8", description = "boots per run (default: ${DEFAULT-VALUE})")
    int boots;

    @Option(names = {"-j", "--parallel"}, paramLabel = "N", defaultValue = "2", description = "workers (default: ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--smp", paramLabel = "N", defaultValue = "2", description = "vCPUs (default: ${DEFAULT-VALUE})")
    int smp;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "1", description = "plain+harness pairs (default: ${DEFAULT-VALUE})")
    int rounds;

    @Mixin
    JsonOption jsonOption;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        KernelCache.Kernel k = KernelCache.standard().current();
        Path work = Files.createTempDirectory("tickwatch-bench-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            Path initrd = Appliance.builder().build().write(work.resolve("initrd.gz"));
            QemuConfig config = QemuConfig.builder().kernel(k.image()).initrd(initrd).smp(smp).accel(Accel.TCG).build();
            long timeoutS = WatchOptions.defaults().timeout().toSeconds();
            Path script = writeScript(work, config, timeoutS);
            Path timedOut = work.resolve("plain-timeouts");
            double sumPlain = 0;
            double sumHarness = 0;
            long plainBoots = 0;
            long harnessBoots = 0;
            boolean allOk = true;
            for (int round = 1; round <= rounds; round++) {
                long t0 = System.nanoTime();
                long child0 = HostLoad.reapedChildrenCpuNs();
                Process p = new ProcessBuilder("bash", "-c", "seq " + boots + " | xargs -P " + parallel + " -n 1 "
                        + script).redirectErrorStream(true).redirectOutput(work.resolve("plain.log").toFile()).start();
                int rc = p.waitFor();
                double plainS = (System.nanoTime() - t0) / 1e9;
                // A plain boot that hung held its worker for the whole timeout: this round's ratio
                // then compares a hang with clean boots, and says so.
                long plainHung = Files.exists(timedOut) ? Files.readAllLines(timedOut).size() : 0;
                Files.deleteIfExists(timedOut);
                long child1 = HostLoad.reapedChildrenCpuNs();
                LoopOptions lo = LoopOptions.builder().config(config).boots(boots).parallel(parallel).build();
                BootLoop loop = new BootLoop(lo, BootWatchers.create(WatchOptions.defaults()),
                        new DiagnosticFolder(work.resolve("hangs")), r -> { });
                long t1 = System.nanoTime();
                long own0 = os.getProcessCpuTime();
                LoopResult r = loop.run();
                double harnessS = (System.nanoTime() - t1) / 1e9;
                // Per boot: the QEMUs' CPU (reaped children) on each side, and this JVM's own (the
                // harness: launch, console, watch): what the harness costs shows here first, before
                // the noisier wall-clock ratio.
                double plainQemuS = (child1 - child0) / 1e9 / boots;
                double harnessQemuS = (HostLoad.reapedChildrenCpuNs() - child1) / 1e9 / boots;
                double harnessJvmS = (os.getProcessCpuTime() - own0) / 1e9 / boots;
                double plainRate = boots * 60 / plainS;
                double harnessRate = r.stats().clean() * 60 / harnessS;
                sumPlain += plainS;
                sumHarness += harnessS;
                plainBoots += boots;
                harnessBoots += r.stats().clean();
                allOk &= rc == 0 && r.status() == LoopResult.Status.OK;
                if (jsonOption.json()) {
                    out.println(Json.compact(Json.object().put("round", round).put("boots", boots).put("parallel", parallel)
                            .put("smp", smp).put("plain_s", plainS).put("plain_rate_per_min", plainRate)
                            .put("harness_s", harnessS).put("harness_rate_per_min", harnessRate)
                            .put("plain_qemu_cpu_s_per_boot", plainQemuS).put("harness_qemu_cpu_s_per_boot", harnessQemuS)
                            .put("harness_jvm_cpu_s_per_boot", harnessJvmS)
                            .put("ratio", harnessRate / plainRate).put("plain_exit", rc).put("plain_timed_out", plainHung)
                            .put("harness_status", r.status().name().toLowerCase(Locale.ROOT))));
                } else {
                    out.printf(Locale.ROOT, "bench boot-loop round %d: %d boots, %d workers, %d vCPUs, TCG%n", round, boots,
                            parallel, smp);
                    out.printf(Locale.ROOT, "  plain shell loop (xargs -P %d): %6.1f s  %5.1f boots/min%s%n", parallel, plainS,
                            plainRate, plainHung > 0 ? String.format(Locale.ROOT, "  (%d boot%s ran into the %d s timeout:"
                                    + " a hang no one watched; this round does not compare)", plainHung, plainHung == 1 ? "" : "s",
                                    timeoutS) : rc == 0 ? "" : "  (exit " + rc + ")");
                    out.printf(Locale.ROOT, "  tickwatch boot-loop:           %6.1f s  %5.1f boots/min  (%s)%n", harnessS,
                            harnessRate, r.status().name().toLowerCase(Locale.ROOT));
                    out.printf(Locale.ROOT, "  CPU per boot: QEMU plain %.3f s, QEMU watched %.3f s, tickwatch's JVM %.3f s%n",
                            plainQemuS, harnessQemuS, harnessJvmS);
                    out.printf(Locale.ROOT, "  ratio tickwatch/plain: %.3f (goal >= 0.99)%n", harnessRate / plainRate);
                    if (r.status() != LoopResult.Status.OK) {
                        out.println("  tickwatch: " + (r.firstBad() != null ? r.firstBad().outcome().evidence()
                                : r.cannotTest() != null ? r.cannotTest().outcome().reason() : "boots missing"));
                    }
                }
                out.flush();
            }
            if (rounds > 1 && !jsonOption.json()) {
                double p = plainBoots * 60 / sumPlain;
                double h = harnessBoots * 60 / sumHarness;
                out.printf(Locale.ROOT, "bench boot-loop: all rounds: plain %.1f boots/min, tickwatch %.1f boots/min,"
                        + " ratio %.3f%n", p, h, h / p);
            }
            return allOk ? ExitCode.OK : ExitCode.CANNOT_TEST;
        } finally {
            FileTrees.deleteTree(work);
        }
    }

    /**
     * One boot in plain bash: a fresh folder, QEMU with the harness's exact arguments under the
     * harness's own per-boot timeout (a plain loop has no other way to end a guest that hangs: one
     * soft lockup in a plain round once held the bench for good), cleanup. A timed-out boot leaves
     * a line in {@code plain-timeouts}.
     */
    private static Path writeScript(Path work, QemuConfig config, long timeoutS) throws java.io.IOException {
        String marker = "@DIR@";
        List<String> cmd = QemuVm.commandLine(config, Accel.TCG, Path.of(marker));
        StringBuilder s = new StringBuilder("#!/bin/bash\nd=$(mktemp -d " + quote(work + "/plain.XXXXXX") + ")\n");
        s.append("timeout -k 5 ").append(timeoutS).append(' ');
        for (String a : cmd) {
            s.append(quote(a).replace(marker, "'\"$d\"'")).append(' ');
        }
        s.append("\nrc=$?\nif [ $rc = 124 ] || [ $rc = 137 ]; then echo \"$d\" >> ").append(quote(work + "/plain-timeouts"))
                .append("; fi\nrm -rf \"$d\"\nexit $rc\n");
        Path p = work.resolve("plain-boot.sh");
        Files.writeString(p, s.toString());
        p.toFile().setExecutable(true);
        return p;
    }

    private static String quote(String a) {
        return "'" + a.replace("'", "'\\''") + "'";
    }
}
