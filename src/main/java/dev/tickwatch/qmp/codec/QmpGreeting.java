package dev.tickwatch.qmp.codec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The server greeting: {@code {"QMP": {"version": {...}, "capabilities": [...]}}}.
 *
 * @param version      QEMU's version object ({@code qemu.major/minor/micro}, {@code package})
 * @param capabilities offered capabilities, e.g. {@code oob}
 */
public record QmpGreeting(JsonNode version, List<String> capabilities) implements QmpMessage {

    /** "7.2.18", or "unknown" when the server did not say. */
    public String qemuVersion() {
        JsonNode q = version.path("qemu");
        if (q.isMissingNode()) {
            return "unknown";
        }
        return q.path("major").asInt() + "." + q.path("minor").asInt() + "." + q.path("micro").asInt();
    }
}
