package dev.tickwatch.guest.btf;

import dev.tickwatch.guest.GuestLayoutException;
import java.util.Objects;

/**
 * Where a (possibly nested) field lies in its outermost struct: {@code offset} in bytes of the
 * byte holding its first bit; {@code bitOffset} in bits from the start of the struct (for a
 * plain field {@code offset * 8}); {@code bitSize} the bitfield width, 0 if not a bitfield;
 * {@code size} in bytes of the field's type (for a bitfield, of its storage type);
 * {@code typeId} the declared type and {@code type} that type with typedefs and qualifiers
 * resolved; {@code typeName} C-like, e.g. {@code struct hrtimer_clock_base[8]},
 * {@code ktime_t}, {@code unsigned int:1}; {@code signed} for signed integers and enums.
 */
public record BtfField(String struct, String path, int offset, long bitOffset, int bitSize, int size,
        int typeId, BtfType type, String typeName, boolean signed) {

    public boolean isBitfield() {
        return bitSize != 0;
    }

    /** True if {@link #read} can read it: an integer, enum, pointer or bitfield of 1, 2, 4 or 8 bytes. */
    public boolean isScalar() {
        if (bitSize != 0) {
            return true;
        }
        BtfKind k = type.kind();
        boolean number = k == BtfKind.INT || k == BtfKind.PTR || k.isEnum();
        return number && (size == 1 || size == 2 || size == 4 || size == 8);
    }

    /**
     * Reads the field from a little-endian (x86) {@code image} in which the struct starts at
     * {@code structOffset}: sign-extended if signed, zero-extended otherwise; a pointer as its raw
     * 64-bit value.
     *
     * @throws GuestLayoutException if the field is not a number (a struct, an array, ...)
     * @throws IndexOutOfBoundsException if the field lies outside {@code image}
     */
    public long read(byte[] image, int structOffset) {
        if (!isScalar()) {
            throw new GuestLayoutException("field " + struct + "." + path + " is " + typeName + " (" + size
                    + " bytes), not a number to read");
        }
        if (bitSize == 0) {
            Objects.checkFromIndexSize(structOffset + offset, size, image.length);
            long v = le(image, structOffset + offset, size);
            return signed && size < 8 ? (v << (64 - 8 * size)) >> (64 - 8 * size) : v;
        }
        int shift = (int) (bitOffset & 7);
        int bytes = (shift + bitSize + 7) / 8; // up to 9 for a 64-bit field not byte-aligned
        Objects.checkFromIndexSize(structOffset + offset, bytes, image.length);
        long v = le(image, structOffset + offset, Math.min(bytes, 8)) >>> shift;
        if (bytes > 8) {
            v |= (image[structOffset + offset + 8] & 0xffL) << (64 - shift);
        }
        if (bitSize < 64) {
            v &= (1L << bitSize) - 1;
            if (signed) {
                v = (v << (64 - bitSize)) >> (64 - bitSize);
            }
        }
        return v;
    }

    private static long le(byte[] b, int at, int n) {
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (b[at + i] & 0xffL);
        }
        return v;
    }
}
