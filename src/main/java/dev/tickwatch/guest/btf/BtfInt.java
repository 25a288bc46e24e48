package dev.tickwatch.guest.btf;

/**
 * The u32 after a {@code BTF_KIND_INT} (btf.rst 2.2.1): encoding flags, bit offset and number of
 * bits. Bitfields in old blobs (no kind_flag) use {@code bitOffset} and {@code bits} here.
 */
public record BtfInt(int encoding, int bitOffset, int bits) {

    public static final int SIGNED = 1;
    public static final int CHAR = 2;
    public static final int BOOL = 4;

    public boolean signed() {
        return (encoding & SIGNED) != 0;
    }
}
