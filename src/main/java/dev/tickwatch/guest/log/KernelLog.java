package dev.tickwatch.guest.log;

import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.GuestLayoutException;
import java.util.Optional;

/**
 * The running kernel's log: the ring buffer {@code prb} points to (kernel/printk/printk.c; the
 * static ring until setup_log_buf() moves the log to a bigger one, then that one). {@code prb} is
 * a data symbol: a kallsyms without KALLSYMS_ALL does not have it, and then the developer's
 * System.map or vmlinux must supply it.
 */
public final class KernelLog {

    private KernelLog() {
    }

    /**
     * The ring the kernel writes to now.
     *
     * @throws GuestLayoutException when {@code prb} or the ring's types are not to be had, saying
     *                              what would supply them
     */
    public static PrintkRing of(GuestKernel k) {
        Optional<Long> prb = k.symbols().addressOf("prb");
        if (prb.isEmpty()) {
            throw new GuestLayoutException(k.symbols().hasDataSymbols()
                    ? "kernel log: no symbol 'prb' in " + k.symbols().source()
                            + " (a kernel before 5.10 keeps its log elsewhere)"
                    : "kernel log: not readable: it needs the data symbol 'prb', and " + k.symbols().textOnly());
        }
        if (!k.hasBtf()) {
            throw new GuestLayoutException("kernel log: not readable without the kernel's types (" + k.btfProblem()
                    + "); give --vmlinux");
        }
        long ring = k.memory().readLong(prb.get());
        if (ring == 0) {
            throw new GuestLayoutException("kernel log: prb is still NULL (the kernel has not set up its log yet)");
        }
        return new PrintkRing(k.memory(), k.btf(), ring);
    }
}
