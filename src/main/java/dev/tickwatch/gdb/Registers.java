package dev.tickwatch.gdb;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One vCPU's registers as a {@code g} reply gave them, named by the target description.
 * Values are little-endian byte strings as the stub sent them (x86 is little-endian; the GDB
 * manual says {@code g} uses target byte order); registers the stub sent as {@code xx} are absent.
 *
 * @param thread the thread (vCPU) they belong to
 * @param values register name to its raw bytes, in regnum order
 */
public record Registers(GdbThread thread, Map<String, byte[]> values) {

    /** The x86-64 integer, segment and control registers, in the order an oops prints them (names from target.xml). */
    public static final java.util.List<String> X86_64_STATE = java.util.List.of("rax", "rbx", "rcx", "rdx", "rsi", "rdi",
            "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags", "cs", "ss", "ds", "es",
            "fs", "gs", "fs_base", "gs_base", "k_gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer");

    public Registers {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** The value of a register of up to 64 bits. */
    public long get(String name) {
        byte[] v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no register '" + name + "' (have: " + values.keySet() + ")");
        }
        if (v.length > 8) {
            throw new IllegalArgumentException("register '" + name + "' has " + v.length * 8 + " bits: use hex()");
        }
        long x = 0;
        for (int i = v.length - 1; i >= 0; i--) {
            x = x << 8 | (v[i] & 0xff);
        }
        return x;
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** The value as a hex number, most significant digit first: {@code 0xffffffff81a17a0b}. */
    public String hex(String name) {
        byte[] v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no register '" + name + "'");
        }
        return hex(v);
    }

    static String hex(byte[] littleEndian) {
        StringBuilder sb = new StringBuilder("0x");
        int i = littleEndian.length - 1;
        while (i > 0 && littleEndian[i] == 0) {
            i--;
        }
        sb.append(Integer.toHexString(littleEndian[i] & 0xff));
        for (i--; i >= 0; i--) {
            sb.append(String.format("%02x", littleEndian[i] & 0xff));
        }
        return sb.toString();
    }
}
