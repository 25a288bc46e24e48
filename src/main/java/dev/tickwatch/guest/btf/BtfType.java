package dev.tickwatch.guest.btf;

/**
 * One {@code struct btf_type} (btf.rst 2.2): {@code name} is empty for anonymous types;
 * {@code sizeOrType} is the byte size for INT, STRUCT, UNION, ENUM, ENUM64, FLOAT and DATASEC and
 * the referenced type id for the others. The kind-specific data that follows it on the wire is
 * reached through {@link Btf} (members, array, enumerators).
 */
public record BtfType(int id, BtfKind kind, String name, boolean kindFlag, int vlen, int sizeOrType) {

    public boolean isAnonymous() {
        return name.isEmpty();
    }
}
