package dev.tickwatch.guest.btf;

/**
 * A {@code struct btf_member} decoded: {@code bitOffset} from the start of the enclosing struct or
 * union; {@code bitSize} is the bitfield width from the kind_flag encoding, 0 if not a bitfield.
 * {@code name} is empty for an anonymous struct or union member.
 */
public record BtfMember(String name, int typeId, long bitOffset, int bitSize) {

    public boolean isBitfield() {
        return bitSize != 0;
    }
}
