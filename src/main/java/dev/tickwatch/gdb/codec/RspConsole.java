package dev.tickwatch.gdb.codec;

import java.nio.charset.StandardCharsets;

/**
 * An {@code O<hex>} console-output packet (GDB manual, "Stop Reply Packets", {@code O XX...}):
 * text the stub prints, during {@code qRcmd} or while the target runs. Never the answer itself.
 *
 * @param output the decoded bytes of the hex text
 */
public record RspConsole(byte[] output) implements RspMessage {

    public String text() {
        return new String(output, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RspConsole p && java.util.Arrays.equals(output, p.output);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(output);
    }

    @Override
    public String toString() {
        return "RspConsole[" + Rsp.printable(output, 80) + "]";
    }
}
