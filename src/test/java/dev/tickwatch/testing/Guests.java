package dev.tickwatch.testing;

import dev.tickwatch.qemu.Accel;
import dev.tickwatch.qemu.Appliance;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.qemu.QemuConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Real guests for {@code *IT} tests: Debian's cloud kernel from the cache, our own initramfs. */
public final class Guests {

    private Guests() {
    }

    /** An appliance whose init runs {@code commands} before powering off, written under {@code dir}. */
    public static QemuConfig.Builder appliance(Path dir, String... commands) {
        return appliance(dir, KernelCache.standard().current(), commands);
    }

    /** The same on {@code kernel}. */
    public static QemuConfig.Builder appliance(Path dir, KernelCache.Kernel kernel, String... commands) {
        Appliance.Builder b = Appliance.builder();
        for (String c : commands) {
            b.command(c);
        }
        Path initrd = b.build().write(dir.resolve("initrd.gz"));
        return QemuConfig.builder().kernel(kernel.image()).initrd(initrd).accel(Accel.TCG)
                .append(QemuConfig.DEFAULT_APPEND + " nokaslr");
    }

    /** QEMU processes whose command line mentions {@code dir}: what a test must leave none of. */
    public static List<ProcessHandle> qemuProcessesUsing(Path dir) {
        String needle = dir.toString();
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains("qemu-system") && c.contains(needle))
                        .orElse(false))
                .toList();
    }

    public static Path tempDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
