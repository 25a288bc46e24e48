package dev.tickwatch.testing;

import dev.tickwatch.qemu.KernelCache;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The kernels the verdict tests boot: {@code kernel/matrix} in the cache, one name a line, written
 * by {@code bin/setup --matrix} (Debian's 6.1 cloud, generic and PREEMPT_RT, 6.12 LTS generic and
 * PREEMPT_RT, and the kernel built from linux-source-6.1). {@code -Dtickwatch.matrix=full} asks
 * for every combination; the default is a slice that still boots every kernel and every mode.
 */
public final class Kernels {

    /** The self-built kernel's name in the cache: no data symbols in kallsyms, no BTF. */
    public static final String BUILT = "built-6.1-defconfig";

    private Kernels() {
    }

    public static List<String> matrix() {
        Path f = KernelCache.standard().root().resolve("kernel/matrix");
        if (!Files.isRegularFile(f)) {
            throw new IllegalStateException("no kernel matrix in " + f + ": run bin/setup --matrix (bin/test does)");
        }
        return KernelCache.standard().matrix();
    }

    public static boolean full() {
        return "full".equals(System.getProperty("tickwatch.matrix"));
    }

    public static KernelCache.Kernel kernel(String name) {
        return KernelCache.standard().kernel(name);
    }

    public static boolean isRt(String name) {
        return name.contains("-rt-");
    }

    /** The first matrix kernel whose name contains all of {@code parts} (e.g. "6.12", "-rt-"). */
    public static String find(String... parts) {
        for (String k : matrix()) {
            boolean all = true;
            for (String p : parts) {
                all &= k.contains(p);
            }
            if (all) {
                return k;
            }
        }
        throw new IllegalStateException("no kernel like " + String.join(" ", parts) + " in " + matrix());
    }
}
