package dev.tickwatch.guest.btf;

/**
 * One line of {@link Btf#describe}, shaped for JSON: {@code depth} 0 for direct members and one
 * more per enclosing anonymous struct or union; {@code offset} in bytes and {@code bitOffset} in
 * bits, both from the start of the described struct; {@code size} in bytes of the member's type;
 * {@code bitSize} 0 unless a bitfield; {@code declaration} the member as C declares it
 * ({@code char comm[16]}, {@code void (*event_handler)(struct clock_event_device *)},
 * {@code unsigned int tick_stopped:1}).
 */
public record BtfMemberRow(int depth, String name, String type, int offset, int size, long bitOffset, int bitSize,
        String declaration) {
}
