package dev.tickwatch.qmp.codec;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * An asynchronous event: {@code {"event": NAME, "data": {...}, "timestamp": {seconds, microseconds}}}.
 *
 * @param name            e.g. {@code SHUTDOWN}, {@code STOP}, {@code DUMP_COMPLETED}
 * @param data            the event's data, an empty object when absent
 * @param timestampMicros QEMU's host wall-clock time of the event, in microseconds since the epoch
 */
public record QmpEvent(String name, JsonNode data, long timestampMicros) implements QmpMessage {
}
