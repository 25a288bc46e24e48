package dev.tickwatch.qmp.hmp;

import dev.tickwatch.ProtocolException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One vCPU's state from HMP {@code info registers -a} (QEMU's target/i386/cpu-dump.c): each CPU
 * starts with {@code CPU#N}; 64-bit mode prints {@code RIP=... RFL=... CPL= II= A20= SMM= HLT=},
 * other modes print {@code EIP=... EFL=...} (early boot). Read without pausing the guest.
 *
 * @param cpu      the CPU index
 * @param rip      instruction pointer (EIP zero-extended outside long mode)
 * @param rflags   flags register
 * @param cpl      current privilege level (0: kernel)
 * @param halted   HLT=1: the vCPU sits in HLT waiting for an interrupt
 * @param longMode whether the dump was in 64-bit form
 * @param rsp      stack pointer
 * @param cr3      page-table root
 */
public record CpuRegisters(int cpu, long rip, long rflags, int cpl, boolean halted, boolean longMode,
        long rsp, long cr3) {

    /** RFLAGS.IF, bit 9. */
    public static final long IF = 0x200;

    private static final Pattern CPU = Pattern.compile("CPU#(\\d+)");
    private static final Pattern IP = Pattern.compile(
            "([RE])IP=([0-9a-f]+) [RE]FL=([0-9a-f]+) \\[[^\\]]*\\] CPL=(\\d) II=\\d A20=\\d SMM=\\d HLT=(\\d)");
    private static final Pattern SP = Pattern.compile("[RE]SP=([0-9a-f]+)");
    private static final Pattern CR3 = Pattern.compile("CR3=([0-9a-f]+)");

    /** Whether interrupts are enabled (IF set). */
    public boolean interruptsEnabled() {
        return (rflags & IF) != 0;
    }

    /** Parses the whole {@code info registers -a} output, one entry per CPU, in CPU order. */
    public static List<CpuRegisters> parseAll(String text) {
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
        Matcher cr3 = CR3.matcher(block);
        return new CpuRegisters(cpu, Long.parseUnsignedLong(ip.group(2), 16), Long.parseUnsignedLong(ip.group(3), 16),
                Integer.parseInt(ip.group(4)), ip.group(5).equals("1"), ip.group(1).equals("R"),
                sp.find() ? Long.parseUnsignedLong(sp.group(1), 16) : 0,
                cr3.find() ? Long.parseUnsignedLong(cr3.group(1), 16) : 0);
    }
}
