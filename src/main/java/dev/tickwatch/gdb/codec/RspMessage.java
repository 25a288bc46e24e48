package dev.tickwatch.gdb.codec;

/**
 * One unit of the GDB Remote Serial Protocol stream (GDB manual, "Remote Protocol", sections
 * "Overview" and "Notification Packets"): a {@code $...#cs} packet, a {@code +}/{@code -}
 * acknowledgment, a {@code %...#cs} notification, an {@code O} console-output packet, the
 * {@code 0x03} interrupt byte; plus {@link RspInvalid}, a frame that failed to decode, passed on
 * as data so that the connection survives it.
 */
public sealed interface RspMessage permits RspPacket, RspAck, RspNotification, RspConsole, RspInterrupt, RspInvalid {
}
