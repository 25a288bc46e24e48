package dev.tickwatch.qmp.codec;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A successful response: {@code {"return": ..., "id": ...}}.
 *
 * @param id    the command's id as sent, or null when the server sent none
 * @param value the returned value (an empty object for commands that return nothing)
 */
public record QmpReturn(JsonNode id, JsonNode value) implements QmpMessage {
}
