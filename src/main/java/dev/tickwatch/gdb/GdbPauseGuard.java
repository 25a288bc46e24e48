package dev.tickwatch.gdb;

import dev.tickwatch.CommandTimeoutException;
import dev.tickwatch.ConnectionException;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.util.Futures;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The VM's run state as one gdbstub connection sees it, and the rule that whatever ends a pause
 * we took resumes the VM. QEMU 7.2 pauses the VM when a client attaches, resumes it on {@code D},
 * and leaves it paused when a client just goes away; a byte sent while the VM runs is eaten (it
 * only stops the VM), so a packet goes out only after {@code 0x03} and its stop reply.
 *
 * <p>Ways out of a pause of ours, each resuming: the {@link GdbPause} scope's close
 * ({@code vCont;c}), the client's close and the JVM shutdown hook (both through {@link #detach},
 * the one {@code D} routine), and the loss of the connection, including a request's timeout,
 * which closes it: then {@link GdbOptions#fallbackResume()} runs, as the stub cannot be reached.
 * A VM that was paused when we came is not ours and is left paused: closing without {@code D},
 * because QEMU's {@code D} resumes the VM whoever paused it.
 */
final class GdbPauseGuard {

    private static final System.Logger LOG = System.getLogger(GdbPauseGuard.class.getName());
    /** How long the shutdown hook waits for each of {@code D} and the fallback. */
    static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(1);

    private final GdbConnection conn;
    private final GdbOptions options;
    /** A {@code c} is in flight: the VM runs. */
    private volatile boolean running;
    /** The VM is stopped because of us (the attach, an interrupt we sent): we owe it a resume. */
    private volatile boolean stoppedByUs;
    /** The next stop reply to our {@code c} is one we caused. */
    private volatile boolean interruptSent;
    private volatile boolean closing;
    /** The last {@code c} sent; its answer is the next stop. */
    private volatile GdbRequest run;
    private volatile CompletableFuture<?> fallbackResume;
    private volatile String continueCommand = "c";
    private volatile String detachCommand = "D";
    private GdbPause activePause;
    private Thread hook;

    GdbPauseGuard(GdbConnection conn) {
        this.conn = conn;
        this.options = conn.options();
    }

    /**
     * The attach is done: resumes the VM if the attach stopped it, then installs the shutdown hook.
     *
     * @param stoppedByAttach whether QEMU announced that the attach stopped a running VM
     * @param continueCommand {@code vCont;c} or {@code c}
     * @param detachCommand   {@code D}, or {@code D;pid} in multiprocess mode (QEMU 7.2 answers E22 to a plain D then)
     */
    void attached(boolean stoppedByAttach, String continueCommand, String detachCommand) {
        this.continueCommand = continueCommand;
        this.detachCommand = detachCommand;
        stoppedByUs = stoppedByAttach;
        if (stoppedByUs) {
            resume();
        }
        if (options.shutdownHook()) {
            hook = new Thread(this::emergencyRelease, "tickwatch-gdb-release");
            Runtime.getRuntime().addShutdownHook(hook);
        }
    }

    boolean isRunning() {
        return running;
    }

    boolean pausedByUs() {
        return stoppedByUs;
    }

    CompletableFuture<?> fallbackResume() {
        return fallbackResume;
    }

    void requireStopped(String what) {
        if (running) {
            throw new IllegalStateException("the VM is running: pause() before '" + what + "'");
        }
    }

    private void requireOpen(String what) {
        if (closing || !conn.isOpen()) {
            throw new ConnectionException("not connected to " + conn.endpoint() + " (cannot " + what + ")");
        }
    }

    // ---- the scope ----

    GdbPause pause() {
        synchronized (this) {
            if (activePause != null) {
                throw new IllegalStateException("already paused: pauses do not nest");
            }
            requireOpen("pause");
            boolean ours;
            if (running) {
                interrupt();
                ours = true;
            } else {
                ours = stoppedByUs;
            }
            activePause = new GdbPause(this, ours);
            return activePause;
        }
    }

    void release(GdbPause p) {
        synchronized (this) {
            if (activePause == p) {
                activePause = null;
            }
            if (!p.ours() || !stoppedByUs || !conn.isOpen()) {
                return;
            }
            try {
                resume();
            } catch (TickwatchException e) {
                // The connection went while resuming: connectionGone resumes through the fallback.
                LOG.log(System.Logger.Level.WARNING, "cannot resume through the gdbstub: {0}", e.getMessage());
            }
        }
    }

    // ---- run control ----

    /** Sends {@code 0x03} while the VM runs and waits for the stop reply; does nothing when it is stopped. */
    void interrupt() {
        GdbRequest r = run;
        if (r == null || r.future.isDone()) {
            return;
        }
        interruptSent = true;
        conn.writeInterrupt();
        try {
            r.future.get(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            conn.abort();
            throw new CommandTimeoutException("GDB", "interrupt (0x03)", options.requestTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TickwatchException("interrupted", e);
        } catch (ExecutionException e) {
            // A stop reply that is an error still stopped nothing we know of: report it.
            throw Futures.unwrap(e.getCause());
        }
    }

    /** Continues every vCPU; returns once the stub took the packet (its '+': no reply comes until the next stop). */
    void resume() {
        requireOpen("continue");
        if (running) {
            return;
        }
        String cmd = continueCommand;
        // Noted before it is sent: the stub may take it and go away before send returns.
        GdbRequest r = new GdbRequest(cmd, GdbRequest.Kind.RUN, options.requestTimeout(), this::onStopAfterRun);
        run = r;
        running = true;
        conn.send(r);
        try {
            CompletableFuture.anyOf(r.accepted, r.future).get(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            conn.abort();
            throw new CommandTimeoutException("GDB", cmd + " (acknowledgment)", options.requestTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TickwatchException("interrupted", e);
        } catch (ExecutionException e) {
            throw Futures.unwrap(e.getCause());
        }
        if (r.future.isCompletedExceptionally() && !r.accepted.isDone()) {
            Futures.await(r.future);
        }
        stoppedByUs = false;
    }

    /** On the event loop, before the {@code c} request completes: the VM stopped, because of us if we sent 0x03. */
    private void onStopAfterRun(byte[] reply) {
        running = false;
        stoppedByUs = interruptSent;
        interruptSent = false;
    }

    /**
     * The one {@code D}: stops a running VM first (a packet sent while it runs would lose its
     * {@code $}), then detaches; QEMU resumes the VM.
     */
    void detach(Duration timeout) {
        if (running) {
            interrupt();
        }
        GdbRequest d = conn.send(detachCommand, GdbRequest.Kind.REPLY, timeout, null);
        try {
            d.future.get(timeout.toMillis() + 500, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            conn.abort();
            throw new CommandTimeoutException("GDB", detachCommand, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TickwatchException("interrupted", e);
        } catch (ExecutionException e) {
            throw Futures.unwrap(e.getCause());
        }
        stoppedByUs = false;
        running = false;
    }

    // ---- ends ----

    /**
     * Ends the session leaving the VM as we found it: detaches when the VM runs or we paused it,
     * closes without {@code D} when it was paused before we came. When {@code D} fails the VM may
     * still be ours: closing the connection then runs the fallback.
     */
    void close() {
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            activePause = null;
        }
        try {
            if (conn.isOpen() && (running || stoppedByUs)) {
                detach(options.requestTimeout());
            }
        } catch (TickwatchException e) {
            LOG.log(System.Logger.Level.WARNING, "detach from " + conn.endpoint() + " failed: " + e.getMessage());
        } finally {
            conn.close();
            removeHook();
        }
    }

    private void removeHook() {
        Thread h = hook;
        if (h != null && Thread.currentThread() != h) {
            try {
                Runtime.getRuntime().removeShutdownHook(h);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs anyway and finds nothing to do
            }
        }
    }

    /**
     * The shutdown hook: resume what we paused, by {@code D} while the stub answers, else by the
     * fallback (closing the connection starts it), waiting a little for either. Takes no lock: the
     * thread that holds it may be the one blocked in the stub.
     */
    void emergencyRelease() {
        if (!stoppedByUs || !conn.isOpen()) {
            return;
        }
        try {
            detach(SHUTDOWN_TIMEOUT);
        } catch (RuntimeException e) {
            conn.abort();
            try {
                conn.closeFuture().get(SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                CompletableFuture<?> f = fallbackResume;
                if (f != null) {
                    f.get(SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException ignored) {
                // logged by connectionGone; nothing more can be done while the JVM exits
            }
        }
    }

    /**
     * The connection is gone (on its event loop, whatever closed it). If the VM is paused because
     * of us, resume it the other way, if we were given one.
     */
    void connectionGone() {
        GdbRequest last = run;
        if (running && last != null && last.accepted.isDone()) {
            // The stub took our continue before it went (both seen on this event loop): the VM runs.
            stoppedByUs = false;
            return;
        }
        if (!stoppedByUs) {
            return;
        }
        VmResumer resumer = options.fallbackResume();
        if (resumer == null) {
            LOG.log(System.Logger.Level.WARNING, "lost the gdbstub at " + conn.endpoint() + " while the VM was paused"
                    + " by us, and no QMP connection to resume it: run QMP 'cont'");
            fallbackResume = CompletableFuture.failedFuture(new ConnectionException("no QMP client to resume the VM"));
            return;
        }
        LOG.log(System.Logger.Level.INFO, "lost the gdbstub at {0} during our pause: resuming through QMP", conn.endpoint());
        stoppedByUs = false;
        CompletableFuture<?> f;
        try {
            f = resumer.resume();
            if (f == null) {
                f = CompletableFuture.completedFuture(null);
            }
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        fallbackResume = f.whenComplete((r, t) -> {
            if (t != null) {
                LOG.log(System.Logger.Level.WARNING, "QMP cont after losing the gdbstub failed: " + t);
            }
        });
    }
}
