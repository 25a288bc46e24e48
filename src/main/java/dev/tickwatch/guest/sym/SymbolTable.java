package dev.tickwatch.guest.sym;

import dev.tickwatch.guest.GuestLayoutException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The kernel's symbols, sorted by address, wherever they came from: kallsyms decoded from guest
 * memory ({@link Kallsyms}), a vmlinux's ELF symbol table or a System.map ({@link #of}). Image
 * addresses have the top bit set; per-CPU symbols are small offsets into the per-CPU area, and the
 * table sorts them first, unsigned, as kallsyms does.
 *
 * <p>A kernel built without {@code CONFIG_KALLSYMS_ALL} (defconfig) keeps only text symbols in
 * kallsyms: {@link #hasDataSymbols()} tells, and a missing data symbol's error says what to give
 * instead, so a text-only reading (RIP symbols, {@code sym}, {@code addr}) is never refused for it.
 */
public class SymbolTable {

    /** Fewer data and bss symbols than this: a text-only table (KALLSYMS_ALL has tens of thousands). */
    private static final int DATA_SYMBOLS = 100;

    private final long[] addresses;
    private final char[] types;
    private final String[] names;
    private final Map<String, Integer> byName;
    private final String source;
    private final boolean dataSymbols;
    private final long textStart;
    private final long textEnd;

    SymbolTable(long[] addresses, char[] types, String[] names, String source) {
        this.addresses = addresses;
        this.types = types;
        this.names = names;
        this.source = source;
        this.byName = new HashMap<>(names.length * 2);
        int data = 0;
        for (int i = 0; i < names.length; i++) {
            byName.putIfAbsent(names[i], i);
            if ("dDbB".indexOf(types[i]) >= 0) {
                data++;
            }
        }
        this.dataSymbols = data >= DATA_SYMBOLS;
        this.textStart = addressOf("_stext").or(() -> addressOf("_text")).orElse(0L);
        this.textEnd = addressOf("_etext").orElse(0L);
    }

    /**
     * {@code base}'s symbols at {@code delta} bytes higher. Every image address moves by the same
     * delta and per-CPU offsets stay, so the address order, and with it each name's index, is
     * unchanged: the name index is shared (read-only once built), not rebuilt. Rebuilding it (a
     * HashMap of ~90,000 names, for every boot of the same kernel) was the top of a warm boot
     * loop's watcher profile.
     */
    SymbolTable(SymbolTable base, long delta) {
        this.addresses = base.moved(delta);
        this.types = base.types;
        this.names = base.names;
        this.source = base.source;
        this.byName = base.byName;
        this.dataSymbols = base.dataSymbols;
        this.textStart = base.textStart == 0 ? 0 : base.textStart + delta;
        this.textEnd = base.textEnd == 0 ? 0 : base.textEnd + delta;
    }

    /** A table over {@code symbols} in any order; {@code source} names where they came from, for messages. */
    public static SymbolTable of(String source, List<Symbol> symbols) {
        List<Symbol> sorted = new ArrayList<>(symbols);
        sorted.sort(Comparator.comparing(Symbol::address, Long::compareUnsigned));
        int n = sorted.size();
        long[] a = new long[n];
        char[] t = new char[n];
        String[] s = new String[n];
        for (int i = 0; i < n; i++) {
            a[i] = sorted.get(i).address();
            t[i] = sorted.get(i).type();
            s[i] = sorted.get(i).name();
        }
        return new SymbolTable(a, t, s, source);
    }

    /**
     * The same build loaded {@code delta} bytes higher (another KASLR slide): image addresses
     * move, per-CPU offsets do not.
     */
    public SymbolTable slide(long delta) {
        return delta == 0 ? this : new SymbolTable(this, delta);
    }

    private long[] moved(long delta) {
        long[] moved = new long[addresses.length];
        for (int i = 0; i < moved.length; i++) {
            moved[i] = addresses[i] < 0 ? addresses[i] + delta : addresses[i];
        }
        return moved;
    }

    /** Where the symbols came from: "kallsyms", "vmlinux FILE's symbol table", "System.map FILE". */
    public String source() {
        return source;
    }

    /** Whether data symbols (jiffies_64, per-CPU variables) are listed, not only text. */
    public boolean hasDataSymbols() {
        return dataSymbols;
    }

    public int size() {
        return names.length;
    }

    public Symbol symbol(int index) {
        return new Symbol(addresses[index], types[index], names[index], null);
    }

    /** All symbols, in address order. */
    public List<Symbol> symbols() {
        List<Symbol> out = new ArrayList<>(names.length);
        for (int i = 0; i < names.length; i++) {
            out.add(symbol(i));
        }
        return out;
    }

    /** The address of {@code name} (the first one when several share the name). */
    public Optional<Long> addressOf(String name) {
        Integer i = byName.get(name);
        return i == null ? Optional.empty() : Optional.of(addresses[i]);
    }

    /** Like {@link #addressOf} but a missing symbol is a {@link GuestLayoutException} saying why it may be missing. */
    public long require(String name) {
        return addressOf(name).orElseThrow(() -> new GuestLayoutException("kernel symbol '" + name
                + "' not found in " + source + " (" + names.length + " symbols" + (dataSymbols ? ")"
                : "; " + textOnly() + ")")));
    }

    /** Why a text-only table lacks data symbols, and what to give instead. */
    public String textOnly() {
        return source + " has no data symbols: KALLSYMS_ALL off; give --vmlinux or --system-map";
    }

    /** Names starting with {@code prefix}, for completion; sorted, at most {@code limit}. */
    public List<String> namesStartingWith(String prefix, int limit) {
        return byName.keySet().stream().filter(n -> n.startsWith(prefix)).sorted().limit(limit).toList();
    }

    /**
     * The symbol containing {@code address} as the kernel's own lookup finds it: the last symbol
     * at or below it, its size up to the next higher address. Empty outside the image's symbols.
     */
    public Optional<SymbolOffset> lookup(long address) {
        int lo = 0;
        int hi = addresses.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(addresses[mid], address) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found < 0 || addresses[found] >= 0) {
            return Optional.empty(); // below every image symbol, or an absolute per-CPU value
        }
        // Prefer the first of several aliases at one address, as kallsyms does.
        while (found > 0 && addresses[found - 1] == addresses[found]) {
            found--;
        }
        int next = found + 1;
        while (next < addresses.length && addresses[next] == addresses[found]) {
            next++;
        }
        if (next >= addresses.length) {
            return Optional.empty(); // past the last symbol: size unknown, do not guess
        }
        long size = addresses[next] - addresses[found];
        long offset = address - addresses[found];
        if (offset >= size) {
            return Optional.empty();
        }
        return Optional.of(new SymbolOffset(symbol(found), offset, size));
    }

    /** Whether {@code address} lies in kernel text ({@code _stext}..{@code _etext}). */
    public boolean isKernelText(long address) {
        return textStart != 0 && textEnd != 0 && Long.compareUnsigned(address, textStart) >= 0
                && Long.compareUnsigned(address, textEnd) < 0;
    }

    @Override
    public String toString() {
        return "SymbolTable[" + names.length + " symbols from " + source + "]";
    }
}
