package dev.tickwatch.guest.btf;

/** A {@code struct btf_array}: element and index type ids, element count. */
public record BtfArray(int elementType, int indexType, long length) {
}
