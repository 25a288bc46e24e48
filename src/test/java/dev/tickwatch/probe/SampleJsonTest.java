package dev.tickwatch.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.ProtocolException;

import dev.tickwatch.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Samples as JSON lines: the recorded series read and write back as they were, in the same key order. */
class SampleJsonTest {

    static Stream<Path> series() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("samples/series"))) {
            return s.filter(p -> p.toString().endsWith(".jsonl") && !p.toString().endsWith(".verdicts.jsonl"))
                    .sorted().toList().stream();
        }
    }

    /**
     * Every recorded series writes back as recorded; the older ones predate the wait times, which
     * come back as -1, unknown, and nothing else changes.
     */
    @ParameterizedTest
    @MethodSource("series")
    void aRecordedSeriesWritesBackAsRecorded(Path file) throws IOException {
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) {
                continue;
            }
            ObjectNode raw = (ObjectNode) Json.MAPPER.readTree(line);
            ObjectNode back = SampleJson.toJson(SampleJson.fromJson(raw));
            if (!raw.has("qemu_wait_ns")) {
                assertEquals(-1, back.path("qemu_wait_ns").asLong(), "absent reads as unknown");
                back.remove("qemu_wait_ns");
            }
            for (int i = 0; i < raw.path("cpus").size(); i++) {
                if (!raw.path("cpus").get(i).has("thread_wait_ns")) {
                    assertEquals(-1, back.path("cpus").get(i).path("thread_wait_ns").asLong());
                    ((ObjectNode) back.path("cpus").get(i)).remove("thread_wait_ns");
                }
            }
            assertEquals(keys(raw), keys(back), "same keys in the same order");
            assertEquals(Json.compact(raw), Json.compact(back));
        }
    }

    private static List<String> keys(JsonNode n) {
        List<String> out = new java.util.ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            out.add(e.getKey());
            if (e.getValue().isObject()) {
                keys(e.getValue()).forEach(k -> out.add(e.getKey() + "." + k));
            }
        }
        return out;
    }

    @Test
    void aSampleRoundTripsWithAddressesAsHexAndItsLapic() {
        LapicTimer lapic = new LapicTimer(0xec, "one-shot", false, 236, 16, 99227, 12);
        Sample s = new Sample(5, 6, "running", 100, "kernel", false,
                List.of(new VcpuSample(0, 11, 12, 13, 0xffffffff81c18710L, "native_safe_halt+0xb/0x10", true, true, 0,
                        true, lapic), new VcpuSample(1, 21, 22, -1, 0xfff0, null, false, true, 0, false, null)),
                new KernelSample(4294892993L, 2792000000L, 1, 250,
                        List.of(new KernelSample.Cpu(0, 445, Long.MAX_VALUE, 186, null, null, 0)),
                        List.of(new KernelSample.BlockedTask(94, "lab-abba/0", 31.5))),
                List.of("status: qmp query-status"), 77);
        ObjectNode j = SampleJson.toJson(s);
        assertEquals("0xffffffff81c18710", j.path("cpus").get(0).path("rip").asText());
        assertEquals("0xec", j.path("cpus").get(0).path("lapic").path("lvtt").asText());
        assertTrue(j.path("cpus").get(0).path("if").asBoolean());
        assertTrue(!j.path("cpus").get(1).has("lapic"), "no lapic key without a LAPIC reading");
        assertTrue(j.path("kernel").path("cpus").get(0).path("tick_stopped").isNull());
        assertEquals(s, SampleJson.fromJson(j));
        assertNull(SampleJson.fromJson(j).cpus().get(1).lapic());
    }

    @Test
    void anAddressWithout0xIsNotASample() {
        ObjectNode j = SampleJson.toJson(new Sample(1, 2, "running", 0, null, false,
                List.of(new VcpuSample(0, 1, 2, 3, 0x10, null, false, false, 0, true, null)), null, List.of(), -1));
        ((ObjectNode) j.path("cpus").get(0)).put("rip", "16");
        ProtocolException e = assertThrows(ProtocolException.class, () -> SampleJson.fromJson(j));
        assertEquals("not a tickwatch sample: address without 0x: 16", e.getMessage());
    }
}
