package dev.tickwatch.boot.loop;

import dev.tickwatch.guest.KernelFiles;
import dev.tickwatch.probe.Milestone;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a watcher looks for. Immutable; build with {@link #builder()}.
 *
 * @param success a console line that means the boot succeeded (QEMU must also exit)
 * @param stall   console silence after which a boot counts as hung
 * @param timeout last resort per boot, from QEMU's start
 * @param kernelFiles the developer's vmlinux / System.map the verdict engine attaches with
 */
public record WatchOptions(Pattern success, Duration stall, Duration timeout, KernelFiles kernelFiles) {

    /** The appliance's last milestone. */
    public static final Pattern DEFAULT_SUCCESS = Pattern.compile(Pattern.quote(Milestone.DONE.marker()));
    /** Longer than every verdict threshold (SLEEP_DEADLOCK takes 30 s): silence is the last resort. */
    public static final Duration DEFAULT_STALL = Duration.ofSeconds(60);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(300);

    public WatchOptions {
        Objects.requireNonNull(success, "success");
        kernelFiles = kernelFiles == null ? KernelFiles.NONE : kernelFiles;
        if (stall.isNegative() || stall.isZero()) {
            throw new IllegalArgumentException("console silence: " + stall.toMillis() / 1000.0 + " s (expected: > 0)");
        }
        if (timeout.compareTo(stall) < 0) {
            throw new IllegalArgumentException("timeout: " + timeout.toSeconds() + " s (expected: >= console silence, "
                    + stall.toSeconds() + " s)");
        }
    }

    public static WatchOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private Pattern success = DEFAULT_SUCCESS;
        private Duration stall = DEFAULT_STALL;
        private Duration timeout = DEFAULT_TIMEOUT;
        private KernelFiles kernelFiles = KernelFiles.NONE;

        private Builder() {
        }

        public Builder success(Pattern p) {
            this.success = p;
            return this;
        }

        public Builder stall(Duration d) {
            this.stall = d;
            return this;
        }

        public Builder timeout(Duration d) {
            this.timeout = d;
            return this;
        }

        public Builder kernelFiles(KernelFiles files) {
            this.kernelFiles = files;
            return this;
        }

        public WatchOptions build() {
            return new WatchOptions(success, stall, timeout, kernelFiles);
        }
    }
}
