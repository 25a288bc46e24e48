package dev.tickwatch.lab;

import dev.tickwatch.boot.Accel;
import dev.tickwatch.boot.Appliance;
import dev.tickwatch.boot.KernelCache;
import dev.tickwatch.boot.QemuConfig;
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
        KernelCache cache = KernelCache.standard();
        KernelCache.Kernel kernel = cache.current();
        Appliance.Builder app = Appliance.builder();
        if (mode != LabMode.HEALTHY) {
            app.command("echo 0 > /proc/sys/kernel/kptr_restrict")
               .command("echo \"" + JIFFIES_MARKER + "$(grep -w jiffies_64 /proc/kallsyms | cut -d' ' -f1)\"");
            String params = "mode=" + mode.label() + (moduleArgs.isEmpty() ? "" : " " + String.join(" ", moduleArgs));
            app.module(LabModule.build(cache, kernel), params)
               .command("while :; do sleep 3600; done");
        }
        Path initrd = app.build().write(workDir.resolve("initrd-" + mode.label() + ".gz"));
        // panic=0: a panicked lab guest stays as it is, to be looked at (QEMU's -no-reboot would end it).
        String append = "console=ttyS0 panic=0" + (kaslr ? "" : " nokaslr");
        return QemuConfig.builder().kernel(kernel.image()).initrd(initrd).append(append).accel(Accel.TCG);
    }
}
