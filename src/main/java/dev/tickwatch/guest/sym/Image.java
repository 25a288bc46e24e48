package dev.tickwatch.guest.sym;

import dev.tickwatch.guest.mem.GuestMemory;
import dev.tickwatch.guest.mem.GuestMemoryException;

/**
 * A window of guest virtual memory loaded block by block on first touch: the kernel image that
 * the kallsyms and BTF finders scan. Unmapped pages inside the window (the kernel unmaps the gaps
 * between text, rodata and data) read as zeros and are remembered as holes. Also built straight
 * from bytes, for tests.
 */
public final class Image {

    static final int BLOCK = 2 << 20;
    private static final int PAGE = 4096;

    private final long base;
    private final byte[] bytes;
    private final boolean[] loaded;
    private final GuestMemory memory;
    private long holeBytes;

    private Image(long base, byte[] bytes, GuestMemory memory, boolean allLoaded) {
        this.base = base;
        this.bytes = bytes;
        this.memory = memory;
        this.loaded = new boolean[(bytes.length + BLOCK - 1) / BLOCK];
        if (allLoaded) {
            java.util.Arrays.fill(loaded, true);
        }
    }

    /** An image over {@code [base, base + length)} of guest memory, read lazily. */
    public static Image of(GuestMemory memory, long base, int length) {
        return new Image(base, new byte[length], memory, false);
    }

    /** An image over bytes already in hand. */
    public static Image of(long base, byte[] bytes) {
        return new Image(base, bytes, null, true);
    }

    public long base() {
        return base;
    }

    public long end() {
        return base + bytes.length;
    }

    public int length() {
        return bytes.length;
    }

    /** Bytes of the window found unmapped so far. */
    public long holeBytes() {
        return holeBytes;
    }

    public boolean contains(long address, int length) {
        return address - base >= 0 && address - base + length <= bytes.length;
    }

    /** The backing array with block {@code index} loaded; offsets are relative to {@link #base()}. */
    byte[] block(int index) {
        if (!loaded[index]) {
            int from = index * BLOCK;
            load(from, Math.min(BLOCK, bytes.length - from));
            loaded[index] = true;
        }
        return bytes;
    }

    int blocks() {
        return loaded.length;
    }

    private void load(int from, int length) {
        try {
            memory.read(base + from, bytes, from, length);
        } catch (GuestMemoryException e) {
            if (length <= PAGE) {
                holeBytes += length;
                return;
            }
            // Halve until the holes are isolated: a few reads, not one per page.
            int half = (length / 2 + PAGE - 1) / PAGE * PAGE;
            load(from, half);
            load(from + half, length - half);
        }
    }

    private int offset(long address, int length) {
        long off = address - base;
        if (off < 0 || off + length > bytes.length) {
            throw new IndexOutOfBoundsException("0x" + Long.toHexString(address) + "+" + length
                    + " outside the image 0x" + Long.toHexString(base) + "..0x" + Long.toHexString(end()));
        }
        int o = (int) off;
        block(o / BLOCK);
        if ((o + length - 1) / BLOCK != o / BLOCK) {
            block((o + length - 1) / BLOCK);
        }
        return o;
    }

    public int u8(long address) {
        return bytes[offset(address, 1)] & 0xff;
    }

    public int u16(long address) {
        int o = offset(address, 2);
        return (bytes[o] & 0xff) | (bytes[o + 1] & 0xff) << 8;
    }

    public int s32(long address) {
        int o = offset(address, 4);
        return (bytes[o] & 0xff) | (bytes[o + 1] & 0xff) << 8 | (bytes[o + 2] & 0xff) << 16 | (bytes[o + 3] & 0xff) << 24;
    }

    public long u32(long address) {
        return s32(address) & 0xffff_ffffL;
    }

    public long u64(long address) {
        return u32(address) | u32(address + 4) << 32;
    }

    /** Copies {@code length} bytes out. */
    public byte[] bytes(long address, int length) {
        int o = offset(address, length);
        for (int b = o / BLOCK; b <= (o + length - 1) / BLOCK; b++) {
            block(b);
        }
        return java.util.Arrays.copyOfRange(bytes, o, o + length);
    }

    /** The first address at or after {@code from} where {@code pattern} occurs. */
    public java.util.OptionalLong find(byte[] pattern, long from) {
        int start = (int) Math.max(0, from - base);
        for (int b = start / BLOCK; b < loaded.length; b++) {
            block(b);
            if (b + 1 < loaded.length) {
                block(b + 1); // a match may straddle the block boundary
            }
            int limit = Math.min(bytes.length - pattern.length, (b + 1) * BLOCK - 1);
            outer:
            for (int i = Math.max(start, b * BLOCK); i <= limit; i++) {
                for (int j = 0; j < pattern.length; j++) {
                    if (bytes[i + j] != pattern[j]) {
                        continue outer;
                    }
                }
                return java.util.OptionalLong.of(base + i);
            }
        }
        return java.util.OptionalLong.empty();
    }
}
