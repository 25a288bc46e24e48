package dev.tickwatch.guest;

import dev.tickwatch.guest.mem.GuestMemory;
import dev.tickwatch.guest.mem.GuestMemoryException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/** Test-only guest memory: 4 KiB pages written by the test, everything else unmapped. */
public final class FakeMemory implements GuestMemory {

    private static final int PAGE = 4096;
    private final Map<Long, byte[]> pages = new HashMap<>();

    /** Maps (zeroed) every page of {@code [address, address + length)}. */
    public FakeMemory map(long address, long length) {
        for (long p = address & -PAGE; Long.compareUnsigned(p, address + length) < 0; p += PAGE) {
            pages.computeIfAbsent(p, k -> new byte[PAGE]);
        }
        return this;
    }

    public FakeMemory write(long address, byte[] bytes) {
        map(address, bytes.length);
        for (int i = 0; i < bytes.length; i++) {
            pages.get((address + i) & -PAGE)[(int) ((address + i) & (PAGE - 1))] = bytes[i];
        }
        return this;
    }

    public FakeMemory writeLong(long address, long value) {
        return write(address, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }

    @Override
    public Backend backend() {
        return Backend.HMP_X;
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        for (int i = 0; i < length; i++) {
            byte[] page = pages.get((address + i) & -PAGE);
            if (page == null) {
                throw new GuestMemoryException(address + i, "unmapped");
            }
            dst[offset + i] = page[(int) ((address + i) & (PAGE - 1))];
        }
    }

    @Override
    public void readPhysical(long address, byte[] dst, int offset, int length) {
        throw new GuestMemoryException(address, "no physical memory in a fake");
    }
}
