package dev.tickwatch.boot.loop;

import java.util.List;

/** Boot records for tests, as a loop would write them. */
public final class Records {

    private Records() {
    }

    public static BootRecord ok(Shard shard, int total, int boot, double bootS) {
        long start = 1_700_000_000_000L + boot * 2_000L;
        return new BootRecord(shard, total, boot, boot % 2, BootLoop.seedOf(1, boot), 2, null, BootOutcome.ok(bootS),
                start, start + (long) (bootS * 1000), null);
    }

    public static BootRecord hung(Shard shard, int total, int boot, String verdict, String flavour) {
        long start = 1_700_000_000_000L + boot * 2_000L;
        return new BootRecord(shard, total, boot, boot % 2, BootLoop.seedOf(1, boot), 2, "timer-stall-lost",
                BootOutcome.hung(verdict, flavour, List.of("jiffies frozen", "console: <&> \"x\""), 12.5),
                start, start + 12_500, "/tmp/diag/boot-" + boot);
    }
}
