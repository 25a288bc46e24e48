package dev.tickwatch.shell;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.probe.Console;
import dev.tickwatch.gdb.GdbClient;
import dev.tickwatch.gdb.GdbOptions;
import dev.tickwatch.gdb.GdbPause;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.KernelFiles;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpStatus;
import dev.tickwatch.verdict.Decision;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * What one {@code tickwatch attach} holds on the guest: the QMP connection, the gdbstub's address
 * (connected only inside {@code regs} and {@code bt}), the guest kernel view (attached once, in the
 * background, for completion and every command), the run state shown in the prompt, and what the
 * user did to it, so that leaving restores what attach found.
 *
 * <p>The run state follows QMP's {@code STOP}/{@code RESUME} events and a {@code query-status} after
 * every command; the QMP connection closing means QEMU went away ({@link #GONE_LINE}, said once).
 * The shared commands see it through {@link SessionContext}.
 *
 * <p>Over 300 lines because the run state, the user's pause, the shutdown hook that undoes it and
 * leaving are one piece of state that must change together; split, each part would need the others'
 * fields.
 */
public final class ShellSession implements AutoCloseable {

    /** Said once when QEMU goes away under the shell. */
    public static final String GONE_LINE =
            "tickwatch: QEMU went away (QMP connection closed); exit, or 'report' the last snapshot";
    static final Duration STATUS_TIMEOUT = Duration.ofSeconds(2);

    private final QmpClient qmp;
    private final Endpoint gdb;
    private final Console console;
    private final boolean pausedAtAttach;
    private final AtomicBoolean gone = new AtomicBoolean();
    private final CompletableFuture<Void> goneFuture = new CompletableFuture<>();
    private final AutoCloseable events;
    private volatile boolean closing;
    private volatile String runState;
    /** The user said {@code pause} (and no {@code resume} since): leaving asks whether to keep it. */
    private volatile boolean pausedByUser;
    /** The user said {@code pause} or {@code resume} at least once. */
    private volatile boolean touchedRunState;
    private volatile Consumer<String> notices = s -> { };
    private volatile CompletableFuture<Void> cancel = CompletableFuture.completedFuture(null);
    private volatile Path lastSnapshot;
    private volatile boolean exitRequested;
    /** {@code set pager on|off}; the shell sets the default from its terminal. */
    private volatile boolean pager;
    private volatile Decision lastDecision;
    private volatile long lastDecisionWallMs;
    private GuestKernel kernel;
    private volatile KernelFiles kernelFiles = KernelFiles.NONE;
    private String kernelProblem;
    private int cpuCount = -1;
    private final Thread resumeHook;

    private ShellSession(QmpClient qmp, Endpoint gdb, Console console) {
        this.qmp = qmp;
        this.gdb = gdb;
        this.console = console;
        QmpStatus st = qmp.queryStatus();
        this.runState = label(st.status());
        this.pausedAtAttach = !st.running();
        this.events = qmp.addEventListener(e -> {
            switch (e.name()) {
                case "STOP" -> runState = "paused";
                case "RESUME" -> runState = "running";
                case "SHUTDOWN" -> runState = "shutdown";
                case "GUEST_PANICKED" -> runState = "guest-panicked";
                default -> {
                }
            }
        });
        qmp.closeFuture().whenCompleteAsync((v, e) -> wentAway());
        // A shell killed while the user's 'pause' holds the guest would leave it paused: resume it.
        this.resumeHook = new Thread(() -> {
            if (pausedByUser && !gone.get() && qmp.isOpen()) {
                try {
                    qmp.cont();
                } catch (TickwatchException e) {
                    // Nothing more to do while the JVM goes down.
                }
            }
        }, "tickwatch-shell-resume");
        Runtime.getRuntime().addShutdownHook(resumeHook);
    }

    /**
     * Connects to QMP and starts attaching to the guest kernel in the background.
     *
     * @param gdb     the gdbstub, or null (then {@code regs} and {@code bt} explain they need it)
     * @param console the guest's serial console log, or null
     */
    public static ShellSession open(Endpoint qmpEndpoint, Endpoint gdb, Path console) {
        return open(qmpEndpoint, gdb, console, KernelFiles.NONE);
    }

    /** Like {@link #open(Endpoint, Endpoint, Path)}, attaching with the developer's vmlinux / System.map. */
    public static ShellSession open(Endpoint qmpEndpoint, Endpoint gdb, Path console, KernelFiles files) {
        QmpClient q = QmpClient.connect(qmpEndpoint);
        try {
            ShellSession s = new ShellSession(q, gdb, console == null ? null : new Console(console));
            s.kernelFiles = files;
            Thread t = new Thread(() -> {
                try {
                    s.kernel();
                } catch (TickwatchException e) {
                    // Said when a command needs the kernel; completion just offers no symbols.
                }
            }, "tickwatch-shell-attach");
            t.setDaemon(true);
            t.start();
            return s;
        } catch (RuntimeException e) {
            q.close();
            throw e;
        }
    }

    private static String label(String status) {
        // 'debug' is a gdbstub stop; 'prelaunch' and 'suspended' do not run either: all are paused to the user.
        switch (status) {
            case "running":
                return "running";
            case "paused":
            case "debug":
            case "prelaunch":
            case "suspended":
            case "inmigrate":
            case "postmigrate":
            case "save-vm":
            case "restore-vm":
                return "paused";
            default:
                return status;
        }
    }

    private void wentAway() {
        if (closing || !gone.compareAndSet(false, true)) {
            return;
        }
        runState = "gone";
        goneFuture.complete(null);
        notices.accept(GONE_LINE);
    }

    /** Where asynchronous one-line notices go (the gone line): the shell prints them above the prompt. */
    void onNotice(Consumer<String> sink) {
        this.notices = sink;
    }

    // ---- state ----

    /** {@code running}, {@code paused}, {@code gone}, or QEMU's status name (shutdown, guest-panicked, ...). */
    public String runState() {
        return runState;
    }

    public boolean isGone() {
        return gone.get();
    }

    /** Completes when QEMU goes away. */
    public CompletableFuture<Void> goneFuture() {
        return goneFuture;
    }

    /** Asks QEMU for the run state (after a command: a gdbstub pause or a QMP command may have changed it). */
    void refreshState() {
        if (gone.get() || !qmp.isOpen()) {
            return;
        }
        try {
            QmpStatus st = parseStatus(qmp.execute("query-status", null, STATUS_TIMEOUT));
            runState = label(st.status());
        } catch (TickwatchException e) {
            // Keep what the events said; the close listener tells if QEMU is gone.
        }
    }

    private static QmpStatus parseStatus(com.fasterxml.jackson.databind.JsonNode n) {
        return new QmpStatus(n.path("status").asText(), n.path("running").asBoolean());
    }

    public boolean pausedAtAttach() {
        return pausedAtAttach;
    }

    public boolean pausedByUser() {
        return pausedByUser;
    }

    /** The QMP connection; throws when QEMU is gone. */
    public QmpClient qmp() {
        if (gone.get() || !qmp.isOpen()) {
            throw new TickwatchException("QEMU is gone (QMP connection closed): 'exit', or 'report' the last snapshot");
        }
        return qmp;
    }

    public Endpoint qmpEndpoint() {
        return qmp.endpoint();
    }

    /** The gdbstub's address, or null. */
    public Endpoint gdbEndpoint() {
        return gdb;
    }

    /** The vmlinux / System.map the session attaches with. */
    public KernelFiles kernelFiles() {
        return kernelFiles;
    }

    /** The console log, or null. */
    public Console console() {
        return console;
    }

    /** The kernel view, attaching now if needed; throws with the reason when guest memory is not readable. */
    public synchronized GuestKernel kernel() {
        if (kernel == null) {
            try {
                kernel = GuestKernel.attach(qmp(), null, kernelFiles);
                kernelProblem = null;
            } catch (TickwatchException e) {
                kernelProblem = e.getMessage();
                throw new TickwatchException("guest kernel not readable: " + e.getMessage(), e);
            }
        }
        return kernel;
    }

    /** The kernel view if it can be had, else null (verdicts and snapshots then work from registers). */
    public GuestKernel kernelOrNull() {
        try {
            return gone.get() ? null : kernel();
        } catch (TickwatchException e) {
            return null;
        }
    }

    /** The kernel view if already attached: completion never waits on an attach. */
    synchronized GuestKernel attachedKernel() {
        return kernel;
    }

    synchronized String kernelProblem() {
        return kernelProblem;
    }

    /** vCPUs (query-cpus-fast), remembered; -1 when unknown. */
    public synchronized int cpuCount() {
        if (cpuCount < 0 && !gone.get()) {
            try {
                cpuCount = qmp().queryCpusFast().size();
            } catch (TickwatchException e) {
                return -1;
            }
        }
        return cpuCount;
    }

    // ---- what the user does to the run state ----

    void pauseByUser() {
        qmp().stop();
        pausedByUser = true;
        touchedRunState = true;
        runState = "paused";
    }

    void resumeByUser() {
        qmp().cont();
        pausedByUser = false;
        touchedRunState = true;
        runState = "running";
    }

    /**
     * Connects to the gdbstub, pauses the VM, runs {@code body}, and resumes (the pause scope and
     * the client's close do that on every exit path; QMP {@code cont} if the stub connection dies).
     */
    <T> T withGdbPause(String command, Function<GdbClient, T> body) {
        requireGdb(command);
        QmpClient q = qmp();
        try (GdbClient g = GdbClient.connect(gdb, GdbOptions.builder()
                .fallbackResume(q::contAsync).build());
                GdbPause paused = g.pause()) {
            return body.apply(g);
        }
    }

    /** Says, before any other work, that {@code command} needs {@code --gdb}. */
    void requireGdb(String command) {
        if (gdb == null) {
            throw new TickwatchException("'" + command + "' reads registers through the gdbstub:"
                    + " attach with --gdb ADDR (QEMU started with -gdb ..., e.g. -gdb unix:/path/gdb.sock,server=on,wait=off)");
        }
    }

    // ---- per command ----

    /** A fresh cancel signal for the command about to run; Ctrl-C completes it. */
    CompletableFuture<Void> newCommand() {
        cancel = new CompletableFuture<>();
        return cancel;
    }

    /** Completes when the user presses Ctrl-C during the running command. */
    public CompletableFuture<Void> cancelled() {
        return cancel;
    }

    void cancelCommand() {
        cancel.complete(null);
    }

    void requestExit() {
        exitRequested = true;
    }

    boolean exitRequested() {
        return exitRequested;
    }

    boolean pager() {
        return pager;
    }

    void pager(boolean on) {
        this.pager = on;
    }

    /** The last verdict a command of this shell reached, or null. */
    Decision lastDecision() {
        return lastDecision;
    }

    /** Wall-clock ms when {@link #lastDecision()} was reached. */
    long lastDecisionWallMs() {
        return lastDecisionWallMs;
    }

    void lastDecision(Decision d) {
        if (d != null) {
            this.lastDecisionWallMs = System.currentTimeMillis();
            this.lastDecision = d;
        }
    }

    public Path lastSnapshot() {
        return lastSnapshot;
    }

    void lastSnapshot(Path bundle) {
        this.lastSnapshot = bundle;
    }

    // ---- leaving ----

    /**
     * Leaves the guest as attach found it: running, unless it was paused then (and the user did not
     * touch the run state) or the user paused it and {@code keepPaused} confirms it should stay so.
     * Returns what was done, for one line of output; empty when nothing needed doing.
     *
     * @param keepPaused asked only when the user paused the guest; the answer true keeps it paused
     */
    List<String> leave(Predicate<String> keepPaused) {
        if (gone.get() || !qmp.isOpen()) {
            return List.of();
        }
        QmpStatus st;
        try {
            st = parseStatus(qmp.execute("query-status", null, STATUS_TIMEOUT));
        } catch (TickwatchException e) {
            return List.of("tickwatch: cannot read the guest's run state (" + e.getMessage() + "); left as it is");
        }
        if (st.running() || !"paused".equals(label(st.status()))) {
            return List.of();
        }
        if (pausedByUser) {
            if (keepPaused.test("The guest is paused (you paused it). Leave it paused? [y/N] ")) {
                pausedByUser = false; // confirmed: the shutdown hook must not undo it
                return List.of("tickwatch: the guest stays paused");
            }
        } else if (pausedAtAttach && !touchedRunState) {
            return List.of("tickwatch: the guest stays paused, as it was at attach");
        }
        try {
            qmp.cont();
            pausedByUser = false;
            return List.of("tickwatch: resumed the guest");
        } catch (TickwatchException e) {
            return List.of("tickwatch: could not resume the guest: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        closing = true;
        try {
            events.close();
        } catch (Exception e) {
            // Only a listener list entry.
        }
        synchronized (this) {
            if (kernel != null) {
                kernel.close();
            }
        }
        qmp.close();
        try {
            Runtime.getRuntime().removeShutdownHook(resumeHook);
        } catch (IllegalStateException e) {
            // The JVM is going down already; the hook runs and finds nothing to do.
        }
    }
}
