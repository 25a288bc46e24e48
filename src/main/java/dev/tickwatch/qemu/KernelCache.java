package dev.tickwatch.qemu;

import dev.tickwatch.TickwatchException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernels {@code bin/setup} unpacked: {@code $TICKWATCH_CACHE/kernel/ABI/{vmlinuz,config}}
 * (a kernel built from source also has {@code vmlinux}, {@code System.map} and a {@code build}
 * link to its tree),
 * with {@code kernel/current} naming the ABI in use. The cache defaults to
 * {@code ${XDG_CACHE_HOME:-~/.cache}/tickwatch}, as in {@code bin/setup}.
 */
public final class KernelCache {

    /** The command that fills the cache; every error message names it. */
    public static final String FIX = "run bin/setup (as root) to install it";

    private final Path root;

    public KernelCache(Path root) {
        this.root = root;
    }

    public static KernelCache standard() {
        String env = System.getenv("TICKWATCH_CACHE");
        if (env != null && !env.isBlank()) {
            return new KernelCache(Path.of(env));
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return new KernelCache(base.resolve("tickwatch"));
    }

    public Path root() {
        return root;
    }

    /** A kernel ready to boot: its ABI (e.g. {@code 6.1.0-56-cloud-amd64}), image and config. */
    public record Kernel(String abi, Path image, Path config) {
        /**
         * Where the matching headers must be for building modules: the kernel's own {@code build}
         * link in its cache folder (a kernel the suite built from source), else the installed
         * headers package's {@code /lib/modules/ABI/build}.
         */
        public Path headers() {
            Path own = image.resolveSibling("build");
            return Files.isDirectory(own) ? own : Path.of("/lib/modules", abi, "build");
        }

        /** The kernel's vmlinux next to its image (a kernel built from source), or null. */
        public Path vmlinux() {
            Path v = image.resolveSibling("vmlinux");
            return Files.isRegularFile(v) ? v : null;
        }

        /** The kernel's System.map next to its image, or null. */
        public Path systemMap() {
            Path m = image.resolveSibling("System.map");
            return Files.isRegularFile(m) ? m : null;
        }

        /** Fails with the expected and found ABIs when the headers do not match. */
        public Path requireHeaders() {
            Path h = headers();
            if (Files.isDirectory(h)) {
                return h;
            }
            String found;
            try (var s = Files.list(Path.of("/lib/modules"))) {
                found = String.join(", ", s.filter(p -> Files.isDirectory(p.resolve("build")))
                        .map(p -> p.getFileName().toString()).sorted().toList());
            } catch (IOException e) {
                found = "";
            }
            throw new TickwatchException("kernel headers for " + abi + " are missing (expected "
                    + h + "; found headers for: " + (found.isEmpty() ? "none" : found) + "); " + FIX);
        }
    }

    /** The current kernel, or an error saying what is missing and how to fix it. */
    public Kernel current() {
        Path current = root.resolve("kernel/current");
        if (!Files.isRegularFile(current)) {
            throw new TickwatchException("no guest kernel in " + root.resolve("kernel") + "; " + FIX);
        }
        String abi;
        try {
            abi = Files.readString(current).strip();
        } catch (IOException e) {
            throw new TickwatchException("cannot read " + current + ": " + dev.tickwatch.util.IoErrors.reason(e), e);
        }
        return kernel(abi);
    }

    public Kernel kernel(String abi) {
        Path dir = root.resolve("kernel").resolve(abi);
        Path image = dir.resolve("vmlinuz");
        if (!Files.isRegularFile(image)) {
            throw new TickwatchException("guest kernel " + abi + " is missing (expected " + image + "); " + FIX);
        }
        return new Kernel(abi, image, dir.resolve("config"));
    }

    /**
     * The kernels of the verdict matrix ({@code kernel/matrix}, one name a line, written by
     * {@code bin/setup --matrix}), first the current one; just the current one without a matrix.
     */
    public java.util.List<String> matrix() {
        Path f = root.resolve("kernel/matrix");
        if (!Files.isRegularFile(f)) {
            return java.util.List.of(current().abi());
        }
        try {
            return Files.readAllLines(f).stream().map(String::strip).filter(x -> !x.isEmpty()).toList();
        } catch (IOException e) {
            throw new TickwatchException("cannot read " + f + ": " + dev.tickwatch.util.IoErrors.reason(e), e);
        }
    }

    /** Debian's busybox-static, the one binary of the appliance's userland. */
    public static Path busybox() {
        Path p = Path.of("/bin/busybox");
        if (!Files.isExecutable(p)) {
            throw new TickwatchException("busybox is missing (expected " + p
                    + " from Debian's busybox-static); " + FIX);
        }
        return p;
    }
}
