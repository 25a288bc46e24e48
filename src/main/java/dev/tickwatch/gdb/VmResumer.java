package dev.tickwatch.gdb;

import java.util.concurrent.CompletableFuture;

/**
 * Resumes the VM by a way other than the gdbstub, for when the stub connection is lost while the
 * client holds the VM paused (QEMU 7.2 leaves a VM paused when its gdb client just goes away).
 * The caller hands it in through {@link GdbOptions#fallbackResume()}, typically QMP {@code cont}:
 * {@code qmp::contAsync}; the gdb package itself knows no QMP.
 */
@FunctionalInterface
public interface VmResumer {

    /**
     * Starts resuming the VM; the future completes when it is done. Called at most once per
     * connection, on the connection's event loop: it must not block. A failure, thrown or in the
     * future, is logged as a warning.
     */
    CompletableFuture<?> resume();
}
