package dev.tickwatch.boot.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.boot.loop.BootRecord;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.boot.loop.MergedResults;
import dev.tickwatch.boot.loop.Records;
import dev.tickwatch.boot.loop.Shard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shard files read while shards write them: a line half-written is read once it is whole, hangs
 * are counted across shards, and the merge is {@code tickwatch merge}'s (later record wins, boots
 * without one are missing against the loop's size).
 */
class ShardFilesTest {

    private static final Shard S0 = new Shard(0, 2);
    private static final Shard S1 = new Shard(1, 2);

    @TempDir
    Path dir;

    @Test
    void aHalfWrittenLineIsReadWhenItIsWhole() {
        ShardFiles f = new ShardFiles(dir, 2);
        assertEquals(List.of(), f.poll(), "no file yet: the shard has not started");
        String line = Records.hung(S1, 4, 1, "TIMER_STALL", "lost").toJsonLine();
        FakeScheduler.append(f.results(1), Records.ok(S1, 4, 3, 3.5));
        FakeScheduler.appendText(f.results(1), line.substring(0, 40));
        List<BootRecord> first = f.poll();
        assertEquals(1, first.size());
        assertEquals(0, f.bad());
        FakeScheduler.appendText(f.results(1), line.substring(40) + "\n");
        List<BootRecord> second = f.poll();
        assertEquals(1, second.size());
        assertEquals(1, second.get(0).boot());
        assertEquals(1, f.bad());
        assertEquals(List.of(), f.poll(), "nothing new");
    }

    @Test
    void hangsAreCountedOverAllShards() {
        ShardFiles f = new ShardFiles(dir, 2);
        FakeScheduler.append(f.results(0), Records.hung(S0, 8, 0, "TIMER_STALL", "lost"), Records.ok(S0, 8, 2, 3));
        FakeScheduler.append(f.results(1), Records.hung(S1, 8, 5, "SPIN_LOCKUP", null));
        f.poll();
        assertEquals(2, f.bad());
        assertEquals(2, f.records(0).size());
    }

    @Test
    void theMergeIsTickwatchMerges() throws Exception {
        ShardFiles f = new ShardFiles(dir, 2);
        // Shard 0 re-ran boot 0 (a retried task appends): the later record wins.
        FakeScheduler.append(f.results(0), Records.hung(S0, 6, 0, "TIMER_STALL", "lost"), Records.ok(S0, 6, 2, 3),
                Records.ok(S0, 6, 0, 3));
        FakeScheduler.append(f.results(1), Records.ok(S1, 6, 1, 3));
        f.poll();
        MergedResults m = f.merge(6);
        assertEquals(1, m.duplicates());
        assertEquals(6, m.bootsTotal());
        assertEquals(3, m.result().missing()); // boots 3, 4, 5
        assertEquals(LoopResult.Status.CANNOT_TEST, m.result().status());
        MergedResults fromFiles = MergedResults.read(List.of(f.results(0), f.results(1)));
        assertEquals(m.result().records(), fromFiles.result().records());
        // Nothing written at all: the loop's size still makes every boot missing.
        assertEquals(10, new ShardFiles(dir.resolve("empty"), 2).merge(10).result().missing());
    }

    @Test
    void aBadLineNamesItsFile() {
        ShardFiles f = new ShardFiles(dir, 1);
        FakeScheduler.appendText(f.results(0), "{\"boot\": 1}\n");
        TickwatchException e = assertThrows(TickwatchException.class, f::poll);
        assertTrue(e.getMessage().startsWith(f.results(0) + ": not a boot record"), e.getMessage());
    }

    @Test
    void clearRemovesAnEarlierRunsFiles() throws Exception {
        ShardFiles f = new ShardFiles(dir.resolve("new"), 2);
        f.clear();
        FakeScheduler.append(f.results(1), Records.ok(S1, 4, 1, 3));
        FakeScheduler.exitCode(f, 1, 0);
        Files.writeString(f.log(1), "x\n");
        f.clear();
        assertTrue(Files.isDirectory(f.dir()));
        try (var s = Files.list(f.dir())) {
            assertEquals(List.of(), s.toList());
        }
        assertTrue(f.exitCode(1).isEmpty());
    }
}
