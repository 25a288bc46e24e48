package dev.tickwatch.boot.loop;

import dev.tickwatch.boot.stats.BootStats;
import java.util.Comparator;
import java.util.List;

/**
 * What a loop (or a merge of shard files) found. The status decides the exit code: a hang beats
 * could-not-test, which beats ok, so a bisect never calls a commit good when a boot hung and
 * never bad when QEMU merely would not start.
 *
 * @param records    every boot with an outcome, by boot number
 * @param stats      their statistics
 * @param firstBad   the first hang or timeout (by end time), or null
 * @param cannotTest the first boot that could not run, or null
 * @param missing    boots of the loop with no record (stopped early, a shard missing)
 */
public record LoopResult(List<BootRecord> records, BootStats stats, BootRecord firstBad, BootRecord cannotTest,
        int missing) {

    public enum Status { OK, HUNG, CANNOT_TEST }

    public LoopResult {
        records = List.copyOf(records);
    }

    /** The result of {@code records} out of a loop of {@code expected} boots. */
    public static LoopResult of(List<BootRecord> records, int expected) {
        List<BootRecord> sorted = records.stream().sorted(Comparator.comparingInt(BootRecord::boot)).toList();
        long start = records.stream().mapToLong(BootRecord::startedMs).min().orElse(0);
        long end = records.stream().mapToLong(BootRecord::endedMs).max().orElse(0);
        BootStats stats = BootStats.of(sorted.stream().map(BootRecord::toStats).toList(), (end - start) / 1000.0);
        Comparator<BootRecord> byEnd = Comparator.comparingLong(BootRecord::endedMs);
        BootRecord bad = records.stream().filter(r -> r.outcome().isBad()).min(byEnd).orElse(null);
        BootRecord cannot = records.stream().filter(r -> r.outcome().kind() == BootOutcome.Kind.CANNOT_TEST)
                .min(byEnd).orElse(null);
        long distinct = sorted.stream().mapToInt(BootRecord::boot).distinct().count();
        return new LoopResult(sorted, stats, bad, cannot, (int) Math.max(0, expected - distinct));
    }

    /**
     * HUNG if any boot hung; else CANNOT_TEST if any boot could not run or boots are missing
     * (then nothing can be claimed about them); else OK.
     */
    public Status status() {
        if (firstBad != null) {
            return Status.HUNG;
        }
        if (cannotTest != null || missing > 0 || records.isEmpty()) {
            return Status.CANNOT_TEST;
        }
        return Status.OK;
    }
}
