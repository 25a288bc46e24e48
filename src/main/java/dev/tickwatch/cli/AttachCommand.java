package dev.tickwatch.cli;

import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ConsoleOption;
import dev.tickwatch.command.GdbOption;
import dev.tickwatch.command.KernelFilesOption;
import dev.tickwatch.command.QmpOption;
import dev.tickwatch.shell.Shell;
import dev.tickwatch.shell.ShellSession;
import dev.tickwatch.util.Logs;
import dev.tickwatch.command.Commands;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.terminal.spi.SystemStream;
import org.jline.terminal.spi.TerminalProvider;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch attach}: an interactive shell on a running guest over the process's terminal.
 * The shell's own output goes to the terminal's writer; this command only builds the terminal.
 */
@CliOnly("starts the shell")
@Command(name = "attach", mixinStandardHelpOptions = true, modelTransformer = QmpOption.Required.class,
        description = {"Opens an interactive shell on a running guest.",
            "Commands: status, verdict, watch, cpus, timers, tasks, locks, dmesg, jiffies, sym, addr, read, print,"
                + " regs, bt, poke, snapshot, pause/resume, qmp, hmp, set. TAB completes commands, options, kernel"
                + " symbols and CPUs. Leaving restores the guest's run state as attach found it.",
            "Lines pipe and redirect as in crash: 'tasks | grep kworker', 'timers > t.txt', '!ls'.",
            "-c LINE, -x FILE or piped input run lines without the prompt, then exit.",
            "Example: tickwatch attach --qmp unix:/run/vm/qmp.sock --gdb unix:/run/vm/gdb.sock",
            "Batch: tickwatch attach --qmp unix:/run/vm/qmp.sock -c 'cpus; timers'"})
public final class AttachCommand implements Callable<Integer> {

    /** Kept referenced: java.util.logging holds loggers weakly, and a collected one forgets its level. */
    private static final Logger TICKWATCH_LOG = Logger.getLogger("dev.tickwatch");

    /** QEMU serves one client per monitor: give the shell a socket of its own (the lab's second one). */
    @Mixin
    QmpOption qmp;

    /** Connected only inside {@code regs} and {@code bt}. */
    @Mixin
    GdbOption gdb;

    /** For verdicts and {@code poke}. */
    @Mixin
    ConsoleOption console;

    /** Symbols and types for a kernel whose memory lacks them; every shell command uses them. */
    @Mixin
    KernelFilesOption kernelFiles;

    @Spec
    CommandSpec spec;

    @Option(names = "--history", paramLabel = "FILE",
            description = "history file; by default shell-history in ~/.cache/tickwatch or in $XDG_CACHE_HOME")
    Path history;

    @Option(names = {"-c", "--command"}, paramLabel = "LINE",
            description = "run this shell line and exit, printing only its output; commands are separated by ';';"
                    + " may repeat; exits with the last command's code")
    List<String> commands;

    @Option(names = {"-x", "--script"}, paramLabel = "FILE",
            description = "run the shell lines in FILE and exit, as -c does; '#' starts a comment")
    Path script;

    @Override
    public Integer call() throws Exception {
        if (commands != null && script != null) {
            throw Commands.usage(spec, "either -c or -x, not both");
        }
        Iterator<String> batch = null;
        if (commands != null) {
            batch = commands.iterator();
        } else if (script != null) {
            batch = Files.readAllLines(script, StandardCharsets.UTF_8).iterator();
        } else if (!isTerminal(SystemStream.Input)) {
            // 'echo timers | tickwatch attach ...': the lines come from the pipe, as they would from -x.
            batch = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).lines().iterator();
        }
        if (batch != null) {
            if (!Logs.verbose()) {
                TICKWATCH_LOG.setLevel(Level.SEVERE);
            }
            try (ShellSession session = ShellSession.open(qmp.endpoint(), gdb.endpoint(), console.file(),
                    KernelFilesOption.of(spec))) {
                return Shell.batch(session, batch, spec.commandLine().getOut(), spec.commandLine().getErr());
            }
        }
        // Sampling warnings (a failed sample while QEMU goes away) would scribble over the prompt:
        // the shell says what matters itself.
        // (--verbose asks for everything, prompt or not.)
        if (!Logs.verbose()) {
            TICKWATCH_LOG.setLevel(Level.SEVERE);
        }
        try (ShellSession session = ShellSession.open(qmp.endpoint(), gdb.endpoint(), console.file(),
                KernelFilesOption.of(spec));
                Terminal terminal = TerminalBuilder.builder().name("tickwatch").system(true).dumb(true)
                        .signalHandler(Terminal.SignalHandler.SIG_IGN).build()) {
            Shell shell = new Shell(terminal, session, history != null ? history : Shell.defaultHistory());
            if (!isTerminal(SystemStream.Output)) {
                shell.pager(false); // 'attach | tee log': the output is not a screen to page
            }
            return shell.run();
        }
    }

    /** Whether a standard stream is a terminal, as JLine's native or exec provider sees it (Java 17 has no isatty). */
    private static boolean isTerminal(SystemStream stream) {
        for (String provider : new String[] {"jni", "exec"}) {
            try {
                return TerminalProvider.load(provider).isSystemStream(stream);
            } catch (Exception | LinkageError e) {
                // Try the next provider.
            }
        }
        return System.console() != null;
    }
}
