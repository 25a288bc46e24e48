package dev.tickwatch.cli;

import dev.tickwatch.command.ExitCode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.boot.loop.BootRecord;
import dev.tickwatch.boot.loop.Records;
import dev.tickwatch.boot.loop.Shard;
import dev.tickwatch.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tickwatch merge}: two shards of four boots merge to the same verdict, totals and
 * statistics as one loop of eight; a missing shard is "cannot test"; bad input is one line.
 */
class MergeCommandTest {

    @TempDir
    Path dir;

    /** Eight boots; boot 5 hung if {@code withHang}. Written as one loop and as two shards. */
    private List<BootRecord> loop(Shard shard, boolean withHang) {
        List<BootRecord> rs = new ArrayList<>();
        for (int b : shard.boots(8)) {
            rs.add(withHang && b == 5 ? Records.hung(shard, 8, b, "TIMER_STALL", "lost")
                    : Records.ok(shard, 8, b, 3.5 + b * 0.125));
        }
        return rs;
    }

    private Path write(String name, List<BootRecord> rs) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, rs.stream().map(BootRecord::toJsonLine).collect(Collectors.joining("\n", "", "\n")));
        return f;
    }

    private static final List<String> SAME = List.of("status", "exit_code", "boots_done", "clean", "hangs",
            "cannot_test", "missing", "hangs_by_verdict", "boot_median_s", "boot_p95_s", "boot_p99_s",
            "hang_rate_upper95", "wall_s", "rate_per_min");

    @Test
    void twoShardsMergeToTheSameAsOneLoop() throws Exception {
        for (boolean hang : new boolean[] {false, true}) {
            Path whole = write("whole-" + hang + ".jsonl", loop(Shard.WHOLE, hang));
            Path s0 = write("s0-" + hang + ".jsonl", loop(new Shard(0, 2), hang));
            Path s1 = write("s1-" + hang + ".jsonl", loop(new Shard(1, 2), hang));
            QmpCommandTest.Result one = QmpCommandTest.run("merge", "--json", whole.toString());
            QmpCommandTest.Result two = QmpCommandTest.run("merge", "--json", s0.toString(), s1.toString());
            assertEquals(hang ? 1 : 0, one.code(), one.out() + one.err());
            assertEquals(one.code(), two.code(), two.out() + two.err());
            JsonNode a = Json.MAPPER.readTree(one.out());
            JsonNode b = Json.MAPPER.readTree(two.out());
            for (String k : SAME) {
                assertEquals(a.get(k), b.get(k), k);
            }
            assertEquals(8, b.path("boots_done").asInt());
            assertEquals(hang ? 1 : 0, b.path("hangs").asInt());
            if (hang) {
                assertEquals(5, b.path("first_hang").path("boot").asInt());
                assertEquals("1/2", b.path("first_hang").path("shard").asText());
                assertEquals(1, b.path("hangs_by_verdict").path("TIMER_STALL").asInt());
            }
        }
    }

    @Test
    void textReportEndsWithTheVerdictLine() throws Exception {
        Path s0 = write("s0.jsonl", loop(new Shard(0, 2), true));
        Path s1 = write("s1.jsonl", loop(new Shard(1, 2), true));
        QmpCommandTest.Result r = QmpCommandTest.run("merge", "--target-rate", "1e-3", s0.toString(), s1.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.out().contains("merge: boot 5 HUNG: TIMER_STALL (lost)"), r.out());
        assertTrue(r.out().contains("merge: 1 hang in 8 boots: rate < 4.7e-01 (95%), fewer than 1 in 2 boots"), r.out());
        assertTrue(r.out().contains("merge: diagnostics in /tmp/diag/boot-5"), r.out());
        assertTrue(r.out().strip().endsWith("test FAILED: boot 5 hung (TIMER_STALL)"), r.out());
        Path ok = write("ok.jsonl", loop(Shard.WHOLE, false));
        QmpCommandTest.Result good = QmpCommandTest.run("merge", ok.toString());
        assertEquals(0, good.code());
        assertTrue(good.out().contains("boot time median 3.94 s, p95 4.38 s, p99 4.38 s"), good.out());
        assertTrue(good.out().strip().endsWith("test ok"), good.out());
    }

    @Test
    void aMissingShardCannotTest() throws Exception {
        Path s0 = write("s0.jsonl", loop(new Shard(0, 2), false));
        QmpCommandTest.Result r = QmpCommandTest.run("merge", s0.toString());
        assertEquals(ExitCode.CANNOT_TEST, r.code(), r.out());
        assertTrue(r.out().contains("4 boots of the loop have no result"), r.out());
        assertEquals("tickwatch merge: cannot test: 4 boots have no result", r.err().strip());
    }

    @Test
    void aDuplicateBootCountsOnce() throws Exception {
        Path s0 = write("s0.jsonl", loop(Shard.WHOLE, false));
        QmpCommandTest.Result r = QmpCommandTest.run("merge", "--json", s0.toString(), s0.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode o = Json.MAPPER.readTree(r.out());
        assertEquals(8, o.path("boots_done").asInt());
        assertEquals(8, o.path("duplicates").asInt());
    }

    @Test
    void badInputIsOneLineNotAStackTrace() throws Exception {
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, Records.ok(Shard.WHOLE, 1, 0, 4).toJsonLine() + "\n{oops\n");
        QmpCommandTest.Result r = QmpCommandTest.run("merge", bad.toString());
        assertEquals(ExitCode.CANNOT_TEST, r.code());
        assertTrue(r.err().startsWith("tickwatch: " + bad + ":2: not a JSON line"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertEquals(ExitCode.USAGE, QmpCommandTest.run("merge").code());
    }
}
