package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The published schema and the real snapshots agree, and the validator does catch what breaks it. */
class SnapshotSchemaTest {

    private static SchemaSubset schema() throws IOException {
        return new SchemaSubset(Json.MAPPER.readTree(Files.readString(Path.of("protocols/snapshot/snapshot.schema.json"))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"timer-stall-lost", "spin-deadlock", "timer-stall-30s"})
    void theSampleSnapshotsValidate(String mode) throws IOException {
        assertEquals(List.of(), schema().validate(ReportFixtures.real(mode)));
    }

    @Test
    void theValidatorReportsMissingKeysWrongTypesAndNumbersForAddresses() throws IOException {
        ObjectNode s = (ObjectNode) ReportFixtures.real("spin-deadlock").deepCopy();
        s.remove("timers");
        ((ObjectNode) s.path("cpus").get(1).path("stack").path("entries").get(0)).put("address", 18446744071578845184.0);
        ((ObjectNode) s.path("verdict")).put("verdict", "HUNG");
        s.put("extra", 1);
        List<String> errors = schema().validate(s);
        assertTrue(errors.contains("$: missing 'timers'"), errors.toString());
        assertTrue(errors.contains("$.cpus[1].stack.entries[0].address: number (expected: string)"), errors.toString());
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("$.verdict.verdict: \"HUNG\" is not one of")), errors.toString());
        assertTrue(errors.contains("$: unexpected property 'extra'"), errors.toString());
        assertEquals(4, errors.size(), errors.toString());
    }

    @Test
    void theSchemaNamesTheVersionTheCodeWrites() throws IOException {
        JsonNode raw = Json.MAPPER.readTree(Files.readString(Path.of("protocols/snapshot/snapshot.schema.json")));
        assertEquals(Snapshot.SCHEMA, raw.path("properties").path("schema").path("const").asText());
    }
}
