package dev.tickwatch.qmp.codec;

/**
 * A frame the decoder could not turn into a message: garbage between objects, malformed JSON,
 * an object over the size limit, a truncated object at end of stream, or JSON that is not a
 * QMP message. The decoder stays usable after it.
 *
 * @param reason  what was wrong, for a person
 * @param excerpt the first bytes of the offending input, printable characters only
 */
public record QmpInvalid(String reason, String excerpt) implements QmpMessage {
}
