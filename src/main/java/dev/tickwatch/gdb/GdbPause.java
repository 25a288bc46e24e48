package dev.tickwatch.gdb;

/**
 * A scope in which the VM is paused: {@code try (var paused = gdb.pause()) { ... }}. Closing it
 * resumes the VM if, and only if, this scope (or the attach before it) paused it; a VM paused
 * by someone else stays paused. Closing twice is harmless.
 */
public final class GdbPause implements AutoCloseable {

    private final GdbPauseGuard guard;
    private final boolean ours;
    private boolean closed;

    GdbPause(GdbPauseGuard guard, boolean ours) {
        this.guard = guard;
        this.ours = ours;
    }

    /** Whether this scope paused the VM (and so resumes it when closed). */
    public boolean ours() {
        return ours;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        guard.release(this);
    }
}
