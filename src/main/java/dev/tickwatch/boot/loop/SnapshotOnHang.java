package dev.tickwatch.boot.loop;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.KernelFiles;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.snapshot.Snapshot;
import dev.tickwatch.snapshot.SnapshotRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The boot loop's hang handler: first the host-side {@link DiagnosticFolder} (cheap, cannot fail
 * on the guest), then a full snapshot of the hung guest into {@code snapshot/} inside it: registers
 * and stacks through the gdbstub (one pause, resumed), timers, tasks, the verdict and the samples
 * that led to it, {@code report.txt} for LKML. A snapshot that fails leaves a note instead; the
 * loop's verdict stands either way.
 */
public final class SnapshotOnHang implements HangHandler {

    /** The bundle's name inside the diagnostic folder. */
    public static final String BUNDLE = "snapshot";

    private final DiagnosticFolder folder;
    private final boolean vmcore;
    private final KernelFiles kernelFiles;

    public SnapshotOnHang(Path root, boolean vmcore) {
        this(root, vmcore, KernelFiles.NONE);
    }

    /** @param kernelFiles the developer's vmlinux / System.map, for symbols and types the guest's memory lacks */
    public SnapshotOnHang(Path root, boolean vmcore, KernelFiles kernelFiles) {
        this.folder = new DiagnosticFolder(root);
        this.vmcore = vmcore;
        this.kernelFiles = kernelFiles;
    }

    @Override
    public Path onHang(QemuVm vm, BootSpec spec, BootOutcome outcome) {
        Path dir = folder.onHang(vm, spec, outcome);
        GuestKernel kernel = null;
        try {
            if (!kernelFiles.isEmpty()) {
                try {
                    kernel = GuestKernel.attach(vm.qmp(), null, kernelFiles);
                } catch (TickwatchException e) {
                    // The snapshot attaches from memory alone and notes what it could not read.
                }
            }
            SnapshotRequest.Builder b = SnapshotRequest.builder(vm.qmp(), dir).gdb(vm.gdbEndpoint()).console(vm.console())
                    .environment(new SnapshotRequest.Environment(vm.command(), vm.accel().name().toLowerCase(Locale.ROOT),
                            spec.labMode()))
                    .vmcore(vmcore).name(BUNDLE).kernel(kernel);
            if (outcome.decision() != null) {
                b.watched(outcome.samples(), outcome.decision());
            }
            Snapshot.capture(b.build());
        } catch (TickwatchException | IllegalArgumentException e) {
            try {
                Files.writeString(dir.resolve("snapshot-failed.txt"), "snapshot failed: " + e.getMessage() + "\n");
            } catch (IOException ignored) {
                // The diagnostic folder itself is already written.
            }
        } finally {
            if (kernel != null) {
                kernel.close();
            }
        }
        return dir;
    }

    /** The LKML report inside a diagnostic folder, if the snapshot made one. */
    public static Path report(Path diagnostic) {
        Path r = diagnostic.resolve(BUNDLE).resolve("report.txt");
        return Files.exists(r) ? r : null;
    }
}
