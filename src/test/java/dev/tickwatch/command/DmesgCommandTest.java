package dev.tickwatch.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.guest.log.LogLevel;
import dev.tickwatch.guest.log.LogRecord;
import dev.tickwatch.util.Json;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** dmesg's output shapes and filters, record by record. */
class DmesgCommandTest {

    private static final LogRecord LOCKUP = new LogRecord(812, 61_234_567_000L, LogLevel.EMERG, 0, 2, 0x80000001,
            "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [insmod:131]", "", "");
    private static final LogRecord INFO = new LogRecord(3, 1_500_000L, LogLevel.INFO, 0, 2, 1,
            "line one\nline two", "pci", "+pci:0000:00:01.0");

    @Test
    void textIsDmesgsEveryLineBehindTheTimestamp() {
        assertEquals("[   61.234567] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [insmod:131]\n",
                DmesgCommand.format(LOCKUP, null, false, false, false));
        assertEquals("[    0.001500] line one\n[    0.001500] line two\n", DmesgCommand.format(INFO, null, false, false, false));
    }

    @Test
    void rawIsDevKmsg() {
        assertEquals("6,3,1500,-;line one\\x0aline two\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:01.0\n",
                DmesgCommand.format(INFO, null, false, false, true));
    }

    @Test
    void jsonIsOneObjectARecordWithTheReportNamed() throws Exception {
        JsonNode j = Json.MAPPER.readTree(DmesgCommand.format(LOCKUP, null, false, true, false));
        assertEquals(812, j.get("seq").asLong());
        assertEquals(61_234_567_000L, j.get("ts_ns").asLong());
        assertEquals("emerg", j.get("level").asText());
        assertEquals(0, j.get("facility").asInt());
        assertEquals("C1", j.get("caller").asText());
        assertEquals("soft-lockup", j.get("report").asText());
        assertEquals(null, j.get("subsystem"), "empty dev_info keys are left out");
        JsonNode i = Json.MAPPER.readTree(DmesgCommand.format(INFO, null, false, true, false));
        assertEquals("line one\nline two", i.get("text").asText());
        assertEquals("pci", i.get("subsystem").asText());
        assertNull(i.get("report"));
    }

    @Test
    void levelAndReportFiltersLeaveRecordsOut() {
        Set<LogLevel> errors = LogLevel.parseList("emerg,err");
        assertNull(DmesgCommand.format(INFO, errors, false, false, false));
        assertEquals(1, DmesgCommand.format(LOCKUP, errors, false, false, false).lines().count());
        assertNull(DmesgCommand.format(INFO, null, true, false, false));
        assertEquals(1, DmesgCommand.format(LOCKUP, null, true, false, false).lines().count());
    }
}
