package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.guest.unwind.Frame;
import dev.tickwatch.guest.unwind.StackType;
import dev.tickwatch.guest.unwind.Trace;
import dev.tickwatch.guest.unwind.TraceJson;
import dev.tickwatch.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Unwound call traces in snapshot.json (schema-valid, read back equal) and as Call Trace blocks in report.txt. */
class SnapshotTracesTest {

    private static Frame f(String sym, long off, long size, Frame.Kind kind, StackType st) {
        return new Frame(0xffffffff81000000L + off, sym, off, size, null, true, kind, st, 0xffffc90000013f00L);
    }

    private static SnapshotDoc withTraces() {
        SnapshotDoc real = SnapshotDoc.of(ReportFixtures.real("timer-stall-lost"));
        Trace cpu0 = new Trace(0, 0, "swapper/0", '\0', "gdbstub", "orc",
                f("native_safe_halt", 0xb, 0x10, Frame.Kind.RIP, null),
                List.of(f("__sysvec_apic_timer_interrupt", 0x5c, 0x110, Frame.Kind.RETURN, StackType.IRQ),
                        f("default_idle", 0x9, 0x20, Frame.Kind.REGS, StackType.TASK),
                        f("a_function_with_a_name_long_enough_to_need_wrapping_in_an_eighty_column_mail", 0x1d, 0x60,
                                Frame.Kind.RETURN, StackType.TASK)),
                "end of stack (ORC end-of-stack at secondary_startup_64_no_verify+0xe5/0xeb)", true, 0.4);
        Trace blocked = new Trace(-1, 57, "kworker/u4:1", 'D', "inactive_task_frame", "orc", null,
                List.of(f("__schedule", 0x34d, 0x9e0, Frame.Kind.RETURN, StackType.TASK),
                        f("schedule", 0x5a, 0xd0, Frame.Kind.RETURN, StackType.TASK)),
                "end of stack (ORC end marker at ret_from_fork+0x22/0x30)", true, 0.2);
        return new SnapshotDoc(real.schema(), real.takenAt(), real.tickwatchVersion(), real.statusBefore(),
                real.verdict(), real.samples(), real.environment(), real.cpus(), real.registersSource(), real.timers(),
                real.tasks(), List.of(TraceJson.of(cpu0), TraceJson.of(blocked)), real.locks(), real.console(), real.vmcore(),
                real.statusAfter(), real.notes(), real.timingsMs(), real.kernelLog());
    }

    @Test
    void tracesAreSchemaValidAndReadBackEqual() throws Exception {
        SnapshotDoc doc = withTraces();
        ObjectNode json = doc.toJson();
        SchemaSubset schema = new SchemaSubset(Json.MAPPER.readTree(
                Files.readString(Path.of("protocols/snapshot/snapshot.schema.json"))));
        assertEquals(List.of(), schema.validate(json));
        assertEquals("0xffffffff8100000b", json.get("traces").get(0).get("rip").get("address").asText());
        assertEquals(doc, SnapshotDoc.of(json));
        assertFalse(SnapshotDoc.of(ReportFixtures.real("timer-stall-lost")).toJson().has("traces"),
                "a snapshot without traces is written as before");
    }

    @Test
    void theReportShowsCallTraceBlocksInsteadOfTheScanWithin80Columns() {
        String r = ReportText.render(withTraces());
        for (String line : r.split("\n")) {
            // Console lines and the frames of a Call Trace are quoted whole, as the kernel prints them.
            if (!line.startsWith("  [") && !line.matches("\\s+(\\? )?\\S+\\+0x[0-9a-f]+/0x[0-9a-f]+.*")) {
                assertTrue(line.length() <= 80, "over 80 columns: " + line);
            }
        }
        int cpu0 = r.indexOf("\nCPU0: ");
        int cpu1 = r.indexOf("\nCPU1: ");
        String block = r.substring(cpu0, cpu1);
        assertTrue(block.contains("Call Trace:\n <IRQ>\n __sysvec_apic_timer_interrupt+0x5c/0x110\n </IRQ>\n <TASK>\n"
                + " RIP: 0010:default_idle+0x9/0x20\n"), block);
        assertFalse(block.contains("Stack scan from RSP"), "CPU0 was unwound: no scan");
        assertTrue(r.substring(cpu1).contains("Stack scan from RSP"), "CPU1 has no trace: the labelled scan stays");
        int traces = r.indexOf("\nCall traces of blocked tasks\n");
        assertTrue(traces > 0, r);
        assertTrue(r.substring(traces).contains("task:kworker/u4:1 state:D pid:57:\nCall Trace:\n <TASK>\n"
                + " __schedule+0x34d/0x9e0\n schedule+0x5a/0xd0\n </TASK>\n(end of stack"), r.substring(traces));
    }
}
