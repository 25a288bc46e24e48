package dev.tickwatch.qmp.codec;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * An error response: {@code {"error": {"class": ..., "desc": ...}, "id": ...}}.
 *
 * @param id          the command's id, or null (QEMU sends none when it could not parse the request)
 * @param errorClass  QEMU's error class, e.g. {@code GenericError}, {@code CommandNotFound}
 * @param description QEMU's human-readable description
 */
public record QmpError(JsonNode id, String errorClass, String description) implements QmpMessage {
}
