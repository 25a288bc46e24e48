package dev.tickwatch.guest.unwind;

/**
 * One line of a call trace.
 *
 * @param address  the text address: a return address for {@link Kind#RETURN} (named by
 *                 {@code address - 1}, as the kernel's %pB does, and printed as found)
 * @param symbol   the function, null when no symbol contains it
 * @param offset   from the function's start to {@code address}
 * @param size     the function's size, 0 when unknown
 * @param module   the module's name, null for vmlinux
 * @param reliable false after the unwinder had to guess (no ORC entry) and for scanned words
 * @param stack    the stack the address was read from (for {@code <IRQ>} markers); null for the start
 * @param slot     where on that stack it was read, 0 for registers
 */
public record Frame(long address, String symbol, long offset, long size, String module, boolean reliable, Kind kind,
        StackType stack, long slot) {

    public enum Kind {
        /** The CPU's RIP, where the unwind starts. */
        RIP,
        /** A return address found by the unwinder. */
        RETURN,
        /** The interrupted RIP from a pt_regs frame (an interrupt or exception entry). */
        REGS,
        /** A word on the stack that points into text: not unwound, a clue only. */
        SCAN
    }

    /** {@code __mutex_lock.constprop.0+0x39d/0x720}, {@code f+0x1/0x2 [mod]}, or {@code 0xffff...} without a symbol. */
    public String text() {
        if (symbol == null) {
            return "0x" + Long.toHexString(address);
        }
        return symbol + "+0x" + Long.toHexString(offset) + (size > 0 ? "/0x" + Long.toHexString(size) : "")
                + (module == null ? "" : " [" + module + "]");
    }
}
