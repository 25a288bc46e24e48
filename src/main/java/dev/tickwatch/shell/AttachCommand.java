package dev.tickwatch.shell;

import dev.tickwatch.net.Endpoint;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tickwatch attach}: an interactive shell on a running guest over the process's terminal.
 * The shell's own output goes to the terminal's writer; this command only builds the terminal.
 */
@Command(name = "attach", mixinStandardHelpOptions = true,
        description = {"Opens an interactive shell on a running guest: status, verdict, watch, cpus, timers,",
            "jiffies, sym, addr, read, regs, bt, poke, snapshot, pause/resume, qmp, hmp. TAB completes commands,",
            "options, kernel symbols and CPUs. Leaving restores the guest's run state as attach found it.",
            "Example: tickwatch attach --qmp unix:/run/vm/qmp.sock --gdb unix:/run/vm/gdb.sock"})
public final class AttachCommand implements Callable<Integer> {

    /** Kept referenced: java.util.logging holds loggers weakly, and a collected one forgets its level. */
    private static final Logger TICKWATCH_LOG = Logger.getLogger("dev.tickwatch");

    static final class EndpointConverter implements CommandLine.ITypeConverter<Endpoint> {
        @Override
        public Endpoint convert(String value) {
            try {
                return Endpoint.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    @Option(names = "--qmp", required = true, converter = EndpointConverter.class, paramLabel = "ADDR",
            description = "QMP socket: unix:/path or tcp:host:port (QEMU serves one client per monitor)")
    Endpoint qmp;

    @Option(names = "--gdb", converter = EndpointConverter.class, paramLabel = "ADDR",
            description = "gdbstub socket, for regs and bt (connected only inside those commands)")
    Endpoint gdb;

    @Option(names = "--console", paramLabel = "FILE", description = "the guest's serial console log, for verdicts and poke")
    Path console;

    @Option(names = "--history", paramLabel = "FILE",
            description = "history file (default: ~/.cache/tickwatch/shell-history, or under $XDG_CACHE_HOME)")
    Path history;

    @Override
    public Integer call() throws Exception {
        // Sampling warnings (a failed sample while QEMU goes away) would scribble over the prompt:
        // the shell says what matters itself.
        TICKWATCH_LOG.setLevel(Level.SEVERE);
        try (ShellSession session = ShellSession.open(qmp, gdb, console);
                Terminal terminal = TerminalBuilder.builder().name("tickwatch").system(true).dumb(true)
                        .signalHandler(Terminal.SignalHandler.SIG_IGN).build()) {
            return new Shell(terminal, session, history != null ? history : Shell.defaultHistory()).run();
        }
    }
}
