package dev.tickwatch.guest.mem;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Guest memory as the guest's CPUs see it, through one of several backends that differ in cost
 * (see {@link Backend}). Virtual addresses are translated with the kernel's page tables, so
 * kernel addresses (text, data, per-CPU areas, the direct map) read the same whichever vCPU runs
 * what. Reads are all-or-nothing: a range that touches an unmapped page throws
 * {@link GuestMemoryException} naming the first address that failed. Values are little-endian.
 */
public interface GuestMemory extends AutoCloseable {

    /** How a backend reaches guest memory, and what that costs the guest. */
    enum Backend {
        /** QEMU's own address space through /proc/PID/mem, our own page-table walk: no pause, same host only. */
        PROC_MEM("proc-mem", false),
        /** QMP {@code memsave}/{@code pmemsave} to a file QEMU writes: no pause, QEMU must share our file system. */
        QMP_MEMSAVE("qmp-memsave", false),
        /** HMP {@code x}/{@code xp} as text through QMP: no pause, slow, works for any QMP peer. */
        HMP_X("hmp-x", false),
        /** gdbstub {@code m}: pauses the whole VM while attached. */
        GDBSTUB("gdbstub", true);

        private final String label;
        private final boolean pauses;

        Backend(String label, boolean pauses) {
            this.label = label;
            this.pauses = pauses;
        }

        public String label() {
            return label;
        }

        /** Whether reading through this backend stops the guest. */
        public boolean pauses() {
            return pauses;
        }
    }

    Backend backend();

    /** Reads {@code length} bytes at guest virtual {@code address} into {@code dst}. */
    void read(long address, byte[] dst, int offset, int length);

    /** Reads {@code length} bytes at guest physical {@code address}. */
    void readPhysical(long address, byte[] dst, int offset, int length);

    default byte[] read(long address, int length) {
        byte[] b = new byte[length];
        read(address, b, 0, length);
        return b;
    }

    default long readLong(long address) {
        return ByteBuffer.wrap(read(address, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    default int readInt(long address) {
        return ByteBuffer.wrap(read(address, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    /** A NUL-terminated string of at most {@code max} bytes (read in one go: callers bound it). */
    default String readCString(long address, int max) {
        byte[] b = read(address, max);
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.ISO_8859_1);
    }

    /** Whether the page holding {@code address} is mapped (a one-byte read succeeds). */
    default boolean isMapped(long address) {
        try {
            read(address, new byte[1], 0, 1);
            return true;
        } catch (GuestMemoryException e) {
            return false;
        }
    }

    @Override
    default void close() {
    }
}
