package dev.tickwatch.qmp.hmp;

import dev.tickwatch.ProtocolException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The output of HMP {@code x /Ngx ADDR} and {@code xp /Ngx ADDR}: {@code %016lx:} then the
 * values, two quadwords a line, or {@code <addr>: Cannot access memory}; and of {@code gpa2hva
 * ADDR} (QEMU's monitor/misc.c): {@code Host virtual address for 0x... (pc.ram) is 0x7f...}, or
 * an error line when no RAM is there.
 */
public final class HmpMemory {

    private static final Pattern VALUE = Pattern.compile("0x([0-9a-f]{16})");
    private static final Pattern HVA = Pattern.compile("is (0x[0-9a-f]+)");

    private HmpMemory() {
    }

    /**
     * The quadwords in {@code text}.
     *
     * @throws HmpRefusedException if QEMU could not access the memory
     */
    public static long[] quadwords(String text) {
        if (text.contains("Cannot access memory")) {
            throw new HmpRefusedException("guest memory not accessible: " + text.strip(), text.strip());
        }
        List<Long> values = new ArrayList<>();
        for (String line : text.split("\r?\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            Matcher m = VALUE.matcher(line.substring(colon + 1));
            while (m.find()) {
                values.add(Long.parseUnsignedLong(m.group(1), 16));
            }
        }
        if (values.isEmpty()) {
            throw new ProtocolException("no values in 'x' output: " + text.strip());
        }
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * The host virtual address in a {@code gpa2hva} reply.
     *
     * @throws HmpRefusedException if QEMU names none (the address is not RAM)
     */
    public static long hostAddress(long guestPhysical, String text) {
        Matcher m = HVA.matcher(text);
        if (!m.find()) {
            throw new HmpRefusedException("no host address for guest physical 0x" + Long.toHexString(guestPhysical)
                    + ": " + text.strip(), text.strip());
        }
        return Long.parseUnsignedLong(m.group(1).substring(2), 16);
    }
}
