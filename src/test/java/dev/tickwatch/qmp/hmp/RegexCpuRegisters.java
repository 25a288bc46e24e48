package dev.tickwatch.qmp.hmp;

import dev.tickwatch.ProtocolException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The regular-expression parser of {@code info registers -a} as it was before the hand-written
 * scanner in {@link CpuRegisters} replaced it: kept as the reference the equivalence tests hold
 * the scanner to.
 */
final class RegexCpuRegisters {

    private RegexCpuRegisters() {
    }

    private static final Pattern CPU = Pattern.compile("CPU#(\\d+)");
    private static final Pattern IP = Pattern.compile(
            "([RE])IP=([0-9a-f]+) [RE]FL=([0-9a-f]+) \\[[^\\]]*\\] CPL=(\\d) II=\\d A20=\\d SMM=\\d HLT=(\\d)");
    private static final Pattern SP = Pattern.compile("[RE]SP=([0-9a-f]+)");
    private static final Pattern CR3 = Pattern.compile("CR3=([0-9a-f]+)");
    private static final Pattern CR4 = Pattern.compile("CR4=([0-9a-f]+)");
    private static final Pattern GS = Pattern.compile("GS =[0-9a-f]{4} ([0-9a-f]+)");
    private static final Pattern IDT = Pattern.compile("IDT=\\s+([0-9a-f]+)");

    /** Parses the whole {@code info registers -a} output, one entry per CPU, in CPU order. */
    static List<CpuRegisters> parseAll(String text) {
        List<CpuRegisters> out = new ArrayList<>();
        Matcher cpu = CPU.matcher(text);
        List<int[]> starts = new ArrayList<>();
        while (cpu.find()) {
            starts.add(new int[] {cpu.start(), Integer.parseInt(cpu.group(1))});
        }
        if (starts.isEmpty()) {
            // Without -a (or with one CPU) QEMU prints no CPU# header.
            out.add(parseOne(0, text));
            return out;
        }
        for (int i = 0; i < starts.size(); i++) {
            int end = i + 1 < starts.size() ? starts.get(i + 1)[0] : text.length();
            out.add(parseOne(starts.get(i)[1], text.substring(starts.get(i)[0], end)));
        }
        return List.copyOf(out);
    }

    static CpuRegisters parseOne(int cpu, String block) {
        Matcher ip = IP.matcher(block);
        if (!ip.find()) {
            throw new ProtocolException("no RIP/EIP line for CPU " + cpu + " in 'info registers' output: "
                    + block.strip().lines().findFirst().orElse("(empty)"));
        }
        Matcher sp = SP.matcher(block);
        return new CpuRegisters(cpu, Long.parseUnsignedLong(ip.group(2), 16), Long.parseUnsignedLong(ip.group(3), 16),
                Integer.parseInt(ip.group(4)), ip.group(5).equals("1"), ip.group(1).equals("R"),
                hex(SP, block), hex(CR3, block), hex(CR4, block), hex(GS, block), hex(IDT, block));
    }

    private static long hex(Pattern p, String block) {
        Matcher m = p.matcher(block);
        return m.find() ? Long.parseUnsignedLong(m.group(1), 16) : 0;
    }
}
