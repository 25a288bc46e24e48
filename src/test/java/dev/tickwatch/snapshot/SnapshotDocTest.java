package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.probe.SampleJson;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Verdict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * snapshot.json as records: every recorded snapshot reads into {@link SnapshotDoc} and is written
 * back with the same keys, order and values (schema tickwatch-snapshot/1 unchanged), and renders
 * the reports that were written with it.
 */
class SnapshotDocTest {

    static Stream<String> recorded() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("samples/snapshots"))) {
            return s.filter(p -> Files.isRegularFile(p.resolve("snapshot.json"))).map(p -> p.getFileName().toString())
                    .sorted().toList().stream();
        }
    }

    private static SchemaSubset schema() throws IOException {
        return new SchemaSubset(Json.MAPPER.readTree(Files.readString(Path.of("protocols/snapshot/snapshot.schema.json"))));
    }

    @Test
    void thereAreRecordedSnapshotsToCheck() throws IOException {
        assertTrue(recorded().count() >= 2);
    }

    @ParameterizedTest
    @MethodSource("recorded")
    void aRecordedSnapshotIsWrittenBackAsItWasRead(String name) throws IOException {
        ObjectNode raw = (ObjectNode) ReportFixtures.real(name);
        SnapshotDoc doc = SnapshotDoc.of(raw);
        ObjectNode back = doc.toJson();
        assertEquals(List.of(), schema().validate(back));
        // The samples are the probe's records: written back as watch --record writes them today.
        for (int i = 0; i < raw.path("samples").size(); i++) {
            assertEquals(SampleJson.toJson(SampleJson.fromJson(raw.path("samples").get(i))), back.path("samples").get(i));
        }
        raw.remove("samples");
        back.remove("samples");
        assertEquals(Json.pretty(raw), Json.pretty(back));
    }

    @ParameterizedTest
    @MethodSource("recorded")
    void aRecordedSnapshotRendersTheReportsWrittenWithIt(String name) throws IOException {
        SnapshotDoc doc = SnapshotDoc.of(ReportFixtures.real(name));
        Path dir = Path.of("samples/snapshots", name);
        assertEquals(Files.readString(dir.resolve("report.txt")), ReportText.render(doc));
        assertEquals(Files.readString(dir.resolve("report.html")), ReportHtml.render(doc));
    }

    @Test
    void theFieldsAreTyped() {
        SnapshotDoc doc = SnapshotDoc.of(ReportFixtures.real("timer-stall-lost"));
        assertEquals(Verdict.TIMER_STALL, doc.verdict().verdict());
        assertEquals("lost-timer", doc.verdict().flavour());
        assertEquals(0xffffffffaaa17a0bL, doc.cpus().get(0).registers().get("rip"));
        assertEquals(0xffffffffaaa17a0bL, doc.cpus().get(0).hmp().rip());
        assertEquals(Long.MAX_VALUE, doc.timers().tickNextPeriodNs());
        assertEquals(0xffffffffaba1aa40L, doc.timers().cpus().get(0).current().task());
        assertNull(doc.vmcore());
    }

    @Test
    void withoutAVerdictTheDocumentStillMeetsTheSchema() throws IOException {
        SnapshotDoc real = SnapshotDoc.of(ReportFixtures.real("spin-deadlock"));
        SnapshotDoc none = new SnapshotDoc(real.schema(), real.takenAt(), real.tickwatchVersion(), real.statusBefore(),
                Snapshot.judgement(null, List.of()), List.of(), real.environment(), real.cpus(), real.registersSource(),
                null, null, null, new SnapshotDoc.Vmcore("elf", null, "dump-guest-memory refused: no", 1.5, null, null,
                        null, null), real.statusAfter(), List.of("a note"), real.timingsMs());
        JsonNode json = none.toJson();
        assertEquals(List.of(), schema().validate(json));
        assertTrue(json.path("verdict").path("verdict").isNull());
        assertFalse(json.path("verdict").has("confidence"), "no confidence without a verdict");
        assertTrue(json.path("vmcore").path("file").isNull(), "a failed dump names no file");
        assertTrue(ReportText.render(SnapshotDoc.of(json)).startsWith("tickwatch snapshot: no verdict\n"));
    }

    @Test
    void aTreeOfTheWrongShapeIsASnapshotException() {
        ObjectNode s = (ObjectNode) ReportFixtures.real("spin-deadlock").deepCopy();
        ((ObjectNode) s.path("cpus").get(0).path("stack")).put("rsp", "ffff");
        SnapshotException e = assertThrows(SnapshotException.class, () -> SnapshotDoc.of(s));
        assertEquals("not a tickwatch-snapshot/1 snapshot: address without 0x: ffff", e.getMessage());
    }
}
