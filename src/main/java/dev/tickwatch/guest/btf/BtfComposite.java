package dev.tickwatch.guest.btf;

import java.util.List;

/** A struct or union: {@code size} in bytes, members in declaration order. */
public record BtfComposite(int id, String name, int size, boolean union, List<BtfMember> members) {

    public BtfComposite {
        members = List.copyOf(members);
    }

    /** {@code struct NAME}, {@code union NAME}, or {@code struct {...}} when anonymous. */
    public String cName() {
        return (union ? "union " : "struct ") + (name.isEmpty() ? "{...}" : name);
    }
}
