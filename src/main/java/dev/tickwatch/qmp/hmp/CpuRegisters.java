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

    private static final String CPU = "CPU#";

    /** Whether interrupts are enabled (IF set). */
    public boolean interruptsEnabled() {
        return (rflags & IF) != 0;
    }

    /**
     * Parses the whole {@code info registers -a} output, one entry per CPU, in CPU order. Every
     * sample of every watched guest runs this: it scans the text in place (HmpScan) instead of
     * running seven regular expressions over a substring per CPU, and reads the same values.
     */
    public static List<CpuRegisters> parseAll(String text) {
        int end = text.length();
        // Headers first, all of them, as the regular expression did: {start, cpu} pairs.
        int[] headers = new int[8];
        int n = 0;
        int from = 0;
        while (true) {
            int h = text.indexOf(CPU, from);
            if (h < 0) {
                break;
            }
            int d = h + CPU.length();
            int de = HmpScan.digitRun(text, d, end);
            if (de == d) {
                from = h + 1;
                continue;
            }
            if (n + 2 > headers.length) {
                headers = java.util.Arrays.copyOf(headers, headers.length * 2);
            }
            headers[n++] = h;
            headers[n++] = HmpScan.decimalInt(text, d, de);
            from = de;
        }
        if (n == 0) {
            // Without -a (or with one CPU) QEMU prints no CPU# header.
            return List.of(parseOne(0, text, 0, end));
        }
        CpuRegisters[] out = new CpuRegisters[n / 2];
        for (int i = 0; i < n; i += 2) {
            out[i / 2] = parseOne(headers[i + 1], text, headers[i], i + 2 < n ? headers[i + 2] : end);
        }
        return List.of(out);
    }

    private static final Pattern GPR = Pattern.compile("\\b(R[ABCD]X|R[SD]I|R[BS]P|R\\d{1,2}) ?=([0-9a-f]{16})");

    /**
     * The general-purpose registers of each CPU in the same {@code info registers -a} text
     * ({@code RAX=... R8 =...}), named as the gdbstub names them ({@code rax}, {@code r8}), in CPU
     * order; empty maps outside long mode.
     */
    public static List<java.util.Map<String, Long>> parseGeneral(String text) {
        List<java.util.Map<String, Long>> out = new ArrayList<>();
        String[] blocks = text.split("(?=CPU#\\d+)");
        for (String block : blocks) {
            if (blocks.length > 1 && !block.startsWith("CPU#")) {
                continue;
            }
            java.util.Map<String, Long> regs = new java.util.LinkedHashMap<>();
            Matcher m = GPR.matcher(block);
            while (m.find()) {
                regs.put(m.group(1).toLowerCase(java.util.Locale.ROOT), Long.parseUnsignedLong(m.group(2), 16));
            }
            out.add(regs);
        }
        return List.copyOf(out);
    }

    /** CPU {@code cpu}'s registers from {@code text} between {@code from} and {@code end}. */
    static CpuRegisters parseOne(int cpu, String text, int from, int end) {
        // ([RE])IP=(hex) [RE]FL=(hex) \[[^\]]*\] CPL=(\d) II=\d A20=\d SMM=\d HLT=(\d), leftmost.
        int i = from;
        while (true) {
            int p = text.indexOf("IP=", i);
            if (p < 0 || p + 3 > end) {
                throw new ProtocolException("no RIP/EIP line for CPU " + cpu + " in 'info registers' output: "
                        + text.substring(from, end).strip().lines().findFirst().orElse("(empty)"));
            }
            i = p + 1;
            if (p - 1 < from) {
                continue;
            }
            char mode = text.charAt(p - 1);
            if (mode != 'R' && mode != 'E') {
                continue;
            }
            int ip = p + 3;
            int ipEnd = HmpScan.hexRun(text, ip, end);
            if (ipEnd == ip || !HmpScan.at(text, ipEnd, end, " ") || ipEnd + 1 >= end
                    || (text.charAt(ipEnd + 1) != 'R' && text.charAt(ipEnd + 1) != 'E')
                    || !HmpScan.at(text, ipEnd + 2, end, "FL=")) {
                continue;
            }
            int fl = ipEnd + 5;
            int flEnd = HmpScan.hexRun(text, fl, end);
            if (flEnd == fl || !HmpScan.at(text, flEnd, end, " [")) {
                continue;
            }
            int close = text.indexOf(']', flEnd + 2);
            if (close < 0 || close >= end) {
                continue;
            }
            int q = close + 1;
            int cpl = digitAfter(text, q, end, " CPL=");
            int hlt = cpl < 0 ? -1 : digitAfter(text, q + 6, end, " II=");
            hlt = hlt < 0 ? -1 : digitAfter(text, q + 11, end, " A20=");
            hlt = hlt < 0 ? -1 : digitAfter(text, q + 17, end, " SMM=");
            hlt = hlt < 0 ? -1 : digitAfter(text, q + 23, end, " HLT=");
            if (hlt < 0) {
                continue;
            }
            return new CpuRegisters(cpu, HmpScan.unsignedHex(text, ip, ipEnd), HmpScan.unsignedHex(text, fl, flEnd),
                    cpl, hlt == 1, mode == 'R', sp(text, from, end), hex(text, from, end, "CR3="), hex(text, from, end, "CR4="),
                    gs(text, from, end), idt(text, from, end));
        }
    }

    /** The digit right after {@code lit} at {@code at}, or -1. */
    private static int digitAfter(String s, int at, int end, String lit) {
        int d = at + lit.length();
        return HmpScan.at(s, at, end, lit) && d < end && HmpScan.isDigit(s.charAt(d)) ? s.charAt(d) - '0' : -1;
    }

    /** {@code LIT([0-9a-f]+)}: the first such value, 0 without one. */
    private static long hex(String s, int from, int end, String lit) {
        int v = HmpScan.hexAfter(s, from, end, lit);
        return v < 0 ? 0 : HmpScan.unsignedHex(s, v, HmpScan.hexRun(s, v, end));
    }

    /** {@code [RE]SP=([0-9a-f]+)}. */
    private static long sp(String s, int from, int end) {
        int i = from;
        while (true) {
            int v = HmpScan.hexAfter(s, i, end, "SP=");
            if (v < 0) {
                return 0;
            }
            int r = v - 4;
            if (r >= from && (s.charAt(r) == 'R' || s.charAt(r) == 'E')) {
                return HmpScan.unsignedHex(s, v, HmpScan.hexRun(s, v, end));
            }
            i = v - 2;
        }
    }

    /** {@code GS =[0-9a-f]{4} ([0-9a-f]+)}. */
    private static long gs(String s, int from, int end) {
        int i = from;
        while (true) {
            int p = s.indexOf("GS =", i);
            if (p < 0 || p + 4 > end) {
                return 0;
            }
            int sel = p + 4;
            int v = sel + 5;
            if (HmpScan.hexRun(s, sel, Math.min(end, sel + 4)) == sel + 4 && HmpScan.at(s, sel + 4, end, " ")
                    && v < end && HmpScan.isHex(s.charAt(v))) {
                return HmpScan.unsignedHex(s, v, HmpScan.hexRun(s, v, end));
            }
            i = p + 1;
        }
    }

    /** {@code IDT=\s+([0-9a-f]+)}. */
    private static long idt(String s, int from, int end) {
        int i = from;
        while (true) {
            int p = s.indexOf("IDT=", i);
            if (p < 0 || p + 4 > end) {
                return 0;
            }
            int w = p + 4;
            while (w < end && HmpScan.isSpace(s.charAt(w))) {
                w++;
            }
            if (w > p + 4 && w < end && HmpScan.isHex(s.charAt(w))) {
                return HmpScan.unsignedHex(s, w, HmpScan.hexRun(s, w, end));
            }
            i = p + 1;
        }
    }
}
