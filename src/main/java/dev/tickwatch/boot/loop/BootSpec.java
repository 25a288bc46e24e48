package dev.tickwatch.boot.loop;

import dev.tickwatch.qemu.QemuConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * One boot of a loop, fixed before it starts, so that the same seed and boot number give the
 * same boot on any machine and in any shard.
 *
 * @param boot       the boot's number in the whole loop, 0-based (shards share one numbering)
 * @param worker     the worker thread that runs it, 0-based
 * @param seed       this boot's seed (derived from the loop's seed and the boot number)
 * @param config     what QEMU boots (vCPU count already jittered)
 * @param labMode    the lab hang mode this boot runs ({@code timer-stall-lost}), or null for a normal boot
 * @param startDelay how long the worker waits before starting QEMU (start-time jitter), never null
 */
public record BootSpec(int boot, int worker, long seed, QemuConfig config, String labMode, Duration startDelay) {

    public BootSpec {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(startDelay, "startDelay");
    }
}
