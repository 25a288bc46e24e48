package dev.tickwatch.lab;

import dev.tickwatch.guest.sym.SymbolTable;
import dev.tickwatch.guest.sym.SystemMap;
import dev.tickwatch.qemu.Accel;
import dev.tickwatch.qemu.Appliance;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.qemu.QemuConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds the guest for one {@link LabMode}: the appliance with the lab module loaded in that
 * mode. Its init prints the address of {@code jiffies_64} from the guest's own /proc/kallsyms
 * (KASLR stays on), loads the module, then waits forever: a hang never reaches
 * {@code tickwatch-init: done}. {@link LabMode#HEALTHY} loads nothing and powers off.
 */
public final class Lab {

    /** Console line carrying jiffies_64's address: {@code tickwatch-lab: jiffies_64 ffffffff...}. */
    public static final String JIFFIES_MARKER = "tickwatch-lab: jiffies_64 ";
    /** Console line printed right before the module is loaded. */
    public static final String INSMOD_MARKER = "tickwatch-init: insmod tickwatch_lab.ko";

    private Lab() {
    }

    /**
     * @param workDir  where the initramfs is written
     * @param moduleArgs extra module parameters (e.g. {@code cpu=1}), or empty
     */
    public static QemuConfig.Builder config(LabMode mode, Path workDir, boolean kaslr, List<String> moduleArgs) {
        return config(mode, workDir, kaslr, moduleArgs, KernelCache.standard().current());
    }

    /** Like {@link #config(LabMode, Path, boolean, List)} on {@code kernel} (e.g. one built from source), module built for it. */
    public static QemuConfig.Builder config(LabMode mode, Path workDir, boolean kaslr, List<String> moduleArgs,
            KernelCache.Kernel kernel) {
        Path initrd = initrd(mode, workDir.resolve("initrd-" + mode.label() + ".gz"), moduleArgs, kernel);
        return QemuConfig.builder().kernel(kernel.image()).initrd(initrd).append(append(kaslr)).accel(Accel.TCG);
    }

    /** The lab guest's kernel command line. panic=0: a panicked lab guest stays as it is, to be looked at (QEMU's -no-reboot would end it). */
    public static String append(boolean kaslr) {
        return "console=ttyS0 panic=0" + (kaslr ? "" : " nokaslr");
    }

    /**
     * Writes the lab guest's initramfs for {@code kernel} to {@code out}: the appliance with the
     * module loaded in {@code mode}. Every mode but {@link LabMode#mayPass() flaky and healthy}
     * then waits forever; a flaky boot that drew no hang goes on to its done line.
     */
    public static Path initrd(LabMode mode, Path out, List<String> moduleArgs, KernelCache.Kernel kernel) {
        KernelCache cache = KernelCache.standard();
        Appliance.Builder app = Appliance.builder();
        if (mode != LabMode.HEALTHY) {
            app.command("echo 0 > /proc/sys/kernel/kptr_restrict")
               .command("echo \"" + JIFFIES_MARKER + "$(grep -w jiffies_64 /proc/kallsyms | cut -d' ' -f1)\"");
            List<String> args = new java.util.ArrayList<>(moduleArgs);
            args.addAll(symbolArgs(kernel));
            String params = "mode=" + mode.label() + (args.isEmpty() ? "" : " " + String.join(" ", args));
            app.module(LabModule.build(cache, kernel), params);
            if (!mode.mayPass()) {
                app.command("while :; do sleep 3600; done");
            }
        }
        return app.build().write(out);
    }

    /** The flaky mode's module parameter for a hang chance of {@code permille}/1000 per boot. */
    public static String flakyArg(int permille) {
        if (permille < 0 || permille > 1000) {
            throw new IllegalArgumentException("p-permille: " + permille + " (expected: 0-1000)");
        }
        return "p_permille=" + permille;
    }

    /**
     * The module's data symbols from the kernel's own System.map, for a kernel whose kallsyms
     * holds text symbols only (KALLSYMS_ALL off); none when there is no System.map next to it.
     */
    static List<String> symbolArgs(KernelCache.Kernel kernel) {
        if (kernel.systemMap() == null) {
            return List.of();
        }
        SymbolTable map = SystemMap.read(kernel.systemMap());
        long text = map.addressOf("_text").orElse(0L);
        List<String> out = new java.util.ArrayList<>();
        map.addressOf("tick_cpu_device").ifPresent(a -> out.add("tick_cpu_device_pcpu=0x" + Long.toHexString(a)));
        if (text != 0) {
            map.addressOf("tick_next_period").ifPresent(a -> out.add("tick_next_period_off=0x" + Long.toHexString(a - text)));
            map.addressOf("rcu_cpu_stall_suppress")
                    .ifPresent(a -> out.add("rcu_cpu_stall_suppress_off=0x" + Long.toHexString(a - text)));
        }
        return out;
    }
}
