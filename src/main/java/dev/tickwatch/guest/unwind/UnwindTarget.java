package dev.tickwatch.guest.unwind;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.Modules;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.mem.GuestMemory;
import dev.tickwatch.guest.sym.SymbolOffset;
import dev.tickwatch.guest.sym.SymbolTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the unwinder needs of a guest kernel: its memory, symbols, types (null without BTF), the
 * per-CPU offsets, each CPU's current task and the loaded modules. {@link #of(GuestKernel)} is the
 * real one; tests build their own over synthetic memory.
 */
public interface UnwindTarget {

    GuestMemory memory();

    SymbolTable symbols();

    /** The kernel's BTF, or null when it has none. */
    Btf btf();

    /** The banner ({@code Linux version 6.1.0-...}), or "?". */
    String version();

    /** __per_cpu_offset[cpu]. */
    long perCpuOffset(int cpu);

    /** The address of the task running on {@code cpu}, 0 when it cannot be read. */
    long currentTask(int cpu);

    /** The loaded modules (empty when they cannot be listed). */
    List<Modules.Module> modules();

    /** The symbol of module {@code m} containing {@code address}. */
    Optional<SymbolOffset> moduleSymbol(Modules.Module m, long address);

    /** The target over an attached kernel view. */
    static UnwindTarget of(GuestKernel k) {
        return new UnwindTarget() {
            @Override
            public GuestMemory memory() {
                return k.memory();
            }

            @Override
            public SymbolTable symbols() {
                return k.symbols();
            }

            @Override
            public Btf btf() {
                return k.hasBtf() ? k.btf() : null;
            }

            @Override
            public String version() {
                return k.version();
            }

            @Override
            public long perCpuOffset(int cpu) {
                return k.perCpuOffset(cpu);
            }

            @Override
            public long currentTask(int cpu) {
                try {
                    var t = k.currentTask(cpu, new ArrayList<>());
                    return t == null ? 0 : t.address();
                } catch (TickwatchException e) {
                    return 0;
                }
            }

            @Override
            public List<Modules.Module> modules() {
                try {
                    return k.hasBtf() && k.symbols().addressOf("modules").isPresent() ? k.modules().list() : List.of();
                } catch (TickwatchException e) {
                    return List.of();
                }
            }

            @Override
            public Optional<SymbolOffset> moduleSymbol(Modules.Module m, long address) {
                return k.modules().lookup(m, address);
            }
        };
    }
}
