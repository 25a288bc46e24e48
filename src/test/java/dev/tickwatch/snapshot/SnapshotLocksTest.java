package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.guest.locks.LockJson;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The lock graph in snapshot.json ({@code locks}, absent in older files) and the report's
 * "Locks" section: the cycle first, then the chain into it, then a task whose lock is unknown,
 * every line within 80 columns.
 */
class SnapshotLocksTest {

    static final String AB = "lab-mutex-ab/0 (pid 94) waits for mutex lab_mutex_b [tickwatch_lab] at"
            + " 0xffffffffc0a02080 held by lab-mutex-ba/1 (pid 95)";
    static final String BA = "lab-mutex-ba/1 (pid 95) waits for mutex lab_mutex_a [tickwatch_lab] at"
            + " 0xffffffffc0a02040 held by lab-mutex-ab/0 (pid 94)";
    static final String INSMOD = "insmod (pid 93) waits for mutex lab_mutex_a [tickwatch_lab] at 0xffffffffc0a02040"
            + " held by lab-mutex-ab/0 (pid 94)";

    static LockJson.Graph graph() {
        LockJson.WaitsOn b = new LockJson.WaitsOn("mutex", 0xffffffffc0a02080L, "lab_mutex_b [tickwatch_lab]",
                0xffff888003a40000L, 95, "lab-mutex-ba/1", 0, "mutex_waiter on its stack at 0xffffc90000473d20");
        LockJson.WaitsOn a = new LockJson.WaitsOn("mutex", 0xffffffffc0a02040L, "lab_mutex_a [tickwatch_lab]",
                0xffff888003a44000L, 94, "lab-mutex-ab/0", 0, "mutex_waiter on its stack at 0xffffc9000047bd20");
        return new LockJson.Graph(List.of(
                new LockJson.Task(93, "insmod", "D", 0xffff888003a48000L, a, null),
                new LockJson.Task(94, "lab-mutex-ab/0", "D", 0xffff888003a44000L, b, null),
                new LockJson.Task(95, "lab-mutex-ba/1", "D", 0xffff888003a40000L, a, null),
                new LockJson.Task(7, "kworker/u4:0", "D", 0xffff888003a00000L, null,
                        "no mutex or rw_semaphore waiter on its stack; it sleeps in wait_for_completion")),
                List.of(new LockJson.Cycle(List.of(94, 95), List.of(AB, BA))), List.of(INSMOD));
    }

    static SnapshotDoc withLocks(SnapshotDoc d, LockJson.Graph g) {
        return new SnapshotDoc(d.schema(), d.takenAt(), d.tickwatchVersion(), d.statusBefore(), d.verdict(), d.samples(),
                d.environment(), d.cpus(), d.registersSource(), d.timers(), d.tasks(), d.traces(), g, d.console(), d.vmcore(),
                d.statusAfter(), d.notes(), d.timingsMs(), d.kernelLog());
    }

    @Test
    void theGraphIsInTheDocumentMeetsTheSchemaAndReadsBack() throws IOException {
        SnapshotDoc d = withLocks(SnapshotDoc.of(ReportFixtures.real("spin-deadlock")), graph());
        JsonNode json = d.toJson();
        SchemaSubset schema = new SchemaSubset(Json.MAPPER.readTree(Files.readString(
                Path.of("protocols/snapshot/snapshot.schema.json"))));
        assertEquals(List.of(), schema.validate(json));
        assertEquals("0xffffffffc0a02080", json.path("locks").path("tasks").get(1).path("waits_on").path("address").asText());
        assertFalse(json.path("locks").path("tasks").get(3).has("waits_on"));
        assertEquals(graph(), SnapshotDoc.of(json).locks());
        List<String> keys = new java.util.ArrayList<>();
        json.fieldNames().forEachRemaining(keys::add);
        assertEquals(keys.indexOf("tasks") + 1, keys.indexOf("locks"), "locks right after tasks: " + keys);
    }

    @Test
    void anOlderSnapshotHasNoLocksKeyAndNoLocksSection() {
        SnapshotDoc d = SnapshotDoc.of(ReportFixtures.real("spin-deadlock"));
        assertEquals(null, d.locks());
        assertFalse(d.toJson().has("locks"));
        assertFalse(ReportText.render(d).contains("\nLocks\n"));
    }

    @Test
    void theReportHasALocksSectionWithinEightyColumns() {
        String r = ReportText.render(withLocks(SnapshotDoc.of(ReportFixtures.real("spin-deadlock")), graph()));
        int at = r.indexOf("\nLocks\n-----\n");
        assertTrue(at > r.indexOf("\nBlocked and running tasks\n"), r);
        String section = r.substring(at + 1, r.indexOf("\n\nConsole tail\n", at));
        for (String line : section.split("\n")) {
            assertTrue(line.length() <= 80, "over 80 columns: " + line);
        }
        String flat = section.replaceAll("\n +", " ");
        assertTrue(flat.contains("4 blocked tasks, 3 waiting on a lock; 1 cycle (deadlock)."), section);
        assertTrue(flat.contains("Cycle 1: " + AB + " " + BA), section);
        assertTrue(flat.contains("Waiting, no cycle: " + INSMOD), section);
        assertTrue(flat.contains("Blocked, lock not found: kworker/u4:0 (pid 7, D): no mutex or rw_semaphore waiter on"
                + " its stack; it sleeps in wait_for_completion"), section);
    }
}
