package dev.tickwatch.boot.loop;

import dev.tickwatch.qemu.QemuVm;
import java.nio.file.Path;

/**
 * Called when a boot hangs (or times out) while its QEMU is still alive, before the loop ends it:
 * the moment to capture evidence. Once per loop (at the first hang), or once per hang with
 * {@code --keep-going}. Today {@link DiagnosticFolder} writes the console and evidence; the
 * snapshot engine (issue 7) takes its place.
 */
@FunctionalInterface
public interface HangHandler {

    /**
     * @return where the diagnostics went (a folder or a file), or null if nothing was written;
     *         a failure here is reported but never loses the hang itself
     */
    Path onHang(QemuVm vm, BootSpec spec, BootOutcome outcome);
}
