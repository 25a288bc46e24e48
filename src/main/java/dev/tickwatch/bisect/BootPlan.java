package dev.tickwatch.bisect;

import dev.tickwatch.guest.KernelFiles;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One batch of boots of one revision, as a {@link StepRunner} runs it.
 *
 * @param label       what is booted, for progress lines ("step 3 abc123def456", "calibrate ...")
 * @param kernel      the kernel image (absolute)
 * @param initrd      the initramfs (absolute), or null
 * @param kernelFiles the revision's vmlinux, if the build made one
 * @param boots       boots in the batch
 * @param batch       the batch's number for this revision (0-based)
 * @param seed        the batch's seed (each boot derives its own)
 * @param keepGoing   count every hang (calibration) instead of stopping at the first (a step)
 * @param diagnostics the revision's folder: hang diagnostics and the results file go there
 */
public record BootPlan(String label, Path kernel, Path initrd, KernelFiles kernelFiles, int boots, int batch,
        long seed, boolean keepGoing, Path diagnostics) {

    public BootPlan {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(diagnostics, "diagnostics");
        kernelFiles = kernelFiles == null ? KernelFiles.NONE : kernelFiles;
        if (boots < 1) {
            throw new IllegalArgumentException("boots: " + boots + " (expected: >= 1)");
        }
        if (batch < 0) {
            throw new IllegalArgumentException("batch: " + batch + " (expected: >= 0)");
        }
    }

    /** Where this batch's hangs go: a folder per batch, as boot numbers start at 0 in each. */
    public Path hangs() {
        return diagnostics.resolve(String.format(java.util.Locale.ROOT, "batch-%03d", batch));
    }
}
