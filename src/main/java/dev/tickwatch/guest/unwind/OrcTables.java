package dev.tickwatch.guest.unwind;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.Modules;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.sym.SymbolTable;
import java.util.List;
import java.util.Optional;

/**
 * The kernel's ORC tables in guest memory and their lookup, as unwind_orc.c's orc_find: vmlinux
 * text through the {@code orc_lookup} block table (one u32 first-entry index per 256 bytes of text,
 * LOOKUP_BLOCK_SIZE in asm/orc_lookup.h) and a binary search within the block; init text, and
 * vmlinux text when {@code orc_lookup} is not in kallsyms, by a binary search over the whole
 * table; module text through {@code mod->arch.orc_unwind_ip/orc_unwind/num_orcs}. The ip table
 * holds s32 offsets relative to each entry's own address. Ftrace trampolines (which the kernel maps
 * to the ftrace entries' ORC) are not looked up: they get no entry.
 */
final class OrcTables {

    /** LOOKUP_BLOCK_ORDER 8 (arch/x86/include/asm/orc_lookup.h, a #define). */
    static final long LOOKUP_BLOCK_SIZE = 256;

    private final PageCache memory;
    private final OrcLayout layout;
    private final long ipTable;
    private final long entries;
    private final int count;
    private final long lookup;
    private final int lookupBlocks;
    private final long textStart;
    private final long textEnd;
    private final long initStart;
    private final long initEnd;
    private final Btf btf;

    private OrcTables(PageCache memory, OrcLayout layout, long ipTable, long entries, int count, long lookup,
            int lookupBlocks, long textStart, long textEnd, long initStart, long initEnd, Btf btf) {
        this.memory = memory;
        this.layout = layout;
        this.ipTable = ipTable;
        this.entries = entries;
        this.count = count;
        this.lookup = lookup;
        this.lookupBlocks = lookupBlocks;
        this.textStart = textStart;
        this.textEnd = textEnd;
        this.initStart = initStart;
        this.initEnd = initEnd;
        this.btf = btf;
    }

    /** The tables of this kernel, or empty when it has none (CONFIG_UNWINDER_ORC off) or its layout is unknown. */
    static Optional<OrcTables> find(UnwindTarget t, PageCache memory) {
        SymbolTable s = t.symbols();
        Optional<Long> ip = s.addressOf("__start_orc_unwind_ip");
        Optional<Long> ipEnd = s.addressOf("__stop_orc_unwind_ip");
        Optional<Long> orc = s.addressOf("__start_orc_unwind");
        OrcLayout layout = OrcLayout.of(t.btf(), t.version());
        if (ip.isEmpty() || ipEnd.isEmpty() || orc.isEmpty() || layout == null) {
            return Optional.empty();
        }
        int count = (int) ((ipEnd.get() - ip.get()) / 4);
        long lookup = s.addressOf("orc_lookup").orElse(0L);
        long lookupEnd = s.addressOf("orc_lookup_end").orElse(0L);
        int blocks = lookup != 0 && lookupEnd > lookup ? (int) ((lookupEnd - lookup) / 4) : 0;
        return Optional.of(new OrcTables(memory, layout, ip.get(), orc.get(), count, blocks > 0 ? lookup : 0, blocks,
                s.addressOf("_stext").orElse(0L), s.addressOf("_etext").orElse(0L),
                s.addressOf("_sinittext").orElse(0L), s.addressOf("_einittext").orElse(0L), t.btf()));
    }

    OrcLayout layout() {
        return layout;
    }

    /** Whether the fast path (orc_lookup) is used for vmlinux text. */
    boolean hasLookup() {
        return lookup != 0;
    }

    /**
     * The entry for {@code ip}; empty when there is none (the kernel then guesses a frame-pointer frame).
     *
     * @throws TickwatchException when the tables cannot be read
     */
    Optional<OrcEntry> find(long ip, List<Modules.Module> modules) {
        if (ip == 0) {
            // orc_find's null_orc_entry: all zero, so "undefined" in either numbering.
            return Optional.of(layout.decode(new byte[layout.size()], 0));
        }
        if (in(ip, textStart, textEnd)) {
            if (lookup == 0) {
                return search(ipTable, entries, count, ip);
            }
            long idx = (ip - textStart) / LOOKUP_BLOCK_SIZE;
            if (idx >= lookupBlocks - 1) {
                return Optional.empty();
            }
            long start = memory.readInt(lookup + 4 * idx) & 0xffffffffL;
            long stop = (memory.readInt(lookup + 4 * (idx + 1)) & 0xffffffffL) + 1;
            if (start >= count || stop > count) {
                return Optional.empty();
            }
            return search(ipTable + 4 * start, entries + layout.size() * start, (int) (stop - start), ip);
        }
        if (in(ip, initStart, initEnd)) {
            return search(ipTable, entries, count, ip);
        }
        for (Modules.Module m : modules) {
            if (m.contains(ip)) {
                return module(m, ip);
            }
        }
        return Optional.empty();
    }

    private Optional<OrcEntry> module(Modules.Module m, long ip) {
        if (btf == null) {
            return Optional.empty();
        }
        var ipField = btf.findField("module", "arch.orc_unwind_ip");
        var orcField = btf.findField("module", "arch.orc_unwind");
        var numField = btf.findField("module", "arch.num_orcs");
        if (ipField.isEmpty() || orcField.isEmpty() || numField.isEmpty()) {
            return Optional.empty();
        }
        long modIp = memory.readLong(m.address() + ipField.get().offset());
        long modOrc = memory.readLong(m.address() + orcField.get().offset());
        long num = memory.readInt(m.address() + numField.get().offset()) & 0xffffffffL;
        if (modIp == 0 || modOrc == 0 || num == 0 || num > (1 << 22)) {
            return Optional.empty();
        }
        return search(modIp, modOrc, (int) num, ip);
    }

    /** __orc_find: the rightmost entry whose address is at or below {@code ip} (a section's terminator loses to a real entry). */
    private Optional<OrcEntry> search(long ips, long orcs, int n, long ip) {
        if (n <= 0) {
            return Optional.empty();
        }
        int first = 0;
        int last = n - 1;
        int found = 0;
        while (first <= last) {
            int mid = first + (last - first) / 2;
            long at = ips + 4L * mid;
            long entryIp = at + memory.readInt(at);
            if (Long.compareUnsigned(entryIp, ip) <= 0) {
                found = mid;
                first = mid + 1;
            } else {
                last = mid - 1;
            }
        }
        return Optional.of(layout.decode(memory.bytes(orcs + (long) layout.size() * found, layout.size()), 0));
    }

    private static boolean in(long a, long begin, long end) {
        return begin != 0 && end != 0 && Long.compareUnsigned(a, begin) >= 0 && Long.compareUnsigned(a, end) < 0;
    }
}
