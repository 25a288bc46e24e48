package dev.tickwatch.guest.btf;

import java.util.Arrays;

/** Where {@link Btf#find} found a blob: byte {@code offset} into the searched region, {@code length} bytes. */
public record BtfLocation(int offset, int length) {

    /** The blob's bytes, copied out of {@code region}. */
    public byte[] bytes(byte[] region) {
        return Arrays.copyOfRange(region, offset, offset + length);
    }
}
