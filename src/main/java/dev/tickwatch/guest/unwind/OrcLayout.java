package dev.tickwatch.guest.unwind;

import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfField;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the fields of {@code struct orc_entry} lie and what its type numbers mean. The struct is
 * packed, six bytes: {@code s16 sp_offset; s16 bp_offset;} then bitfields that changed over time
 * (arch/x86/include/asm/orc_types.h): 6.1 has {@code sp_reg:4 bp_reg:4 type:2 end:1} with
 * CALL=0, REGS=1, REGS_PARTIAL=2; 6.3 added {@code signal:1}; 6.4 dropped {@code end} and widened
 * {@code type:3} with UNDEFINED=0, END_OF_STACK=1, CALL=2, REGS=3, REGS_PARTIAL=4. Read from BTF
 * when the kernel has it (the {@code end} member tells the numbering apart), else from the
 * version in the banner.
 *
 * @param signalBit -1 when the kernel has no signal bit
 * @param endBit    -1 when the kernel has no end bit (6.4+)
 * @param from      "BTF" or the version it was chosen by
 */
public record OrcLayout(int size, int spRegBit, int bpRegBit, int typeBit, int typeBits, int signalBit, int endBit,
        String from) {

    private static final Pattern VERSION = Pattern.compile("Linux version (\\d+)\\.(\\d+)");

    /** 6.1 (up to 6.2). */
    static final OrcLayout V6_1 = new OrcLayout(6, 32, 36, 40, 2, -1, 42, "kernel version (6.1 layout)");
    /** 6.3: signal before end. */
    static final OrcLayout V6_3 = new OrcLayout(6, 32, 36, 40, 2, 42, 43, "kernel version (6.3 layout)");
    /** 6.4 and later (6.12). */
    static final OrcLayout V6_4 = new OrcLayout(6, 32, 36, 40, 3, 43, -1, "kernel version (6.4+ layout)");

    /** Whether type numbers are 6.4's (no end bit: END_OF_STACK is a type of its own). */
    public boolean hasEndOfStackType() {
        return endBit < 0;
    }

    /** The layout of this kernel: from its BTF when that has struct orc_entry, else by version; null if neither. */
    static OrcLayout of(Btf btf, String version) {
        if (btf != null && btf.hasStruct("orc_entry")) {
            Optional<BtfField> sp = btf.findField("orc_entry", "sp_reg");
            Optional<BtfField> bp = btf.findField("orc_entry", "bp_reg");
            Optional<BtfField> type = btf.findField("orc_entry", "type");
            if (sp.isPresent() && bp.isPresent() && type.isPresent()) {
                int signal = btf.findField("orc_entry", "signal").map(f -> (int) f.bitOffset()).orElse(-1);
                int end = btf.findField("orc_entry", "end").map(f -> (int) f.bitOffset()).orElse(-1);
                return new OrcLayout(btf.struct("orc_entry").size(), (int) sp.get().bitOffset(),
                        (int) bp.get().bitOffset(), (int) type.get().bitOffset(), type.get().bitSize(), signal, end, "BTF");
            }
        }
        Matcher m = VERSION.matcher(version == null ? "" : version);
        if (!m.find()) {
            return null;
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        int v = major * 1000 + minor;
        return v >= 6004 ? V6_4 : v == 6003 ? V6_3 : V6_1;
    }

    /** Decodes the entry at {@code at} in {@code b}. */
    OrcEntry decode(byte[] b, int at) {
        long bits = 0;
        for (int i = Math.min(size, 8) - 1; i >= 0; i--) {
            bits = bits << 8 | (b[at + i] & 0xffL);
        }
        int spOffset = (short) (bits & 0xffff);
        int bpOffset = (short) (bits >>> 16 & 0xffff);
        int spReg = (int) (bits >>> spRegBit & 0xf);
        int bpReg = (int) (bits >>> bpRegBit & 0xf);
        int t = (int) (bits >>> typeBit & ((1 << typeBits) - 1));
        boolean end = endBit >= 0 && (bits >>> endBit & 1) != 0;
        OrcEntry.Type type;
        if (hasEndOfStackType()) {
            type = switch (t) {
                case 0 -> OrcEntry.Type.UNDEFINED;
                case 1 -> OrcEntry.Type.END_OF_STACK;
                case 2 -> OrcEntry.Type.CALL;
                case 3 -> OrcEntry.Type.REGS;
                case 4 -> OrcEntry.Type.REGS_PARTIAL;
                default -> OrcEntry.Type.UNKNOWN;
            };
        } else {
            type = switch (t) {
                case 0 -> OrcEntry.Type.CALL;
                case 1 -> OrcEntry.Type.REGS;
                case 2 -> OrcEntry.Type.REGS_PARTIAL;
                default -> OrcEntry.Type.UNKNOWN;
            };
        }
        boolean signal = signalBit >= 0 ? (bits >>> signalBit & 1) != 0
                : type == OrcEntry.Type.REGS || type == OrcEntry.Type.REGS_PARTIAL;
        return new OrcEntry(spOffset, bpOffset, spReg, bpReg, type, signal, end);
    }

    /** Encodes {@code e} (for tests: synthetic tables in this layout). */
    byte[] encode(OrcEntry e) {
        int t;
        if (hasEndOfStackType()) {
            t = switch (e.type()) {
                case UNDEFINED -> 0;
                case END_OF_STACK -> 1;
                case CALL -> 2;
                case REGS -> 3;
                case REGS_PARTIAL -> 4;
                case UNKNOWN -> 7;
            };
        } else {
            t = switch (e.type()) {
                case CALL, END_OF_STACK, UNDEFINED -> 0;
                case REGS -> 1;
                case REGS_PARTIAL -> 2;
                case UNKNOWN -> 3;
            };
        }
        long bits = (e.spOffset() & 0xffffL) | (e.bpOffset() & 0xffffL) << 16 | (long) (e.spReg() & 0xf) << spRegBit
                | (long) (e.bpReg() & 0xf) << bpRegBit | (long) t << typeBit;
        if (signalBit >= 0 && e.signal()) {
            bits |= 1L << signalBit;
        }
        if (endBit >= 0 && e.end()) {
            bits |= 1L << endBit;
        }
        byte[] out = new byte[size];
        for (int i = 0; i < size; i++) {
            out[i] = (byte) (bits >>> (8 * i));
        }
        return out;
    }
}
