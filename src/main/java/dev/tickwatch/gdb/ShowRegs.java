package dev.tickwatch.gdb;

import dev.tickwatch.util.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * x86-64 registers in the kernel's own oops layout, the one {@code __show_regs}
 * (arch/x86/kernel/process_64.c, SHOW_REGS_ALL) and {@code show_iret_regs} (dumpstack.c) print,
 * so that a report reads like the oops a kernel developer already knows; and the same registers
 * as JSON: the target description's names ({@link Registers#X86_64_STATE}) with hex-string values.
 * The shell's {@code regs}, the snapshot and its report all go through here.
 *
 * <p>A live vCPU has no pt_regs, hence no {@code ORIG_RAX}; the debug registers and PKRU are not
 * in the gdbstub's register set, so those lines are left out. A register that was not read prints
 * as {@code ?} in its field; a line of which no register was read is left out.
 */
public final class ShowRegs {

    private ShowRegs() {
    }

    private static final String[][] GPR_ROWS = {{"RAX", "rax", "RBX", "rbx", "RCX", "rcx"},
        {"RDX", "rdx", "RSI", "rsi", "RDI", "rdi"}, {"RBP", "rbp", "R08", "r8", "R09", "r9"},
        {"R10", "r10", "R11", "r11", "R12", "r12"}, {"R13", "r13", "R14", "r14", "R15", "r15"}};

    /** The x86-64 state of a {@code g} reply as numbers, in {@link Registers#X86_64_STATE} order. */
    public static Map<String, Long> of(Registers g) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String n : Registers.X86_64_STATE) {
            if (g.has(n)) {
                out.put(n, g.get(n));
            }
        }
        return out;
    }

    /**
     * The oops lines, from {@code RIP:} to {@code CR2: ... CR4:}.
     *
     * @param regs      register name (as in target.xml) to value; any may be missing
     * @param ripSymbol {@code sym+0xoff/0xsize [module]} as %pS prints it, or null: then RIP is
     *                  {@code 0x...} as %pS prints an address without a symbol
     */
    public static List<String> lines(Map<String, Long> regs, String ripSymbol) {
        List<String> out = new ArrayList<>();
        Long rip = regs.get("rip");
        String at = ripSymbol != null ? ripSymbol : rip != null ? "0x" + Long.toHexString(rip) : "?".repeat(16);
        out.add("RIP: " + hex(regs, "cs", 4) + ":" + at);
        out.add("RSP: " + hex(regs, "ss", 4) + ":" + hex(regs, "rsp", 16) + " EFLAGS: " + hex(regs, "eflags", 8));
        for (String[] row : GPR_ROWS) {
            if (any(regs, row[1], row[3], row[5])) {
                out.add(row[0] + ": " + hex(regs, row[1], 16) + " " + row[2] + ": " + hex(regs, row[3], 16) + " "
                        + row[4] + ": " + hex(regs, row[5], 16));
            }
        }
        if (any(regs, "fs_base", "fs", "gs_base", "gs", "k_gs_base")) {
            out.add("FS:  " + hex(regs, "fs_base", 16) + "(" + hex(regs, "fs", 4) + ") GS:" + hex(regs, "gs_base", 16)
                    + "(" + hex(regs, "gs", 4) + ") knlGS:" + hex(regs, "k_gs_base", 16));
        }
        if (any(regs, "cs", "ds", "es", "cr0")) {
            out.add("CS:  " + hex(regs, "cs", 4) + " DS: " + hex(regs, "ds", 4) + " ES: " + hex(regs, "es", 4)
                    + " CR0: " + hex(regs, "cr0", 16));
        }
        if (any(regs, "cr2", "cr3", "cr4")) {
            out.add("CR2: " + hex(regs, "cr2", 16) + " CR3: " + hex(regs, "cr3", 16) + " CR4: " + hex(regs, "cr4", 16));
        }
        return out;
    }

    /**
     * The registers as JSON values: {@code "0x..."} strings under the target description's names,
     * the x86-64 state first in its order, then any others as given.
     */
    public static Map<String, String> json(Map<String, Long> regs) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String n : Registers.X86_64_STATE) {
            if (regs.get(n) != null) {
                out.put(n, Json.hex(regs.get(n)));
            }
        }
        regs.forEach((n, v) -> {
            if (v != null) {
                out.putIfAbsent(n, Json.hex(v));
            }
        });
        return out;
    }

    private static boolean any(Map<String, Long> regs, String... names) {
        for (String n : names) {
            if (regs.get(n) != null) {
                return true;
            }
        }
        return false;
    }

    /** {@code %0Nlx}, or N question marks when the register was not read. */
    private static String hex(Map<String, Long> regs, String name, int digits) {
        Long v = regs.get(name);
        if (v == null) {
            return "?".repeat(digits);
        }
        String h = Long.toHexString(v);
        return h.length() >= digits ? h : "0".repeat(digits - h.length()) + h;
    }

    /** The lines joined, each ended by a newline. */
    public static String text(Map<String, Long> regs, String ripSymbol) {
        StringBuilder b = new StringBuilder();
        for (String l : lines(regs, ripSymbol)) {
            b.append(l).append('\n');
        }
        return b.toString();
    }
}
