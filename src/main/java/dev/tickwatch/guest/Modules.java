package dev.tickwatch.guest;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.btf.Btf;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Loaded kernel modules, from the {@code modules} list: where each one's text lies and, where its
 * own kallsyms ({@code mod->kallsyms}: an Elf64_Sym table and its string table) can be read, its
 * symbols. A RIP inside a module is then named {@code sym+off/size [module]}, or at least
 * {@code [module]+off}; it is never left as a bare number or credited to the kernel symbol below it.
 */
public final class Modules {

    /** Elf64_Sym: st_name u32, st_info u8, st_other u8, st_shndx u16, st_value u64, st_size u64. */
    private static final int ELF64_SYM = 24;
    private static final int MAX_SYMBOLS = 1 << 16;

    private final GuestKernel kernel;

    Modules(GuestKernel kernel) {
        this.kernel = kernel;
    }

    /**
     * One module's core (text) mapping, and its init text while its init function runs (an
     * insmod stuck in module_init is there; 0 and 0 once init is done and freed, or when unknown).
     */
    public record Module(String name, long address, long base, long size, long initBase, long initSize) {
        public Module(String name, long address, long base, long size) {
            this(name, address, base, size, 0, 0);
        }

        public boolean contains(long a) {
            return in(a, base, size) || (initSize > 0 && in(a, initBase, initSize));
        }

        private static boolean in(long a, long from, long length) {
            return Long.compareUnsigned(a, from) >= 0 && Long.compareUnsigned(a, from + length) < 0;
        }
    }

    /** mod_mem_type's MOD_INIT_TEXT (include/linux/module.h, 6.4+) when BTF lacks the enum. */
    private static final int MOD_INIT_TEXT = 4;

    /** The loaded modules, newest first (the kernel's list order). */
    public List<Module> list() {
        Btf btf = kernel.btf();
        long head = kernel.symbols().require("modules");
        long listOffset = btf.field("module", "list").offset();
        boolean layouts = btf.findField("module", "core_layout.base").isPresent();
        String baseField = layouts ? "core_layout" : "mem[0]";
        // Before 6.4 init text leads init_layout; from 6.4 it is mem[MOD_INIT_TEXT].
        String initField = layouts ? "init_layout" : "mem[" + initTextIndex(btf) + "]";
        boolean hasInit = btf.findField("module", initField + ".base").isPresent();
        List<String> fields = hasInit
                ? List.of("name", baseField + ".base", baseField + ".size", initField + ".base", initField + ".size")
                : List.of("name", baseField + ".base", baseField + ".size");
        List<Module> out = new ArrayList<>();
        long next = kernel.memory().readLong(head);
        while (next != head && out.size() < 4096) {
            long module = next - listOffset;
            StructView m = kernel.structSpan("module", module, fields);
            out.add(new Module(m.chars("name"), module, m.get(baseField + ".base"), m.get(baseField + ".size"),
                    hasInit ? m.get(initField + ".base") : 0, hasInit ? m.get(initField + ".size") : 0));
            next = kernel.memory().readLong(next);
        }
        return out;
    }

    private static int initTextIndex(Btf btf) {
        return (int) btf.findConstant("MOD_INIT_TEXT").orElse(MOD_INIT_TEXT);
    }

    /** {@code sym+off/size [module]}, or {@code [module]+0xoff} when its symbols cannot be read. */
    public Optional<String> symbolize(long address) {
        if (!kernel.hasBtf() || kernel.symbols().addressOf("modules").isEmpty()) {
            return Optional.empty();
        }
        List<Module> modules;
        try {
            modules = list();
        } catch (TickwatchException e) {
            return Optional.empty();
        }
        for (Module m : modules) {
            if (m.contains(address)) {
                return Optional.of(symbolIn(m, address).orElse("[" + m.name() + "]+0x" + Long.toHexString(address - m.base())));
            }
        }
        return Optional.empty();
    }

    private Optional<String> symbolIn(Module m, long address) {
        return lookup(m, address).map(s -> s.symbol().name() + "+0x" + Long.toHexString(s.offset())
                + (s.size() > 0 ? "/0x" + Long.toHexString(s.size()) : "") + " [" + m.name() + "]");
    }

    /**
     * The function or object of module {@code m} containing {@code address}, from the module's own
     * kallsyms: the nearest STT_FUNC or STT_OBJECT at or below it (size 0 when the symbol has none).
     * Empty when the module's symbols cannot be read.
     */
    public Optional<dev.tickwatch.guest.sym.SymbolOffset> lookup(Module m, long address) {
        try {
            Btf btf = kernel.btf();
            long kallsyms = kernel.memory().readLong(m.address() + btf.field("module", "kallsyms").offset());
            if (kallsyms == 0) {
                return Optional.empty();
            }
            StructView ks = kernel.struct("mod_kallsyms", kallsyms);
            long symtab = ks.get("symtab");
            int count = (int) Math.min(ks.get("num_symtab"), MAX_SYMBOLS);
            long strtab = ks.get("strtab");
            byte[] table = kernel.memory().read(symtab, count * ELF64_SYM);
            long bestValue = 0;
            long bestSize = 0;
            long bestName = -1;
            for (int i = 0; i < count; i++) {
                int at = i * ELF64_SYM;
                long value = le(table, at + 8, 8);
                int type = table[at + 4] & 0xf;
                // STT_FUNC (2) and STT_OBJECT (1) only: sections and files would shadow the real names.
                if ((type == 1 || type == 2) && Long.compareUnsigned(value, address) <= 0
                        && Long.compareUnsigned(value, bestValue) > 0) {
                    bestValue = value;
                    bestSize = le(table, at + 16, 8);
                    bestName = le(table, at, 4);
                }
            }
            if (bestName < 0) {
                return Optional.empty();
            }
            String name = kernel.memory().readCString(strtab + bestName, 128);
            return Optional.of(new dev.tickwatch.guest.sym.SymbolOffset(
                    new dev.tickwatch.guest.sym.Symbol(bestValue, 't', name, m.name()), address - bestValue, bestSize));
        } catch (TickwatchException e) {
            return Optional.empty();
        }
    }

    private static long le(byte[] b, int at, int n) {
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (b[at + i] & 0xffL);
        }
        return v;
    }
}
