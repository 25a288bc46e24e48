package dev.tickwatch.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The reply of {@code query-status}.
 *
 * @param status  QEMU's run state: {@code running}, {@code paused}, {@code shutdown},
 *                {@code guest-panicked}, {@code internal-error}, {@code debug} (gdbstub stop)...
 * @param running whether vCPUs run
 */
public record QmpStatus(String status, boolean running) {
    static QmpStatus from(JsonNode n) {
        return new QmpStatus(n.path("status").asText(), n.path("running").asBoolean());
    }
}
