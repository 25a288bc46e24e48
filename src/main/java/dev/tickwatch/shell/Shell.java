package dev.tickwatch.shell;

import dev.tickwatch.command.ExitCode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.Writer;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.Objects;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;
import org.jline.utils.NonBlockingReader;
import picocli.CommandLine;

/**
 * The read-eval loop of {@code tickwatch attach}: a JLine {@link LineReader} over any
 * {@link Terminal} (a real one, or a {@code DumbTerminal} over pipes in tests), the
 * {@link ShellCommands} tree for parsing, help and completion, history in a file, and a prompt
 * with the guest's run state.
 *
 * <p>Ctrl-C at the prompt clears the line; during a command it completes the command's cancel
 * signal (JLine's {@code INT} handler), which the long commands wait on: no thread is interrupted,
 * so no gdbstub pause is cut short before it resumes the VM. A real terminal delivers Ctrl-C as a
 * signal while a command runs; a dumb terminal only sees it in its input (as a signal with ISIG, as
 * the character 0x03 without), so for one the shell reads the input meanwhile and hands what else
 * was typed back to the next prompt.
 */
public final class Shell {

    private final Terminal terminal;
    private final ShellSession session;
    private final LineReader reader;
    private final CommandLine commands;
    private final PrintWriter out;
    private final LineRunner runner;
    private static final int CTRL_C = 3;
    /** The dumb terminal's input watcher while a command runs; null otherwise. */
    private volatile InputWatcher watcher;

    /**
     * @param history the history file (created with its folder), or null for none
     */
    public Shell(Terminal terminal, ShellSession session, Path history) {
        this.terminal = Objects.requireNonNull(terminal, "terminal");
        this.session = Objects.requireNonNull(session, "session");
        this.out = terminal.writer();
        this.commands = ShellCommands.commandLine(session, out, out);
        this.runner = new LineRunner(commands, out, out);
        // Paging suits a person at a real terminal; a dumb one (pipes, tests) gets it with 'set pager on'.
        session.pager(!(terminal instanceof DumbTerminal) && !Terminal.TYPE_DUMB.equals(terminal.getType()));
        DefaultParser parser = new DefaultParser();
        parser.setEofOnUnclosedQuote(true);
        LineReaderBuilder b = LineReaderBuilder.builder().terminal(terminal).appName("tickwatch").parser(parser)
                .completer(ShellCompleter.of(commands, session))
                .option(LineReader.Option.AUTO_FRESH_LINE, true)
                // Bash's way: TAB completes, a second TAB lists; Enter then runs the line as shown
                // (with a menu, Enter would only pick the highlighted entry).
                .option(LineReader.Option.AUTO_MENU, false)
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .option(LineReader.Option.HISTORY_IGNORE_DUPS, true);
        if (history != null) {
            try {
                Files.createDirectories(history.toAbsolutePath().getParent());
            } catch (IOException e) {
                // History is a convenience: without its folder the shell works, forgetting on exit.
            }
            b.variable(LineReader.HISTORY_FILE, history);
        }
        this.reader = b.build();
        session.onNotice(line -> reader.printAbove(line));
    }

    /** The default history file: {@code $XDG_CACHE_HOME/tickwatch/shell-history}, else {@code ~/.cache/...}. */
    public static Path defaultHistory() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("tickwatch").resolve("shell-history");
    }

    /** Turns the pager on or off before {@link #run()} (the default: on for a terminal that is not dumb). */
    public Shell pager(boolean on) {
        session.pager(on);
        return this;
    }

    /**
     * Where the shell's {@code snapshot} puts its folders without {@code --out}:
     * {@code $XDG_STATE_HOME/tickwatch/snapshots}, else {@code ~/.local/state/tickwatch/snapshots}
     * (evidence to keep, not a cache; and not the current folder, which may be a source tree).
     */
    public static Path defaultSnapshots() {
        String xdg = System.getenv("XDG_STATE_HOME");
        Path state = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "state");
        return state.resolve("tickwatch").resolve("snapshots");
    }

    /** The command tree this shell runs (tests compare its usage texts with {@code help}'s). */
    CommandLine commands() {
        return commands;
    }

    String prompt() {
        return "tickwatch [" + session.runState() + "]> ";
    }

    /** Runs until {@code exit} or end of input; leaves the guest as attach found it; returns the last command's exit code. */
    public int run() {
        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, s -> session.cancelCommand());
        int code = ExitCode.OK;
        try {
            out.println("tickwatch: attached to " + session.qmpEndpoint() + " (guest " + session.runState()
                    + (session.gdbEndpoint() == null ? "; no gdbstub: regs needs --gdb, bt reads registers while the guest runs" : "; gdbstub " + session.gdbEndpoint())
                    + "). 'help' lists the commands; TAB completes.");
            out.flush();
            while (!session.exitRequested()) {
                String line;
                try {
                    line = reader.readLine(prompt());
                } catch (UserInterruptException e) {
                    continue;
                } catch (EndOfFileException e) {
                    break;
                }
                if (line.isBlank()) {
                    continue;
                }
                code = execute(line);
            }
            for (String l : session.leave(this::keepPaused)) {
                out.println(l);
            }
            out.flush();
            return code;
        } finally {
            try {
                reader.getHistory().save();
            } catch (IOException e) {
                out.println("tickwatch: history not saved: " + e.getMessage());
            }
            terminal.handle(Terminal.Signal.INT, previous);
            out.flush();
        }
    }

    /**
     * Runs {@code lines} as they come ({@code attach -c}, {@code -x FILE}, or a standard input that
     * is not a terminal): no banner, no prompt, no pager, only the commands' output on {@code out}
     * and their errors on {@code err}; blank lines and lines starting with {@code #} are skipped.
     * Ends at {@code exit} or the last line, leaving the guest as attach found it (a guest the
     * script paused is resumed: there is nobody to ask). Returns the last command's exit code.
     */
    public static int batch(ShellSession session, Iterator<String> lines, PrintWriter out, PrintWriter err) {
        LineRunner runner = new LineRunner(ShellCommands.commandLine(session, out, err), out, err);
        int code = ExitCode.OK;
        while (!session.exitRequested() && lines.hasNext()) {
            String line = lines.next();
            if (line.isBlank() || line.strip().startsWith("#")) {
                continue;
            }
            code = runner.run(line, w -> w, () -> {
                session.newCommand();
                return !session.exitRequested();
            });
            session.refreshState();
        }
        for (String l : session.leave(q -> false)) {
            err.println(l);
        }
        out.flush();
        err.flush();
        return code;
    }

    private int execute(String line) {
        InputWatcher watcher = terminal instanceof DumbTerminal ? new InputWatcher() : null;
        boolean[] first = {true};
        try {
            return runner.run(line, this::pager, () -> {
                // Ctrl-C stops the whole line, as in a shell: the commands after ';' do not run.
                if (!first[0] && (session.cancelled().isDone() || session.exitRequested())) {
                    return false;
                }
                first[0] = false;
                session.newCommand();
                return true;
            });
        } finally {
            if (watcher != null) {
                watcher.stop();
            }
            // A Ctrl-C after the command ended must not cancel the next one.
            session.cancelCommand();
            session.refreshState();
            out.flush();
        }
    }

    /** The terminal's writer through the pager, when it is on and the terminal says how high it is. */
    private Writer pager(Writer to) {
        int height = terminal.getHeight();
        if (!session.pager() || height <= 1) {
            return to;
        }
        return new Pager(to, height, terminal.getWidth(), this::key, session::cancelCommand);
    }

    /** One key for the pager: from the dumb terminal's watcher, or read in raw mode from a real one. */
    private int key() {
        InputWatcher w = watcher;
        if (w != null) {
            return w.key();
        }
        Attributes before = terminal.enterRawMode();
        try {
            NonBlockingReader r = terminal.reader();
            while (!session.cancelled().isDone()) {
                int c = r.read(100);
                if (c == NonBlockingReader.EOF) {
                    return -1;
                }
                if (c >= 0) {
                    return c == CTRL_C ? -1 : c;
                }
            }
            return -1;
        } catch (IOException e) {
            return -1;
        } finally {
            terminal.setAttributes(before);
        }
    }

    private boolean keepPaused(String question) {
        try {
            String answer = reader.readLine(question);
            return answer.strip().toLowerCase(Locale.ROOT).startsWith("y");
        } catch (UserInterruptException | EndOfFileException e) {
            return false; // the default: resume
        }
    }

    /**
     * Reads a dumb terminal's input while a command runs: its read turns Ctrl-C into the INT
     * signal; the pager takes its keys from here; anything else typed is replayed at the next prompt.
     */
    private final class InputWatcher {
        private final BlockingQueue<Integer> typed = new LinkedBlockingQueue<>();
        private final Thread thread;
        private volatile boolean stop;
        private volatile boolean eof;

        InputWatcher() {
            watcher = this;
            thread = new Thread(this::loop, "tickwatch-shell-input");
            thread.setDaemon(true);
            thread.start();
        }

        private void loop() {
            NonBlockingReader r = terminal.reader();
            try {
                while (!stop) {
                    int c = r.read(50);
                    if (c == NonBlockingReader.EOF) {
                        eof = true;
                        return;
                    }
                    if (c == CTRL_C) {
                        // A dumb terminal without ISIG passes Ctrl-C through as a character.
                        session.cancelCommand();
                    } else if (c >= 0) {
                        typed.add(c);
                    }
                }
            } catch (IOException e) {
                eof = true; // The input is gone: the next prompt sees end of input.
            }
        }

        /** The next key typed, or -1 at Ctrl-C or end of input. */
        int key() {
            try {
                while (!session.cancelled().isDone()) {
                    Integer c = typed.poll(50, TimeUnit.MILLISECONDS);
                    if (c != null) {
                        return c;
                    }
                    if (eof) {
                        return -1;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return -1;
        }

        void stop() {
            stop = true;
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            watcher = null;
            StringBuilder rest = new StringBuilder();
            for (Integer c; (c = typed.poll()) != null; ) {
                rest.append((char) c.intValue());
            }
            if (rest.length() > 0) {
                reader.runMacro(rest.toString());
            }
        }
    }
}
