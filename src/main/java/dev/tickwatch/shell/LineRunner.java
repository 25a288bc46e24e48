package dev.tickwatch.shell;

import dev.tickwatch.command.ExitCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import picocli.CommandLine;

/**
 * Runs one shell line ({@link ShellLine}) on the command tree: each tickwatch command with its
 * output going where the line says (the terminal, through the pager when it is on; a host
 * pipeline; a file), host commands through {@code /bin/sh -c}, and an unknown command name
 * answered with the nearest names. Errors of the commands go to {@code err} unpaged and unpiped,
 * as a shell's stderr does. Used by the interactive shell and by batch runs alike.
 */
final class LineRunner {

    /** Names further than this many edits from every command get no suggestion. */
    private static final int MAX_EDITS = 2;

    private final CommandLine commands;
    private final PrintWriter out;
    private final PrintWriter err;

    LineRunner(CommandLine commands, PrintWriter out, PrintWriter err) {
        this.commands = commands;
        this.out = out;
        this.err = err;
    }

    /**
     * Runs {@code line}; returns the exit code of its last command ({@link ExitCode}: a host
     * command that fails is {@link ExitCode#CANNOT_TEST}, a line that does not parse or names no
     * command is {@link ExitCode#USAGE}).
     *
     * @param pager wraps the terminal's writer for a command whose output goes there (the identity: no pager)
     * @param each  asked before each command (the shell gives it a fresh cancel signal); false stops the line
     */
    int run(String line, UnaryOperator<Writer> pager, BooleanSupplier each) {
        ShellLine parsed;
        try {
            parsed = ShellLine.parse(line);
        } catch (IllegalArgumentException e) {
            err.println("tickwatch: " + e.getMessage());
            err.flush();
            return ExitCode.USAGE;
        }
        int code = ExitCode.OK;
        for (ShellLine.Step s : parsed.steps()) {
            if (!each.getAsBoolean()) {
                break;
            }
            code = s.isHost() ? host(s.host()) : command(s, pager);
        }
        return code;
    }

    private int command(ShellLine.Step s, UnaryOperator<Writer> pager) {
        if (s.words().isEmpty()) {
            err.println("tickwatch: no command before " + (s.pipe() != null ? "'|'" : "'>'"));
            err.flush();
            return ExitCode.USAGE;
        }
        String name = s.words().get(0);
        if (!commands.getSubcommands().containsKey(name)) {
            err.println(unknown(name));
            err.flush();
            return ExitCode.USAGE;
        }
        String[] args = s.words().toArray(String[]::new);
        try {
            if (s.pipe() != null) {
                return piped(args, s.pipe());
            }
            if (s.file() != null) {
                return toFile(args, Path.of(s.file()), s.append());
            }
            Writer w = pager.apply(out);
            return execute(args, w == out ? out : new PrintWriter(w));
        } catch (IOException e) {
            err.println("tickwatch: " + (s.file() != null ? s.file() + ": " : "") + e.getMessage());
            err.flush();
            return ExitCode.CANNOT_TEST;
        } catch (UncheckedIOException e) {
            err.println("tickwatch: " + e.getCause().getMessage());
            err.flush();
            return ExitCode.CANNOT_TEST;
        }
    }

    private int execute(String[] args, PrintWriter to) {
        commands.setOut(to);
        try {
            return commands.execute(args);
        } finally {
            to.flush();
            commands.setOut(out);
            out.flush();
        }
    }

    /** {@code > FILE}: written to a temporary file beside it, renamed over it at the end (never half a file). */
    private int toFile(String[] args, Path file, boolean append) throws IOException {
        if (append) {
            try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE))) {
                return execute(args, w);
            }
        }
        Path abs = file.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            throw new IOException("is a folder");
        }
        Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
        try {
            int code;
            try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(tmp, StandardCharsets.UTF_8))) {
                code = execute(args, w);
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return code;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** {@code | REST}: the output streams into {@code /bin/sh -c REST}, whose output streams to the terminal. */
    private int piped(String[] args, String pipeline) throws IOException {
        Process p = new ProcessBuilder("/bin/sh", "-c", pipeline).redirectErrorStream(true).start();
        Thread pump = pump(p.getInputStream());
        int code;
        try (PrintWriter w = new PrintWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8))) {
            // A host command that stops reading early (head) only makes the rest go nowhere.
            code = execute(args, w);
        }
        waitFor(p, pump);
        return code;
    }

    /** {@code !CMD}: the host shell, its output to the terminal; its failure is {@link ExitCode#CANNOT_TEST}. */
    private int host(String command) {
        try {
            Process p = new ProcessBuilder("/bin/sh", "-c", command).redirectErrorStream(true).start();
            p.getOutputStream().close(); // no input: the shell's terminal stays the shell's
            Thread pump = pump(p.getInputStream());
            int rc = waitFor(p, pump);
            return rc == 0 ? ExitCode.OK : ExitCode.CANNOT_TEST;
        } catch (IOException e) {
            err.println("tickwatch: cannot run /bin/sh: " + e.getMessage());
            err.flush();
            return ExitCode.CANNOT_TEST;
        }
    }

    private Thread pump(InputStream from) {
        Thread t = new Thread(() -> {
            try (Reader r = new InputStreamReader(from, StandardCharsets.UTF_8)) {
                char[] buf = new char[8192];
                int n;
                while ((n = r.read(buf)) >= 0) {
                    synchronized (out) {
                        out.write(buf, 0, n);
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // The host command went away: what it printed is shown.
            }
        }, "tickwatch-shell-pipe");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static int waitFor(Process p, Thread pump) {
        try {
            int rc = p.waitFor();
            pump.join();
            return rc;
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** {@code unknown command 'cpsu'; did you mean cpus?}, or where the list is. */
    String unknown(String name) {
        List<String> near = nearest(name, new ArrayList<>(commands.getSubcommands().keySet()));
        return "tickwatch: unknown command '" + name + "'"
                + (near.isEmpty() ? "; 'help' lists the commands" : "; did you mean " + String.join(" or ", near) + "?");
    }

    /** The commands nearest to {@code name}: those it is the only prefix of, else the fewest edits away. */
    static List<String> nearest(String name, List<String> names) {
        String n = name.toLowerCase(Locale.ROOT);
        List<String> prefixed = names.stream().filter(c -> c.startsWith(n)).toList();
        if (prefixed.size() == 1 && n.length() >= 2) {
            return prefixed;
        }
        int best = names.stream().mapToInt(c -> edits(n, c)).min().orElse(Integer.MAX_VALUE);
        if (best > Math.min(MAX_EDITS, Math.max(1, n.length() / 2))) {
            return List.of();
        }
        return names.stream().filter(c -> edits(n, c) == best).sorted(Comparator.naturalOrder()).toList();
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
    static int edits(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) != b.charAt(j - 1) ? 1 : 0;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
