package dev.tickwatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.util.Json;
import org.junit.jupiter.api.Test;

/** The README's first command, for real: boots the appliance under QEMU. */
class DemoCommandIT {

    @Test
    void demoBootsTheApplianceAndPowersOff() throws Exception {
        QmpCommandTest.Result r = QmpCommandTest.run("demo", "--json", "--smp", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        JsonNode o = Json.MAPPER.readTree(r.out());
        assertTrue(o.path("ok").asBoolean(), r.out());
        assertEquals("done", o.path("last_milestone").asText());
        assertEquals("guest-shutdown", o.path("shutdown_reason").asText());
        assertTrue(o.path("boot_s").asDouble() > 0);
    }
}
