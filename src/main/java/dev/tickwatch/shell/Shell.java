package dev.tickwatch.shell;

import dev.tickwatch.cli.ExitCode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
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

    /**
     * @param history the history file (created with its folder), or null for none
     */
    public Shell(Terminal terminal, ShellSession session, Path history) {
        this.terminal = Objects.requireNonNull(terminal, "terminal");
        this.session = Objects.requireNonNull(session, "session");
        this.out = terminal.writer();
        this.commands = ShellCommands.commandLine(session, out);
        DefaultParser parser = new DefaultParser();
        parser.setEofOnUnclosedQuote(true);
        LineReaderBuilder b = LineReaderBuilder.builder().terminal(terminal).appName("tickwatch").parser(parser)
                .completer(new ShellCompleter(commands, session))
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

    String prompt() {
        return "tickwatch [" + session.runState() + "]> ";
    }

    /** Runs until {@code exit} or end of input; leaves the guest as attach found it; returns the exit code. */
    public int run() {
        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, s -> session.cancelCommand());
        try {
            out.println("tickwatch: attached to " + session.qmpEndpoint() + " (guest " + session.runState()
                    + (session.gdbEndpoint() == null ? "; no gdbstub: regs and bt need --gdb" : "; gdbstub " + session.gdbEndpoint())
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
                List<String> words = reader.getParsedLine().words().stream().filter(w -> !w.isEmpty()).toList();
                if (line.isBlank() || words.isEmpty()) {
                    continue;
                }
                execute(words);
            }
            for (String l : session.leave(this::keepPaused)) {
                out.println(l);
            }
            out.flush();
            return ExitCode.OK;
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

    private void execute(List<String> words) {
        session.newCommand();
        InputWatcher watcher = terminal instanceof DumbTerminal ? new InputWatcher() : null;
        try {
            commands.execute(words.toArray(String[]::new));
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
     * signal; anything else typed is replayed at the next prompt.
     */
    private final class InputWatcher {
        private static final int CTRL_C = 3;
        private final StringBuilder typed = new StringBuilder();
        private final Thread thread;
        private volatile boolean stop;

        InputWatcher() {
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
                        return;
                    }
                    if (c == CTRL_C) {
                        // A dumb terminal without ISIG passes Ctrl-C through as a character.
                        session.cancelCommand();
                    } else if (c >= 0) {
                        typed.append((char) c);
                    }
                }
            } catch (IOException e) {
                // The input is gone: the next prompt sees end of input.
            }
        }

        void stop() {
            stop = true;
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (typed.length() > 0) {
                reader.runMacro(typed.toString());
            }
        }
    }
}
