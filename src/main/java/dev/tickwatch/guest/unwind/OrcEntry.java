package dev.tickwatch.guest.unwind;

/**
 * One {@code struct orc_entry} decoded, its type made independent of the kernel's numbering
 * (6.1's CALL=0 or 6.4's CALL=2: see {@link OrcLayout}).
 *
 * @param signal the entry's signal bit (6.3+), or for older kernels whether its type is a regs type
 * @param end    6.1's end bit (the last frame of a kernel thread); false where the kernel has none
 */
public record OrcEntry(int spOffset, int bpOffset, int spReg, int bpReg, Type type, boolean signal, boolean end) {

    /** The frame types, named as in orc_types.h. */
    public enum Type {
        /** 6.4+ ORC_TYPE_UNDEFINED: no unwind data for this address. */
        UNDEFINED,
        /** 6.4+ ORC_TYPE_END_OF_STACK (6.1 marks it with sp_reg UNDEFINED and end=1). */
        END_OF_STACK,
        CALL,
        /** A full pt_regs at the previous SP. */
        REGS,
        /** Only the iret frame of a pt_regs at the previous SP. */
        REGS_PARTIAL,
        /** A number the kernel does not define: the table is not what we think it is. */
        UNKNOWN
    }

    /** ORC_REG_* (arch/x86/include/asm/orc_types.h, #defines, the same in 6.1 and 6.12). */
    public static final int REG_UNDEFINED = 0;
    public static final int REG_PREV_SP = 1;
    public static final int REG_DX = 2;
    public static final int REG_DI = 3;
    public static final int REG_BP = 4;
    public static final int REG_SP = 5;
    public static final int REG_R10 = 6;
    public static final int REG_R13 = 7;
    public static final int REG_BP_INDIRECT = 8;
    public static final int REG_SP_INDIRECT = 9;

    /**
     * unwind_orc.c's orc_fp_entry: what the kernel assumes for code without ORC data (BPF, ftrace
     * trampolines): a frame-pointer frame. A guess, so everything after it is unreliable.
     */
    static final OrcEntry FRAME_POINTER_GUESS = new OrcEntry(16, -16, REG_BP, REG_PREV_SP, Type.CALL, false, false);
}
