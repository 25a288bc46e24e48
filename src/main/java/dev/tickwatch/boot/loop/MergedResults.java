package dev.tickwatch.boot.loop;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The boot records of a sharded loop joined into one result: {@code tickwatch merge} and the
 * cluster runners. A boot number seen twice (a shard re-run) counts once, the later record
 * winning; boots of the loop with no record at all are {@link LoopResult#missing()}.
 *
 * @param result     the joined result
 * @param duplicates records dropped because a later one had the same boot number
 * @param bootsTotal boots in the whole loop: the largest of the records' {@code boots_total} and
 *                   the count the caller expected
 */
public record MergedResults(LoopResult result, int duplicates, int bootsTotal) {

    /**
     * Joins {@code records}, given in the order they were written (files in order, lines in order).
     *
     * @param expected boots the loop was started with, or 0 to take it from the records alone (a
     *                 shard that wrote nothing then cannot make boots "missing")
     */
    public static MergedResults of(List<BootRecord> records, int expected) {
        Map<Integer, BootRecord> byBoot = new LinkedHashMap<>();
        int total = expected;
        int duplicates = 0;
        for (BootRecord r : records) {
            if (byBoot.put(r.boot(), r) != null) {
                duplicates++;
            }
            total = Math.max(total, r.bootsTotal());
        }
        return new MergedResults(LoopResult.of(new ArrayList<>(byBoot.values()), total), duplicates, total);
    }

    /** Reads and joins results files; a missing file or a bad line fails (a {@code TickwatchException}). */
    public static MergedResults read(List<Path> files) {
        List<BootRecord> all = new ArrayList<>();
        for (Path f : files) {
            all.addAll(ResultsFile.read(f));
        }
        return of(all, 0);
    }
}
