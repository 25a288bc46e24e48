package dev.tickwatch.guest.unwind;

import dev.tickwatch.guest.mem.GuestMemory;
import java.util.HashMap;
import java.util.Map;

/**
 * Guest memory read a 4 KiB page at a time and kept: an unwind reads a few words from each of a
 * few stack pages and ORC table pages, and one backend round trip per page instead of per word
 * is what makes it cheap over HMP. A page that cannot be read throws the backend's
 * {@link dev.tickwatch.guest.mem.GuestMemoryException}, each time it is asked for.
 */
final class PageCache {

    private static final int PAGE = 4096;
    private final GuestMemory memory;
    private final Map<Long, byte[]> pages = new HashMap<>();
    private int reads;

    PageCache(GuestMemory memory) {
        this.memory = memory;
    }

    /** How many pages were read from the backend. */
    int reads() {
        return reads;
    }

    private byte[] page(long base) {
        byte[] p = pages.get(base);
        if (p == null) {
            p = memory.read(base, PAGE);
            reads++;
            pages.put(base, p);
        }
        return p;
    }

    long readLong(long address) {
        return read(address, 8);
    }

    int readInt(long address) {
        return (int) read(address, 4);
    }

    /** A little-endian value of {@code n} (at most 8) bytes. */
    long read(long address, int n) {
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            long a = address + i;
            v = v << 8 | (page(a & -PAGE)[(int) (a & (PAGE - 1))] & 0xffL);
        }
        return v;
    }

    byte[] bytes(long address, int n) {
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            long a = address + i;
            out[i] = page(a & -PAGE)[(int) (a & (PAGE - 1))];
        }
        return out;
    }
}
