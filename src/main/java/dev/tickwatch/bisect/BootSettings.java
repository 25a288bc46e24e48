package dev.tickwatch.bisect;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * How every boot of a bisection runs, whatever the revision: the boot-loop options that make
 * sense for a bisect ({@code --parallel}, {@code --load}, {@code --jitter}, {@code --smp},
 * {@code --qemu-arg}, ...). The revision's own files are in {@link BootPlan}.
 *
 * @param append         kernel command line, or null for QEMU's default
 * @param success        console regex that means success, or null for the appliance's done line
 * @param consoleSilenceS seconds of console silence that count as a hang
 * @param timeoutS       last resort per boot, seconds
 */
public record BootSettings(String append, String success, int parallel, int smp, int memoryMiB, List<String> qemuArgs,
        int load, boolean jitter, double consoleSilenceS, double timeoutS, boolean vmcore) {

    public BootSettings {
        qemuArgs = List.copyOf(qemuArgs);
        if (parallel < 1) {
            throw new IllegalArgumentException("parallel: " + parallel + " (expected: >= 1)");
        }
    }

    /**
     * The {@code tickwatch boot-loop} arguments of {@code plan}'s boots, for runners that start
     * boot-loop processes (shards on a cluster): they add {@code --shard} and {@code --results}.
     */
    public List<String> bootLoopArgs(BootPlan plan) {
        Objects.requireNonNull(plan, "plan");
        List<String> a = new ArrayList<>(List.of("--kernel", plan.kernel().toString()));
        if (plan.initrd() != null) {
            a.addAll(List.of("--initrd", plan.initrd().toString()));
        }
        if (append != null) {
            a.addAll(List.of("--append", append));
        }
        if (success != null) {
            a.addAll(List.of("--success", success));
        }
        a.addAll(List.of("--boots", Integer.toString(plan.boots()), "--seed", Long.toString(plan.seed()),
                "--parallel", Integer.toString(parallel), "--smp", Integer.toString(smp),
                "--memory", Integer.toString(memoryMiB), "--load", Integer.toString(load),
                "--console-silence", num(consoleSilenceS), "--timeout", num(timeoutS),
                "--diagnostics", plan.hangs().toString()));
        for (String q : qemuArgs) {
            a.addAll(List.of("--qemu-arg", q));
        }
        if (jitter) {
            a.add("--jitter");
        }
        if (plan.keepGoing()) {
            a.add("--keep-going");
        }
        if (vmcore) {
            a.add("--vmcore");
        }
        if (plan.kernelFiles().vmlinux() != null) {
            a.addAll(List.of("--vmlinux", plan.kernelFiles().vmlinux().toString()));
        }
        return a;
    }

    private static String num(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : String.format(Locale.ROOT, "%s", d);
    }
}
