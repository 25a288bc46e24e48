package dev.tickwatch.guest;

import java.util.List;

/**
 * A value read from guest memory and decoded by its BTF type, as drgn and crash print one: a tree
 * whose leaves are numbers, pointers, enumerators and strings, and whose inner nodes are structs,
 * unions and arrays.
 *
 * @param name     the member or variable name; empty for an anonymous struct or union member;
 *                 {@code [i]} for an array element
 * @param type     the C type as declared ({@code struct hrtimer_clock_base[8]}, {@code ktime_t},
 *                 {@code unsigned int:1} for a bitfield)
 * @param address  where the value lies in guest memory (a bitfield: the byte holding its first bit)
 * @param kind     what {@code raw}, {@code text} and {@code members} hold
 * @param raw      the number (INT, BOOL, ENUM), the pointer value (POINTER), the bits (FLOAT)
 * @param signed   whether {@code raw} is a signed number
 * @param text     the enumerator's name (null when no enumerator has the value), the pointer's
 *                 symbol (null when none), the string (STRING), or why it could not be read (OPAQUE)
 * @param members  struct and union members, or the array elements shown
 * @param omitted  array elements not shown (the array was abbreviated)
 */
public record TypedValue(String name, String type, long address, Kind kind, long raw, boolean signed, String text,
        List<TypedValue> members, long omitted) {

    /** What a value is, after typedefs and qualifiers. */
    public enum Kind {
        INT, BOOL, CHAR, ENUM, POINTER, FLOAT, STRING, STRUCT, UNION, ARRAY,
        /** Nothing to show: void, a function, a forward declaration, or a size this reader does not decode. */
        OPAQUE
    }

    public TypedValue {
        members = List.copyOf(members);
    }

    public boolean isComposite() {
        return kind == Kind.STRUCT || kind == Kind.UNION || kind == Kind.ARRAY;
    }
}
