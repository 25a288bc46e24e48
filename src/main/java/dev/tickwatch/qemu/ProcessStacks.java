package dev.tickwatch.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Where a host process's threads are, for a QEMU that stopped answering: each thread's name,
 * state and kernel wait channel from /proc (proc(5): {@code task/TID/comm}, {@code stat} field 3,
 * {@code wchan}), and, when gdb is installed, its user-space backtraces. Both only read; gdb
 * detaches on exit, and the caller ends the process right afterwards anyway.
 */
public final class ProcessStacks {

    private static final Path GDB = Path.of("/usr/bin/gdb");

    private ProcessStacks() {
    }

    /** One line per thread: {@code tid comm state wchan}; empty when /proc has no such process. */
    public static List<String> threads(long pid) {
        List<String> out = new ArrayList<>();
        Path task = Path.of("/proc", Long.toString(pid), "task");
        try (Stream<Path> s = Files.list(task)) {
            for (Path t : s.sorted().toList()) {
                String comm = read(t.resolve("comm"));
                String stat = read(t.resolve("stat"));
                // stat is "tid (comm) S ...": the state follows the last ')' (comm may hold spaces).
                int close = stat.lastIndexOf(')');
                String state = close > 0 && close + 2 < stat.length() ? stat.substring(close + 2, close + 3) : "?";
                String wchan = read(t.resolve("wchan"));
                out.add(t.getFileName() + " " + comm + " " + state + " " + (wchan.isEmpty() || wchan.equals("0") ? "-" : wchan));
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /**
     * gdb's {@code thread apply all bt} of {@code pid}, at most {@code maxLines} lines; empty when gdb
     * is not installed or does not finish within {@code timeoutMs}.
     */
    public static List<String> backtraces(long pid, int maxLines, long timeoutMs) {
        if (!Files.isExecutable(GDB)) {
            return List.of();
        }
        Process p;
        try {
            p = new ProcessBuilder(GDB.toString(), "-nx", "-batch", "-p", Long.toString(pid),
                    "-ex", "thread apply all bt 16").redirectErrorStream(true).start();
        } catch (IOException e) {
            return List.of();
        }
        try {
            p.getOutputStream().close();
            byte[] bytes;
            if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return List.of();
            }
            bytes = p.getInputStream().readAllBytes();
            List<String> lines = new ArrayList<>();
            for (String l : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
                // Keep the frames and thread headers, not gdb's chatter about libraries and symbols.
                if (l.startsWith("Thread ") || l.startsWith("#")) {
                    lines.add(l.strip());
                    if (lines.size() >= maxLines) {
                        break;
                    }
                }
            }
            return lines;
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p).strip();
        } catch (IOException e) {
            return "";
        }
    }
}
