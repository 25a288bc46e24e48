package dev.tickwatch.probe;

import dev.tickwatch.guest.KernelFiles;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * How a {@link Probe} samples. Immutable; {@link #builder()} starts from the defaults.
 *
 * @param taskPeriod   how often the task list is walked (it costs one read per task)
 * @param attachPeriod how often to retry attaching to the kernel's memory while it is not yet readable
 * @param readKernel   read kernel state from guest memory at all (false: registers, LAPIC and host side only)
 * @param kernelFiles  the developer's vmlinux / System.map to attach with ({@link KernelFiles#NONE}: memory only)
 * @param lastWords    a console line after which the guest powers off at once (a boot loop's success
 *                     marker), or null: once the console shows it, the probe sends QEMU nothing more,
 *                     as after the kernel's own power-off line
 */
public record ProbeOptions(Duration taskPeriod, Duration attachPeriod, boolean readKernel, KernelFiles kernelFiles,
        Pattern lastWords) {

    public static final Duration DEFAULT_TASK_PERIOD = Duration.ofSeconds(2);
    public static final Duration DEFAULT_ATTACH_PERIOD = Duration.ofSeconds(2);

    public ProbeOptions {
        if (taskPeriod.isNegative() || attachPeriod.isNegative()) {
            throw new IllegalArgumentException("periods must not be negative");
        }
        kernelFiles = kernelFiles == null ? KernelFiles.NONE : kernelFiles;
    }

    public static ProbeOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private Duration taskPeriod = DEFAULT_TASK_PERIOD;
        private Duration attachPeriod = DEFAULT_ATTACH_PERIOD;
        private boolean readKernel = true;
        private KernelFiles kernelFiles = KernelFiles.NONE;
        private Pattern lastWords;

        public Builder taskPeriod(Duration d) {
            this.taskPeriod = d;
            return this;
        }

        public Builder attachPeriod(Duration d) {
            this.attachPeriod = d;
            return this;
        }

        public Builder readKernel(boolean b) {
            this.readKernel = b;
            return this;
        }

        public Builder kernelFiles(KernelFiles files) {
            this.kernelFiles = files;
            return this;
        }

        public Builder lastWords(Pattern p) {
            this.lastWords = p;
            return this;
        }

        public ProbeOptions build() {
            return new ProbeOptions(taskPeriod, attachPeriod, readKernel, kernelFiles, lastWords);
        }
    }
}
