package dev.tickwatch.boot.loop;

import dev.tickwatch.qemu.QemuVm;

/**
 * Decides how one boot ends. The loop starts QEMU, hands the VM to the watcher, and ends QEMU
 * after the watcher returned (and after the {@link HangHandler} ran, for a hang). The verdict
 * engine (issue 6) plugs in here: {@link BootWatchers#create} is the one place that chooses.
 *
 * <p>Contract: {@link #watch} returns when the boot has an outcome, and within the spec's timeout
 * plus a few seconds; it must not close the VM (the hang handler still needs it alive); it may
 * use {@code vm.qmp()} (QEMU serves that one client) and {@code vm.console()}; it is called
 * concurrently from several workers, each with its own VM, so it keeps no state between calls
 * (or keeps it per call). Interrupting the thread ends the watch early: throw
 * InterruptedException; the loop then discards the boot.
 */
@FunctionalInterface
public interface BootWatcher {

    /**
     * Watches {@code vm}, started for {@code spec} at {@code startNanos} ({@link System#nanoTime}),
     * until the boot succeeds, hangs, or times out.
     *
     * @return the outcome, never null
     */
    BootOutcome watch(QemuVm vm, BootSpec spec, long startNanos) throws InterruptedException;
}
