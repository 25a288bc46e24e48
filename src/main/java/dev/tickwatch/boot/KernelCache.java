package dev.tickwatch.boot;

import dev.tickwatch.TickwatchException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernels {@code bin/setup} unpacked: {@code $TICKWATCH_CACHE/kernel/ABI/{vmlinuz,config}},
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
        /** Where the matching headers must be for building modules. */
        public Path headers() {
            return Path.of("/lib/modules", abi, "build");
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
            throw new TickwatchException("cannot read " + current + ": " + e.getMessage(), e);
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
