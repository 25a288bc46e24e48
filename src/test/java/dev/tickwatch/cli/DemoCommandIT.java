package dev.tickwatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's first command, for real: a short loop that finds its injected timer stall. */
class DemoCommandIT {

    @TempDir
    Path dir;

    @Test
    void demoFindsTheInjectedTimerStall() throws Exception {
        Path diag = dir.resolve("hangs");
        QmpCommandTest.Result r = QmpCommandTest.run("demo", "--json", "--smp", "1", "--healthy", "2",
                "--diagnostics", diag.toString());
        assertEquals(1, r.code(), "exit 1: the injected hang was found\n" + r.out() + r.err());
        JsonNode o = Json.MAPPER.readTree(r.out());
        assertEquals("hung", o.path("status").asText());
        assertEquals(2, o.path("clean").asInt());
        assertEquals("timer-stall-lost", o.path("first_hang").path("lab_mode").asText());
        assertEquals(2, o.path("first_hang").path("boot").asInt());
        assertEquals("TIMER_STALL", o.path("first_hang").path("verdict").asText());
        assertTrue(o.path("boot_median_s").asDouble() > 0);
        assertTrue(Files.isDirectory(Path.of(o.path("diagnostic").asText())));
        assertTrue(r.err().contains("demo: 3/3 boots"), "progress on stderr with --json: " + r.err());
    }
}
