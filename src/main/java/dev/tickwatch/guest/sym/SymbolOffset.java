package dev.tickwatch.guest.sym;

/** An address as {@code symbol+offset/size}, the kernel's %pS form. */
public record SymbolOffset(Symbol symbol, long offset, long size) {

    @Override
    public String toString() {
        String s = symbol.name() + "+0x" + Long.toHexString(offset) + "/0x" + Long.toHexString(size);
        return symbol.module() == null ? s : s + " [" + symbol.module() + "]";
    }
}
