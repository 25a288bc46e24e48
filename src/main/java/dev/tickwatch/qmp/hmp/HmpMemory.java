package dev.tickwatch.qmp.hmp;

import dev.tickwatch.ProtocolException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The output of HMP {@code x /Ngx ADDR} and {@code xp /Ngx ADDR}: {@code %016lx:} then the
 * values, two quadwords a line, or {@code <addr>: Cannot access memory}.
 */
public final class HmpMemory {

    private static final Pattern VALUE = Pattern.compile("0x([0-9a-f]{16})");

    private HmpMemory() {
    }

    /** The quadwords in {@code text}; fails if QEMU could not access the memory. */
    public static long[] quadwords(String text) {
        if (text.contains("Cannot access memory")) {
            throw new ProtocolException("guest memory not accessible: " + text.strip());
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
}
