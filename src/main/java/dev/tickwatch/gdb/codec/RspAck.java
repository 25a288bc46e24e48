package dev.tickwatch.gdb.codec;

/**
 * {@code +} (packet received intact) or {@code -} (checksum failed: send it again).
 *
 * @param ok true for {@code +}
 */
public record RspAck(boolean ok) implements RspMessage {
    public static final RspAck ACK = new RspAck(true);
    public static final RspAck NAK = new RspAck(false);
}
