package dev.tickwatch.gdb.codec;

import java.nio.charset.StandardCharsets;

/**
 * A {@code %name:data#cs} notification (GDB manual, "Notification Packets"): sent by the stub at
 * any time, never an answer to a request, never acknowledged.
 *
 * @param payload everything between {@code %} and {@code #}, unescaped
 */
public record RspNotification(byte[] payload) implements RspMessage {

    public String text() {
        return new String(payload, StandardCharsets.ISO_8859_1);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RspNotification p && java.util.Arrays.equals(payload, p.payload);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return "RspNotification[" + Rsp.printable(payload, 80) + "]";
    }
}
