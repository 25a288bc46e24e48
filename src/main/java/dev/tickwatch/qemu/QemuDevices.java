package dev.tickwatch.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which {@code -device} types a QEMU binary has, from {@code QEMU -device help} (no guest is
 * started: QEMU lists and exits). Its lines are qdev's {@code qdev_print_devinfo}:
 * {@code name "vmcoreinfo"} optionally followed by {@code , bus ...}, {@code , alias ...},
 * {@code , desc ...}, under category headings. Asked once per binary per JVM.
 */
public final class QemuDevices {

    public static final String VMCOREINFO = "vmcoreinfo";
    static final long TIMEOUT_S = 20;
    private static final Pattern NAME = Pattern.compile("^name \"([^\"]+)\"", Pattern.MULTILINE);
    private static final Map<String, Set<String>> KNOWN = new ConcurrentHashMap<>();

    private QemuDevices() {
    }

    /** Whether {@code binary} has device {@code name}; false when it cannot be asked. */
    public static boolean has(String binary, String name) {
        return KNOWN.computeIfAbsent(binary, QemuDevices::ask).contains(name);
    }

    private static Set<String> ask(String binary) {
        Process p = null;
        java.nio.file.Path out = null;
        try {
            // To a file, so that a QEMU that never exits is bounded by the timeout, not by a blocking read.
            out = java.nio.file.Files.createTempFile("tickwatch-device-help-", ".txt");
            p = new ProcessBuilder(binary, "-device", "help").redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).start();
            if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return Set.of();
            }
            return parse(java.nio.file.Files.readString(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Set.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Set.of();
        } finally {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
            if (out != null) {
                try {
                    java.nio.file.Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temp file of a few KiB
                }
            }
        }
    }

    /** The device names in {@code -device help} output. */
    static Set<String> parse(String help) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = NAME.matcher(help);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }
}
