package dev.tickwatch.guest.locks;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.Modules;
import dev.tickwatch.guest.StructView;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Data objects of loaded modules, from each module's own kallsyms ({@code mod->kallsyms}: Elf64_Sym
 * entries and their strings): a lock defined in a module ({@code static DEFINE_MUTEX(lab_mutex_a)})
 * is named by the STT_OBJECT symbol whose [value, value + size) holds it. Searched by symbol size
 * rather than by the module's memory ranges, whose layout changed in 6.4 (core_layout to mem[]).
 * Read once, on first use.
 */
final class ModuleObjects {

    /** Elf64_Sym: st_name u32, st_info u8, st_other u8, st_shndx u16, st_value u64, st_size u64. */
    private static final int ELF64_SYM = 24;
    private static final int STT_OBJECT = 1;
    private static final int MAX_SYMBOLS = 1 << 16;

    private record Object(long nameAt, String module, long value, long size) {
    }

    private final GuestKernel kernel;
    private List<Object> objects;

    ModuleObjects(GuestKernel kernel) {
        this.kernel = kernel;
    }

    Optional<String> objectAt(long address) {
        for (Object o : objects()) {
            if (Long.compareUnsigned(address, o.value) >= 0 && Long.compareUnsigned(address, o.value + o.size) < 0) {
                long off = address - o.value;
                String name = kernel.memory().readCString(o.nameAt, 128);
                return Optional.of(name + (off == 0 ? "" : "+0x" + Long.toHexString(off)) + " [" + o.module + "]");
            }
        }
        return Optional.empty();
    }

    private List<Object> objects() {
        if (objects != null) {
            return objects;
        }
        List<Object> out = new ArrayList<>();
        try {
            if (kernel.hasBtf() && kernel.symbols().addressOf("modules").isPresent()) {
                for (Modules.Module m : kernel.modules().list()) {
                    read(m, out);
                }
            }
        } catch (TickwatchException e) {
            // No module names: locks in modules are named by address.
        }
        objects = out;
        return out;
    }

    private void read(Modules.Module m, List<Object> out) {
        long kallsyms = kernel.memory().readLong(m.address() + kernel.btf().field("module", "kallsyms").offset());
        if (kallsyms == 0) {
            return;
        }
        StructView ks = kernel.struct("mod_kallsyms", kallsyms);
        int count = (int) Math.min(ks.get("num_symtab"), MAX_SYMBOLS);
        long strtab = ks.get("strtab");
        byte[] table = kernel.memory().read(ks.get("symtab"), count * ELF64_SYM);
        for (int i = 0; i < count; i++) {
            int at = i * ELF64_SYM;
            long size = le(table, at + 16);
            if ((table[at + 4] & 0xf) == STT_OBJECT && size > 0) {
                out.add(new Object(strtab + (le(table, at) & 0xffffffffL), m.name(), le(table, at + 8), size));
            }
        }
    }

    private static long le(byte[] b, int at) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[at + i] & 0xffL);
        }
        return v;
    }
}
