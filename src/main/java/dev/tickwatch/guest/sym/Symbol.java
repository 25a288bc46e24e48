package dev.tickwatch.guest.sym;

/**
 * One kernel symbol as /proc/kallsyms lists it.
 *
 * @param address the run-time (relocated) address; per-CPU symbols hold their offset in the per-CPU area
 * @param type    nm's type letter ({@code T} global text, {@code t} local text, {@code D}, {@code B}, {@code R}, ...)
 * @param name    the symbol name
 * @param module  the module it belongs to, or null for the kernel image
 */
public record Symbol(long address, char type, String name, String module) {

    public boolean isText() {
        return type == 'T' || type == 't' || type == 'W' || type == 'w';
    }
}
