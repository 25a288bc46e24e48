package dev.tickwatch.gdb.codec;

import java.nio.charset.StandardCharsets;

/**
 * A {@code $payload#cs} packet, payload already unescaped and run-length expanded.
 *
 * @param payload the packet data (owned by this record; not copied)
 */
public record RspPacket(byte[] payload) implements RspMessage {

    public static RspPacket of(String text) {
        return new RspPacket(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** The payload as text, one char per byte. */
    public String text() {
        return new String(payload, StandardCharsets.ISO_8859_1);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RspPacket p && java.util.Arrays.equals(payload, p.payload);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return "RspPacket[" + Rsp.printable(payload, 80) + "]";
    }
}
