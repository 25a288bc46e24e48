package dev.tickwatch.gdb.codec;

/**
 * A frame the decoder could not accept: bad checksum, bad escape or run-length, over the size
 * limit, or cut short at end of stream. The decoder stays in sync after it.
 *
 * @param reason     what was wrong, for a person
 * @param excerpt    the first bytes of the decoded payload, printable characters only
 * @param fromPacket true when the frame began with {@code $}: the receiver answers {@code -}
 *                   (in acknowledgment mode) so that the sender retransmits
 */
public record RspInvalid(String reason, String excerpt, boolean fromPacket) implements RspMessage {
}
