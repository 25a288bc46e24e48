package dev.tickwatch.boot.loop;

import dev.tickwatch.qemu.QemuConfig;
import java.util.Objects;

/**
 * How a boot loop runs. Immutable; build with {@link #builder()}.
 *
 * @param config    the guest every boot runs
 * @param labConfig the lab guest for boot {@code labAt}, or null
 * @param labMode   its mode's label, or null
 * @param labAt     0-based boot number that runs the lab guest, or -1
 * @param boots     boots in the whole loop (all shards together)
 * @param parallel  worker threads, each with at most one QEMU
 * @param shard     which boots this process runs
 * @param jitter    vary vCPUs (1..smp) and start times (0..{@value #MAX_START_DELAY_MS} ms) from the seed
 * @param seed      the loop's seed; each boot derives its own
 * @param keepGoing count hangs instead of stopping at the first
 * @param load      busy host threads during the loop
 */
public record LoopOptions(QemuConfig config, QemuConfig labConfig, String labMode, int labAt, int boots,
        int parallel, Shard shard, boolean jitter, long seed, boolean keepGoing, int load) {

    public static final int DEFAULT_BOOTS = 100;
    public static final int DEFAULT_PARALLEL = 2;
    public static final long DEFAULT_SEED = 1;
    public static final int MAX_START_DELAY_MS = 500;

    public LoopOptions {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(shard, "shard");
        if (boots < 1) {
            throw new IllegalArgumentException("boots: " + boots + " (expected: >= 1)");
        }
        if (parallel < 1 || parallel > 256) {
            throw new IllegalArgumentException("parallel: " + parallel + " (expected: 1-256)");
        }
        if (load < 0) {
            throw new IllegalArgumentException("load: " + load + " (expected: >= 0)");
        }
        if ((labConfig == null) != (labAt < 0)) {
            throw new IllegalArgumentException("a lab mode needs the boot to run it at, and the other way round");
        }
        if (labAt >= boots) {
            throw new IllegalArgumentException("lab-at: " + labAt + " (expected: < boots, " + boots + ")");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private QemuConfig config;
        private QemuConfig labConfig;
        private String labMode;
        private int labAt = -1;
        private int boots = DEFAULT_BOOTS;
        private int parallel = DEFAULT_PARALLEL;
        private Shard shard = Shard.WHOLE;
        private boolean jitter;
        private long seed = DEFAULT_SEED;
        private boolean keepGoing;
        private int load;

        private Builder() {
        }

        public Builder config(QemuConfig c) {
            this.config = c;
            return this;
        }

        /** Boot {@code at} (0-based) runs {@code lab} instead of the normal guest. */
        public Builder lab(String mode, QemuConfig lab, int at) {
            this.labMode = mode;
            this.labConfig = lab;
            this.labAt = at;
            return this;
        }

        public Builder boots(int n) {
            this.boots = n;
            return this;
        }

        public Builder parallel(int n) {
            this.parallel = n;
            return this;
        }

        public Builder shard(Shard s) {
            this.shard = s;
            return this;
        }

        public Builder jitter(boolean j) {
            this.jitter = j;
            return this;
        }

        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        public Builder keepGoing(boolean k) {
            this.keepGoing = k;
            return this;
        }

        public Builder load(int n) {
            this.load = n;
            return this;
        }

        public LoopOptions build() {
            return new LoopOptions(config, labConfig, labMode, labAt, boots, parallel, shard, jitter, seed,
                    keepGoing, load);
        }
    }
}
