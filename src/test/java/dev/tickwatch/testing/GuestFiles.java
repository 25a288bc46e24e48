package dev.tickwatch.testing;

import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuVm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The guest's own view of itself, for tests to compare against what tickwatch reads from outside:
 * the init copies guest files (/proc/kallsyms, /sys/kernel/btf/vmlinux, ...) byte for byte to extra
 * serial ports (ttyS1, ttyS2, ttyS3; raw mode so the tty does not turn \n into \r\n), each backed by
 * a host file. The guest then keeps running (sleeps) so the test can read its memory.
 */
public final class GuestFiles {

    /** Printed on the console once every file has been copied. */
    public static final String EXPORTED = "tickwatch-export: done";

    private final Map<String, Path> files;

    private GuestFiles(Map<String, Path> files) {
        this.files = files;
    }

    /**
     * A guest config that exports {@code guestPaths} (at most 3) then runs {@code thenCommands}
     * and sleeps; host copies land in {@code dir}.
     */
    public static Setup setup(Path dir, List<String> guestPaths, String... thenCommands) {
        if (guestPaths.size() > 3) {
            throw new IllegalArgumentException("at most 3 exported files (ttyS1..ttyS3), got " + guestPaths.size());
        }
        Map<String, Path> files = new LinkedHashMap<>();
        List<String> commands = new ArrayList<>();
        List<String> qemuArgs = new ArrayList<>();
        int port = 1;
        for (String guestPath : guestPaths) {
            Path host = dir.resolve("export-" + port + "-" + guestPath.replaceAll("[^A-Za-z0-9]+", "_"));
            files.put(guestPath, host);
            qemuArgs.addAll(List.of("-chardev", "file,id=export" + port + ",path=" + host,
                    "-device", "isa-serial,chardev=export" + port));
            commands.add("stty -F /dev/ttyS" + port + " raw -echo");
            commands.add("cat " + guestPath + " > /dev/ttyS" + port);
            port++;
        }
        commands.add("echo " + EXPORTED);
        commands.addAll(List.of(thenCommands));
        commands.add("while true; do sleep 3600; done");
        QemuConfig.Builder config = Guests.appliance(dir, commands.toArray(String[]::new));
        qemuArgs.forEach(config::extraArg);
        return new Setup(config, new GuestFiles(files));
    }

    /** The config to start and the files it will export. */
    public record Setup(QemuConfig.Builder config, GuestFiles files) {
    }

    /** Waits for the export to finish on {@code vm}'s console. */
    public GuestFiles await(QemuVm vm, Duration timeout) throws InterruptedException {
        if (!vm.console().await(text -> text.contains(EXPORTED), timeout)) {
            throw new AssertionError("guest did not finish exporting " + files.keySet() + " within " + timeout
                    + "; console tail:\n" + vm.console().tail(20));
        }
        return this;
    }

    /** The host copy of {@code guestPath}. */
    public Path path(String guestPath) {
        Path p = files.get(guestPath);
        if (p == null) {
            throw new IllegalArgumentException(guestPath + " was not exported");
        }
        return p;
    }

    public byte[] bytes(String guestPath) {
        try {
            return Files.readAllBytes(path(guestPath));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
