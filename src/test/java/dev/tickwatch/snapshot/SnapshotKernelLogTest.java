package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.guest.log.LogJson;
import dev.tickwatch.guest.log.LogLevel;
import dev.tickwatch.guest.log.LogRead;
import dev.tickwatch.guest.log.LogRecord;
import dev.tickwatch.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The kernel log in a snapshot: the detectors' reports first, the newest records within the
 * bounds, the schema met, read back as written, and the report's section within 80 columns.
 */
class SnapshotKernelLogTest {

    private static LogRecord rec(long seq, String text) {
        return new LogRecord(seq, seq * 10_000_000L, LogLevel.INFO, 0, 2, 1, text, "", "");
    }

    private static LogRead read(int n) {
        List<LogRecord> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(rec(i, i == 5 ? "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [insmod:131]"
                    : "boot message " + i + " " + "y".repeat(i % 3 == 0 ? 120 : 10)));
        }
        return new LogRead(all, n, 1, 0, 0, 0, n + 1);
    }

    private static SnapshotDoc with(LogJson.Tail log) {
        SnapshotDoc real = SnapshotDoc.of(ReportFixtures.real("spin-deadlock"));
        return new SnapshotDoc(real.schema(), real.takenAt(), real.tickwatchVersion(), real.statusBefore(),
                real.verdict(), real.samples(), real.environment(), real.cpus(), real.registersSource(), real.timers(),
                real.tasks(), real.traces(), real.locks(), real.console(), real.vmcore(), real.statusAfter(), real.notes(), real.timingsMs(),
                log);
    }

    @Test
    void aShortLogIsKeptWholeAndItsReportsComeFirst() throws Exception {
        LogJson.Tail tail = LogJson.Tail.of(read(30));
        assertEquals(30, tail.records().size());
        assertEquals(0, tail.omitted());
        assertEquals(1, tail.reports().size());
        assertEquals("soft-lockup", tail.reports().get(0).kind());
        assertEquals(5, tail.reports().get(0).seq());
        assertEquals("soft-lockup", tail.records().get(5).report());

        SnapshotDoc doc = with(tail);
        JsonNode json = doc.toJson();
        SchemaSubset schema = new SchemaSubset(Json.MAPPER.readTree(
                Files.readString(Path.of("protocols/snapshot/snapshot.schema.json"))));
        assertEquals(List.of(), schema.validate(json));
        List<String> keys = new ArrayList<>();
        json.fieldNames().forEachRemaining(keys::add);
        assertEquals(keys.indexOf("console") + 1, keys.indexOf("kernel_log"), keys.toString());
        assertEquals(Json.pretty(json), Json.pretty(SnapshotDoc.of(json).toJson()), "read back as written");

        String text = ReportText.render(doc);
        int at = text.indexOf("Kernel log (tail)\n-----------------\n");
        assertTrue(at > text.indexOf("Console tail"), text);
        String section = text.substring(at, text.indexOf("\nEnvironment\n"));
        assertTrue(section.indexOf("soft-lockup: watchdog: BUG: soft lockup") < section.indexOf("Last "), section);
        assertTrue(section.contains("[    0.290000] boot message 29"), section);
        assertTrue(section.contains("(passed over 1 record not finalized yet"), section);
        for (String line : text.split("\n")) {
            // Log lines are quoted whole, as LKML keeps them; the report's own prose stays within 80.
            assertTrue(line.length() <= 80 || line.startsWith("  ["), "over 80 columns: " + line);
        }
    }

    @Test
    void aLongLogKeepsItsNewestRecordsAndEveryReport() {
        LogJson.Tail tail = LogJson.Tail.of(read(LogJson.TAIL_RECORDS + 200));
        assertEquals(LogJson.TAIL_RECORDS, tail.records().size());
        assertEquals(200, tail.omitted());
        assertEquals(200, tail.records().get(0).seq());
        assertEquals(1, tail.reports().size(), "the report in an omitted record is still listed");
    }

    @Test
    void aSnapshotWithoutTheLogHasNoKeyAndNoSection() {
        SnapshotDoc doc = with(null);
        assertFalse(doc.toJson().has("kernel_log"));
        assertFalse(ReportText.render(doc).contains("Kernel log"));
    }
}
