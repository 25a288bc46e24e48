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
 * @param cr3      page-table root (with PCID bits, and KPTI's user bit when in user mode)
 * @param cr4      control register 4 (bit 12, LA57: five-level paging)
 * @param gsBase   GS base: in kernel mode on x86_64 the CPU's per-CPU area
 * @param idtBase  IDT base: its gates point into kernel text even when the CPU is in user mode
 */
public record CpuRegisters(int cpu, long rip, long rflags, int cpl, boolean halted, boolean longMode,
        long rsp, long cr3, long cr4, long gsBase, long idtBase) {

    /** RFLAGS.IF, bit 9. */
    public static final long IF = 0x200;

    private static final Pattern CPU = Pattern.compile("CPU#(\\d+)");
    private static final Pattern IP = Pattern.compile(
            "([RE])IP=([0-9a-f]+) [RE]FL=([0-9a-f]+) \\[[^\\]]*\\] CPL=(\\d) II=\\d A20=\\d SMM=\\d HLT=(\\d)");
    private static final Pattern SP = Pattern.compile("[RE]SP=([0-9a-f]+)");
    private static final Pattern CR3 = Pattern.compile("CR3=([0-9a-f]+)");
    private static final Pattern CR4 = Pattern.compile("CR4=([0-9a-f]+)");
    private static final Pattern GS = Pattern.compile("GS =[0-9a-f]{4} ([0-9a-f]+)");
    private static final Pattern IDT = Pattern.compile("IDT=\\s+([0-9a-f]+)");

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
        return new CpuRegisters(cpu, Long.parseUnsignedLong(ip.group(2), 16), Long.parseUnsignedLong(ip.group(3), 16),
                Integer.parseInt(ip.group(4)), ip.group(5).equals("1"), ip.group(1).equals("R"),
                hex(SP, block), hex(CR3, block), hex(CR4, block), hex(GS, block), hex(IDT, block));
    }

    private static long hex(Pattern p, String block) {
        Matcher m = p.matcher(block);
        return m.find() ? Long.parseUnsignedLong(m.group(1), 16) : 0;
    }
}
