package dev.tickwatch.qemu;

import dev.tickwatch.probe.ConsoleMarkers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Resolves {@link Accel#AUTO}. {@code /dev/kvm} being there proves little: on the project's
 * machines {@code KVM_CREATE_VM} succeeds yet a Linux guest hangs right after the firmware.
 * So AUTO boots the very kernel under KVM once, without an initramfs: a kernel that reaches
 * its "cannot mount root" panic has run its timers and interrupts, and KVM is good. The answer
 * is cached per QEMU binary and host kernel in the cache folder ({@code kvm-probe.properties}).
 */
public final class Accelerators {

    private static final System.Logger LOG = System.getLogger(Accelerators.class.getName());
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(30);

    private Accelerators() {
    }

    public static Accel resolve(QemuConfig config) {
        if (config.accel() != Accel.AUTO) {
            return config.accel();
        }
        Path kvm = Path.of("/dev/kvm");
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
            return Accel.TCG;
        }
        return kvmWorks(config) ? Accel.KVM : Accel.TCG;
    }

    private static synchronized boolean kvmWorks(QemuConfig config) {
        Path cacheFile = KernelCache.standard().root().resolve("kvm-probe.properties");
        String key = (config.binary() + "@" + hostRelease()).replaceAll("[^A-Za-z0-9_.@/-]", "_");
        Properties props = new Properties();
        try {
            if (Files.exists(cacheFile)) {
                try (var in = Files.newInputStream(cacheFile)) {
                    props.load(in);
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot read {0}", cacheFile);
        }
        String known = props.getProperty(key);
        if (known != null) {
            return Boolean.parseBoolean(known);
        }
        boolean works = probe(config);
        props.setProperty(key, Boolean.toString(works));
        try {
            Files.createDirectories(cacheFile.getParent());
            Path tmp = Files.createTempFile(cacheFile.getParent(), "kvm-probe", ".tmp");
            try (var out = Files.newOutputStream(tmp)) {
                props.store(out, "does KVM boot a Linux kernel on this host? (tickwatch's probe)");
            }
            Files.move(tmp, cacheFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot write {0}", cacheFile);
        }
        return works;
    }

    private static boolean probe(QemuConfig config) {
        Path dir = null;
        Process p = null;
        try {
            dir = Files.createTempDirectory("tickwatch-kvm-probe-");
            Path log = dir.resolve("console.log");
            List<String> cmd = new ArrayList<>(List.of(config.binary(), "-nodefaults", "-no-user-config",
                    "-display", "none", "-no-reboot", "-accel", "kvm", "-m", "256M",
                    "-kernel", config.kernel().toString(), "-append", "console=ttyS0 panic=-1",
                    "-serial", "file:" + log));
            p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("qemu.log").toFile()).start();
            boolean exited = p.waitFor(PROBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            String out = Files.exists(log) ? Files.readString(log) : "";
            boolean works = exited && out.contains(ConsoleMarkers.KERNEL_PANIC);
            LOG.log(System.Logger.Level.INFO, "KVM probe: {0}", works ? "works" : "does not boot a kernel");
            return works;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
                try {
                    p.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (dir != null) {
                QemuVm.deleteTree(dir);
            }
        }
    }

    private static String hostRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            return System.getProperty("os.version");
        }
    }
}
