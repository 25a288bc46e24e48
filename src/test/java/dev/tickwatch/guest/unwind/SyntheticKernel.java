package dev.tickwatch.guest.unwind;

import dev.tickwatch.guest.FakeMemory;
import dev.tickwatch.guest.Modules;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfWriter;
import dev.tickwatch.guest.mem.GuestMemory;
import dev.tickwatch.guest.sym.Symbol;
import dev.tickwatch.guest.sym.SymbolOffset;
import dev.tickwatch.guest.sym.SymbolTable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A tiny x86_64 kernel in fake guest memory: eight functions of 0x100 bytes from _stext, their
 * ORC table (ip table of s32 self-relative offsets, entries in the chosen layout, orc_lookup), a
 * task stack, an IRQ stack, and BTF with the real field names and x86_64 offsets of pt_regs,
 * task_struct (the fields used), inactive_task_frame and orc_entry.
 */
final class SyntheticKernel {

    static final long TEXT = 0xffffffff81000000L;
    static final String[] FUNCS = {"start_kernel_thread", "a", "b", "c", "handle_irq", "asm_sysvec", "entry_stub",
        "__mutex_lock.constprop.0"};
    static final long TABLES = 0xffffffff82000000L;
    static final long TASK = 0xffff888000100000L;
    static final long TASK_STACK = 0xffffc90000010000L;
    static final long IRQ_STACK = 0xffffc90000020000L;
    static final long PERCPU = 0xffff88807fc00000L;
    /** Per-CPU offset of hardirq_stack_ptr (a per-CPU symbol's value is its offset). */
    static final long HARDIRQ_PTR = 0x1b000;

    final FakeMemory memory = new FakeMemory();
    final OrcLayout layout;
    final Btf btf;
    final Map<Long, OrcEntry> orc = new TreeMap<>(Long::compareUnsigned);
    boolean lookupTable = true;
    /** False: a kernel built without ORC (CONFIG_UNWINDER_FRAME_POINTER), no table symbols. */
    boolean orcTables = true;
    /** Loaded modules and their own ORC tables (written by {@link #module}). */
    final List<Modules.Module> modules = new ArrayList<>();
    final Map<Long, SymbolOffset> moduleSymbols = new TreeMap<>(Long::compareUnsigned);
    static final long MODULE = 0xffffffffc0000000L;
    static final long MODULE_STRUCT = 0xffffffffc0100000L;
    /** struct module's arch (struct mod_arch_specific) offset in this synthetic BTF. */
    static final int MODULE_ARCH = 64;

    SyntheticKernel(OrcLayout layout) {
        this.layout = layout;
        this.btf = btf(layout);
        memory.map(TASK_STACK, 16 * 1024).map(IRQ_STACK, 16 * 1024).map(TASK, 4096);
        memory.writeLong(TASK + 24, TASK_STACK);
        memory.write(TASK, le(7, 4)).write(TASK + 8, "kworker/0:1".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        memory.writeLong(PERCPU + HARDIRQ_PTR, IRQ_STACK + 16 * 1024 - 8);
        for (int i = 0; i < FUNCS.length; i++) {
            orc.put(fn(FUNCS[i]), call(8));
        }
        orc.put(fn("start_kernel_thread"), endOfStack());
        orc.put(TEXT, undefined());
        orc.put(TEXT + 0x100L * (FUNCS.length + 1), undefined()); // the terminator at _etext
    }

    static long fn(String name) {
        for (int i = 0; i < FUNCS.length; i++) {
            if (FUNCS[i].equals(name)) {
                return TEXT + 0x100L * (i + 1); // _stext itself is not a function here
            }
        }
        throw new IllegalArgumentException(name);
    }

    static OrcEntry call(int spOffset) {
        return new OrcEntry(spOffset, 0, OrcEntry.REG_SP, OrcEntry.REG_UNDEFINED, OrcEntry.Type.CALL, false, false);
    }

    OrcEntry endOfStack() {
        return layout.hasEndOfStackType()
                ? new OrcEntry(0, 0, OrcEntry.REG_UNDEFINED, OrcEntry.REG_UNDEFINED, OrcEntry.Type.END_OF_STACK, false, false)
                : new OrcEntry(0, 0, OrcEntry.REG_UNDEFINED, OrcEntry.REG_UNDEFINED, OrcEntry.Type.CALL, false, true);
    }

    OrcEntry undefined() {
        return new OrcEntry(0, 0, OrcEntry.REG_UNDEFINED, OrcEntry.REG_UNDEFINED,
                layout.hasEndOfStackType() ? OrcEntry.Type.UNDEFINED : OrcEntry.Type.CALL, false, false);
    }

    /**
     * A module "tickwatch_lab" with one function {@code name} of 0x80 bytes at MODULE, and its ORC
     * table (one entry, then a terminator) in mod->arch.
     */
    void module(String name, OrcEntry entry) {
        modules.add(new Modules.Module("tickwatch_lab", MODULE_STRUCT, MODULE, 0x1000));
        long ips = MODULE + 0x800;
        long orcs = MODULE + 0x900;
        memory.write(ips, le((int) (MODULE - ips), 4)).write(ips + 4, le((int) (MODULE + 0x80 - (ips + 4)), 4));
        memory.write(orcs, layout.encode(entry)).write(orcs + layout.size(), layout.encode(undefined()));
        memory.write(MODULE_STRUCT + MODULE_ARCH, le(2, 4));
        memory.writeLong(MODULE_STRUCT + MODULE_ARCH + 8, ips);
        memory.writeLong(MODULE_STRUCT + MODULE_ARCH + 16, orcs);
        moduleSymbols.put(MODULE, new SymbolOffset(new Symbol(MODULE, 't', name, "tickwatch_lab"), 0, 0x80));
    }

    /** Writes the ORC tables and returns the target. */
    UnwindTarget target() {
        List<Long> ips = new ArrayList<>(orc.keySet());
        int n = ips.size();
        long ipTable = TABLES;
        long entries = TABLES + 0x1000;
        for (int i = 0; i < n; i++) {
            long at = ipTable + 4L * i;
            memory.write(at, le((int) (ips.get(i) - at), 4));
            memory.write(entries + (long) layout.size() * i, layout.encode(orc.get(ips.get(i))));
        }
        long etext = TEXT + 0x100L * (FUNCS.length + 1);
        int blocks = (int) ((etext - TEXT) / OrcTables.LOOKUP_BLOCK_SIZE) + 1;
        long lookup = TABLES + 0x2000;
        for (int b = 0; b < blocks; b++) {
            long ip = TEXT + OrcTables.LOOKUP_BLOCK_SIZE * b;
            int found = 0;
            for (int i = 0; i < n; i++) {
                if (Long.compareUnsigned(ips.get(i), ip) <= 0) {
                    found = i;
                }
            }
            memory.write(lookup + 4L * b, le(found, 4));
        }
        List<Symbol> syms = new ArrayList<>();
        syms.add(new Symbol(TEXT, 'T', "_stext", null));
        for (String f : FUNCS) {
            syms.add(new Symbol(fn(f), 't', f, null));
        }
        syms.add(new Symbol(etext, 'T', "_etext", null));
        if (orcTables) {
            syms.add(new Symbol(ipTable, 'r', "__start_orc_unwind_ip", null));
            syms.add(new Symbol(ipTable + 4L * n, 'r', "__stop_orc_unwind_ip", null));
            syms.add(new Symbol(entries, 'r', "__start_orc_unwind", null));
        }
        if (lookupTable && orcTables) {
            syms.add(new Symbol(lookup, 'd', "orc_lookup", null));
            syms.add(new Symbol(lookup + 4L * blocks, 'd', "orc_lookup_end", null));
        }
        syms.add(new Symbol(TABLES + 0x10000, 'd', "_end", null));
        syms.add(new Symbol(HARDIRQ_PTR, 'D', "hardirq_stack_ptr", null));
        SymbolTable table = SymbolTable.of("synthetic", syms);
        return new UnwindTarget() {
            @Override
            public GuestMemory memory() {
                return memory;
            }

            @Override
            public SymbolTable symbols() {
                return table;
            }

            @Override
            public Btf btf() {
                return btf;
            }

            @Override
            public String version() {
                return "Linux version 6.1.0-57-amd64";
            }

            @Override
            public long perCpuOffset(int cpu) {
                return PERCPU;
            }

            @Override
            public long currentTask(int cpu) {
                return TASK;
            }

            @Override
            public List<Modules.Module> modules() {
                return modules;
            }

            @Override
            public Optional<SymbolOffset> moduleSymbol(Modules.Module m, long address) {
                var below = ((TreeMap<Long, SymbolOffset>) moduleSymbols).floorEntry(address);
                if (below == null || address - below.getKey() >= below.getValue().size()) {
                    return Optional.empty();
                }
                SymbolOffset s = below.getValue();
                return Optional.of(new SymbolOffset(s.symbol(), address - below.getKey(), s.size()));
            }
        };
    }

    static byte[] le(long v, int n) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
        byte[] out = new byte[n];
        System.arraycopy(b.array(), 0, out, 0, n);
        return out;
    }

    static final String[] PT_REGS = {"r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx",
        "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss"};

    static int ptRegs(String name) {
        return 8 * List.of(PT_REGS).indexOf(name);
    }

    private static Btf btf(OrcLayout layout) {
        BtfWriter w = new BtfWriter();
        int ulong = w.integer("long unsigned int", 8, 0, 64);
        int s16 = w.integer("short int", 2, 1, 16);
        int uint = w.integer("unsigned int", 4, 0, 32);
        int integer = w.integer("int", 4, 1, 32);
        int chr = w.integer("char", 1, 1, 8);
        BtfWriter.M[] regs = new BtfWriter.M[PT_REGS.length];
        for (int i = 0; i < regs.length; i++) {
            regs[i] = BtfWriter.m(PT_REGS[i], ulong, 64L * i);
        }
        w.struct("pt_regs", 8 * regs.length, false, regs);
        String[] frame = {"r15", "r14", "r13", "r12", "bx", "bp", "ret_addr"};
        BtfWriter.M[] fm = new BtfWriter.M[frame.length];
        for (int i = 0; i < frame.length; i++) {
            fm[i] = BtfWriter.m(frame[i], ulong, 64L * i);
        }
        w.struct("inactive_task_frame", 8 * frame.length, false, fm);
        int thread = w.struct("thread_struct", 8, false, BtfWriter.m("sp", ulong, 0));
        int comm = w.array(chr, integer, 16);
        int voidPtr = w.ptr(0);
        w.struct("task_struct", 64, false, BtfWriter.m("pid", integer, 0), BtfWriter.m("comm", comm, 64),
                BtfWriter.m("stack", voidPtr, 192), BtfWriter.m("thread", thread, 256));
        List<BtfWriter.M> orc = new ArrayList<>(List.of(BtfWriter.bits("sp_offset", s16, 0, 0),
                BtfWriter.bits("bp_offset", s16, 16, 0), BtfWriter.bits("sp_reg", uint, layout.spRegBit(), 4),
                BtfWriter.bits("bp_reg", uint, layout.bpRegBit(), 4),
                BtfWriter.bits("type", uint, layout.typeBit(), layout.typeBits())));
        if (layout.signalBit() >= 0) {
            orc.add(BtfWriter.bits("signal", uint, layout.signalBit(), 1));
        }
        if (layout.endBit() >= 0) {
            orc.add(BtfWriter.bits("end", uint, layout.endBit(), 1));
        }
        w.struct("orc_entry", 6, true, orc.toArray(new BtfWriter.M[0]));
        int intPtr = w.ptr(integer);
        int arch = w.struct("mod_arch_specific", 24, false, BtfWriter.m("num_orcs", uint, 0),
                BtfWriter.m("orc_unwind_ip", intPtr, 64), BtfWriter.m("orc_unwind", voidPtr, 128));
        w.struct("module", 128, false, BtfWriter.m("arch", arch, 8L * MODULE_ARCH));
        return Btf.parse(w.build());
    }
}
