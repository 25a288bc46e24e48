package dev.tickwatch.shell;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.command.GuestContext;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.KernelFiles;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.probe.Console;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpOptions;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The shared commands' view of the attached {@link ShellSession}: already connected, shared by
 * every command, and left open when a command closes its context. Ctrl-C and QEMU going away stop
 * a long command; {@code snapshot} defaults to {@link Shell#defaultSnapshots()}, {@code report} to the last
 * snapshot.
 */
final class SessionContext implements GuestContext {

    private final ShellSession session;

    SessionContext(ShellSession session) {
        this.session = session;
    }

    @Override
    public QmpClient qmp() {
        return session.qmp();
    }

    @Override
    public QmpClient qmp(QmpOptions options) {
        throw new TickwatchException("the shell's QMP connection was made without a transcript:"
                + " record one with 'tickwatch qmp --transcript FILE' outside the shell");
    }

    @Override
    public Endpoint qmpEndpoint() {
        return session.qmpEndpoint();
    }

    @Override
    public Endpoint gdbEndpoint() {
        return session.gdbEndpoint();
    }

    @Override
    public Console console() {
        return session.console();
    }

    @Override
    public KernelFiles kernelFiles() {
        return session.kernelFiles();
    }

    @Override
    public GuestKernel kernel() {
        return session.kernel();
    }

    @Override
    public GuestKernel kernelOrNull() {
        return session.kernelOrNull();
    }

    @Override
    public GuestKernel probeKernel() {
        return session.kernelOrNull();
    }

    @Override
    public CompletableFuture<?> stopRequested() {
        return CompletableFuture.anyOf(session.goneFuture(), session.cancelled());
    }

    @Override
    public boolean cancelled() {
        return session.cancelled().isDone();
    }

    @Override
    public Path snapshotFolder(CommandSpec spec, Path out) {
        return (out != null ? out : Shell.defaultSnapshots()).toAbsolutePath();
    }

    @Override
    public Path reportFolder(CommandSpec spec, Path dir) {
        Path d = dir != null ? dir : session.lastSnapshot();
        if (d == null) {
            throw new TickwatchException("no snapshot taken in this shell: 'report DIR', or 'snapshot' first");
        }
        return d;
    }

    @Override
    public void snapshotTaken(Path bundle) {
        session.lastSnapshot(bundle);
    }

    @Override
    public void close() {
        // The session outlives the command.
    }
}
