package dev.tickwatch.command;

import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.KernelFiles;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.probe.Console;
import dev.tickwatch.qmp.QmpClient;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Model.CommandSpec;

/**
 * What a shared command gets its guest from. The CLI's ({@link CliContext}) connects from the
 * command's options when first asked and closes on {@link #close()}; the shell's is its attached
 * session, already connected, and closing it leaves the session open. A command opens one with
 * {@link #open(CommandSpec)} and never builds a connection itself, so the same class runs in both.
 */
public interface GuestContext extends AutoCloseable {

    /** The context for the command {@code spec}: its root's, when the root provides one, else the CLI's. */
    static GuestContext open(CommandSpec spec) {
        Object root = spec.root().userObject();
        return root instanceof Provider p ? p.context(spec) : new CliContext(spec);
    }

    /** A command tree's root that hands its commands a context (the shell's). */
    interface Provider {
        GuestContext context(CommandSpec spec);
    }

    /** The QMP connection; throws (a usage error in the CLI) when there is none. */
    QmpClient qmp();

    /**
     * A QMP connection made with {@code options} (a transcript of every frame): the CLI connects
     * with them; the shell's session was connected without, and refuses.
     */
    QmpClient qmp(dev.tickwatch.qmp.QmpOptions options);

    /** Where the QMP connection goes. */
    Endpoint qmpEndpoint();

    /** The gdbstub's address, or null. */
    Endpoint gdbEndpoint();

    /** The guest's serial console, or null. */
    Console console();

    /** The developer's vmlinux / System.map for the guest kernel ({@link KernelFiles#NONE} when none). */
    default KernelFiles kernelFiles() {
        return KernelFiles.NONE;
    }

    /** The guest kernel view; throws with the reason when guest memory is not readable. */
    GuestKernel kernel();

    /** The kernel view if it can be had, else null (registers and LAPIC work without it). */
    GuestKernel kernelOrNull();

    /**
     * The kernel view a new {@code Probe} should share, or null to let the probe attach its own
     * (the CLI's: one command, one probe).
     */
    GuestKernel probeKernel();

    /** Completes when the user asks the running command to stop (Ctrl-C in the shell) or QEMU goes away. */
    CompletableFuture<?> stopRequested();

    /** Whether the user stopped the running command (the shell's Ctrl-C); never in the CLI. */
    boolean cancelled();

    /** The folder {@code snapshot} creates its folder in: {@code out}, or the context's default (the CLI has none). */
    Path snapshotFolder(CommandSpec spec, Path out);

    /** The snapshot {@code report} shows: {@code dir}, or the context's last snapshot (the CLI has none). */
    Path reportFolder(CommandSpec spec, Path dir);

    /** Told after {@code snapshot} wrote {@code bundle}. */
    void snapshotTaken(Path bundle);

    @Override
    void close();
}
