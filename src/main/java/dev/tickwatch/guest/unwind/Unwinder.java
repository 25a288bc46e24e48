package dev.tickwatch.guest.unwind;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.Modules;
import dev.tickwatch.guest.mem.GuestMemoryException;
import dev.tickwatch.guest.sym.SymbolOffset;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Unwinds kernel stacks from guest memory the way the kernel's own unwinder does
 * (arch/x86/kernel/unwind_orc.c: __unwind_start and unwind_next_frame), with the kernel's ORC
 * tables: from a CPU's registers (the interrupted context, like unwind_start with regs) or from a
 * sleeping task's inactive_task_frame. It crosses pt_regs (full and iret-only) from the IRQ and
 * exception stacks back to the task stack, and stops where the kernel would: at the end-of-stack
 * entry, at user-mode regs, or at an error (unreadable, wrong direction, recursion, a loop), whose
 * reason the trace keeps. Kernels without ORC are walked by frame pointers; when that yields
 * nothing the stack is only scanned, and the trace says so.
 *
 * <p>One instance serves one moment: it reads the module list once, and caches the (immutable)
 * ORC table pages across traces; stack pages are read afresh for each trace.
 */
public final class Unwinder {

    /** More frames than any real kernel stack of 16 KiB has; past this it is looping. */
    public static final int MAX_FRAMES = 128;
    static final int SCAN_BYTES = 4096;

    /**
     * Where an unwind starts from a CPU: its registers, by gdbstub names ({@code rax}..{@code r15});
     * {@code source} is "gdbstub" (exact, read in a pause) or "hmp" (read while running).
     */
    public record Registers(int cpu, long rip, long rsp, long rbp, int cpl, Map<String, Long> general, String source) {

        /** The gdbstub's registers of one vCPU. */
        public static Registers ofGdb(dev.tickwatch.gdb.Registers r) {
            Map<String, Long> general = new java.util.LinkedHashMap<>();
            for (String n : dev.tickwatch.gdb.Registers.X86_64_STATE) {
                if (r.has(n) && n.startsWith("r") && !n.equals("rip")) {
                    general.put(n, r.get(n));
                }
            }
            int cpl = r.has("cs") ? (int) (r.get("cs") & 3) : 0;
            return new Registers(r.thread().cpuIndex(), r.get("rip"), r.get("rsp"), r.has("rbp") ? r.get("rbp") : 0, cpl,
                    general, "gdbstub");
        }

        /** Every vCPU's registers from one HMP {@code info registers -a} text. */
        public static List<Registers> ofHmp(String text) {
            List<CpuRegisters> cpus = CpuRegisters.parseAll(text);
            List<Map<String, Long>> general = CpuRegisters.parseGeneral(text);
            List<Registers> out = new ArrayList<>();
            for (int i = 0; i < cpus.size(); i++) {
                CpuRegisters c = cpus.get(i);
                Map<String, Long> g = i < general.size() ? general.get(i) : Map.of();
                out.add(new Registers(c.cpu(), c.rip(), c.rsp(), g.getOrDefault("rbp", 0L), c.cpl(), g, "hmp"));
            }
            return out;
        }
    }

    private final UnwindTarget target;
    private final KernelLayout layout;
    private final PageCache tableMemory;
    private final OrcTables orc;
    private final List<Modules.Module> modules;

    private Unwinder(UnwindTarget target) {
        this.target = target;
        this.layout = new KernelLayout(target.btf());
        this.tableMemory = new PageCache(target.memory());
        this.orc = OrcTables.find(target, tableMemory).orElse(null);
        this.modules = target.modules();
    }

    public static Unwinder of(UnwindTarget target) {
        return new Unwinder(target);
    }

    /** "orc" or "frame-pointer" (the kernel has no ORC tables), the method traces start with. */
    public String method() {
        return orc != null ? "orc" : "frame-pointer";
    }

    /** What the kernel's types lack, and what that costs the traces. */
    public List<String> limitations() {
        List<String> out = new ArrayList<>(layout.missing);
        if (orc == null && !target.symbols().hasDataSymbols()) {
            out.add("the ORC tables are not in " + target.symbols().source() + " (no data symbols: KALLSYMS_ALL off;"
                    + " give --vmlinux): frame pointers, else a scan");
        } else if (orc == null) {
            out.add("no ORC tables (__start_orc_unwind_ip not in the symbols): frame pointers, else a scan");
        } else if (!orc.hasLookup()) {
            out.add("no orc_lookup in the symbols (KALLSYMS_ALL off?): binary search over the whole ORC table");
        }
        return out;
    }

    /** Unwinds the stack of the task running on the registers' CPU. */
    public Trace cpu(Registers regs) {
        return cpu(regs.cpu(), regs);
    }

    /** Unwinds the stack of the task running on {@code cpu} from its registers. */
    public Trace cpu(int cpu, Registers regs) {
        long t0 = System.nanoTime();
        long task = target.currentTask(cpu);
        TaskName name = taskName(task);
        Walk w = new Walk(new PageCache(target.memory()), task, cpu, regs.rsp());
        Frame start = regs.cpl() == 0 ? w.frame(regs.rip(), Frame.Kind.RIP, true, null, 0) : null;
        if (regs.cpl() != 0) {
            return new Trace(cpu, name.pid, name.comm, '\0', regs.source(), method(), null, List.of(),
                    "CPU " + cpu + " runs in user mode (CPL " + regs.cpl() + "): no kernel stack", true, ms(t0));
        }
        w.ip = regs.rip();
        w.sp = regs.rsp();
        w.bp = regs.rbp();
        w.regs = new Regs(0, regs.general(), 0);
        w.fullRegs = true;
        w.signal = true;
        w.run(regs.rsp());
        return new Trace(cpu, name.pid, name.comm, '\0', regs.source(), w.method, start, w.frames, w.end, w.complete,
                ms(t0));
    }

    /**
     * Unwinds a task that is not running, from what __switch_to_asm left at {@code task->thread.sp}:
     * the inactive_task_frame, whose ret_addr is the first frame.
     *
     * @param task  the task_struct's address
     * @param state the state letter to carry into the trace (0 when not known)
     */
    public Trace task(long task, int pid, String comm, char state) {
        long t0 = System.nanoTime();
        if (layout.threadSp == null || layout.frameSize == null || layout.frameBp == null || layout.frameRetAddr == null) {
            return new Trace(-1, pid, comm, state, "inactive_task_frame", method(), null, List.of(),
                    "a sleeping task's stack needs BTF (task_struct.thread.sp, struct inactive_task_frame)", false, ms(t0));
        }
        PageCache mem = new PageCache(target.memory());
        Walk w;
        try {
            long threadSp = mem.readLong(task + layout.threadSp);
            w = new Walk(mem, task, -1, threadSp);
            w.sp = threadSp + layout.frameSize;
            w.bp = mem.readLong(threadSp + layout.frameBp);
            w.ip = mem.readLong(threadSp + layout.frameRetAddr);
            long fork = target.symbols().addressOf("ret_from_fork_asm")
                    .or(() -> target.symbols().addressOf("ret_from_fork")).orElse(-1L);
            w.signal = w.ip == fork;
            Stacks.Info on = w.stacks.find(threadSp);
            w.frames.add(w.frame(w.ip, w.signal ? Frame.Kind.RIP : Frame.Kind.RETURN, true,
                    on == null ? StackType.TASK : on.type(), threadSp + layout.frameRetAddr));
        } catch (TickwatchException e) {
            return new Trace(-1, pid, comm, state, "inactive_task_frame", method(), null, List.of(),
                    "task's saved frame unreadable: " + e.getMessage(), false, ms(t0));
        }
        w.run(w.sp);
        return new Trace(-1, pid, comm, state, "inactive_task_frame", w.method, null, w.frames, w.end, w.complete, ms(t0));
    }

    private record TaskName(int pid, String comm) {
    }

    private TaskName taskName(long task) {
        if (task == 0 || target.btf() == null) {
            return new TaskName(-1, null);
        }
        try {
            var pid = target.btf().findField("task_struct", "pid");
            var comm = target.btf().findField("task_struct", "comm");
            if (pid.isEmpty() || comm.isEmpty()) {
                return new TaskName(-1, null);
            }
            int p = target.memory().readInt(task + pid.get().offset());
            return new TaskName(p, target.memory().readCString(task + comm.get().offset(), comm.get().size()));
        } catch (TickwatchException e) {
            return new TaskName(-1, null);
        }
    }

    private static double ms(long t0) {
        return Math.round((System.nanoTime() - t0) / 1e4) / 100.0;
    }

    /** Names {@code address}: a return address (or a scanned word) by {@code address - 1}, as %pB does. */
    Frame symbolize(long address, Frame.Kind kind, boolean reliable, StackType stack, long slot) {
        long key = kind == Frame.Kind.RETURN || kind == Frame.Kind.SCAN ? address - 1 : address;
        Optional<SymbolOffset> s = target.symbols().lookup(key);
        if (s.isEmpty()) {
            for (Modules.Module m : modules) {
                if (m.contains(key)) {
                    s = target.moduleSymbol(m, key);
                    break;
                }
            }
        }
        if (s.isEmpty()) {
            return new Frame(address, null, 0, 0, null, reliable, kind, stack, slot);
        }
        SymbolOffset so = s.get();
        return new Frame(address, so.symbol().name(), so.offset() + (address - key), so.size(), so.symbol().module(),
                reliable, kind, stack, slot);
    }

    private boolean isText(long a) {
        if (target.symbols().isKernelText(a)) {
            return true;
        }
        return modules.stream().anyMatch(m -> m.contains(a));
    }

    /** A pt_regs: in memory at {@code address}, or the CPU's own registers ({@code live}). */
    private record Regs(long address, Map<String, Long> live, int cpl) {
        boolean isLive() {
            return live != null;
        }
    }

    /** The state of one unwind (unwind_orc.c's struct unwind_state) and its result. */
    private final class Walk {
        final PageCache mem;
        final Stacks stacks;
        final List<Frame> frames = new ArrayList<>();
        final Set<StackType> visited = EnumSet.noneOf(StackType.class);
        final Set<String> seen = new HashSet<>();
        String method = orc != null ? "orc" : "frame-pointer";
        long ip;
        long sp;
        long bp;
        Regs regs;
        Regs prevRegs;
        boolean fullRegs;
        boolean signal;
        boolean error;
        Stacks.Info stack;
        String failure;
        String end;
        boolean complete;
        StackType slotStack;
        long slot;

        Walk(PageCache mem, long task, int cpu, long start) {
            this.mem = mem;
            this.stacks = new Stacks(target, layout, mem, task, cpu, start);
        }

        Frame frame(long address, Frame.Kind kind, boolean reliable, StackType st, long at) {
            return symbolize(address, kind, reliable, st, at);
        }

        void run(long startSp) {
            stack = stacks.find(startSp);
            if (stack == null) {
                // As __unwind_start: perhaps it overflowed into a guard page; try the next page up.
                error = true;
                stack = stacks.find((startSp + 4095) & -4096L);
                if (stack == null) {
                    finish("stack pointer 0x" + Long.toHexString(startSp) + " is on no stack of this task", false);
                    return;
                }
            }
            visited.add(stack.type());
            if (orc != null) {
                while (frames.size() < MAX_FRAMES && nextOrc()) {
                    addFrame();
                }
            } else {
                while (frames.size() < MAX_FRAMES && nextFramePointer()) {
                    addFrame();
                }
                if (frames.isEmpty() && end != null && !complete) {
                    scan(startSp);
                    return;
                }
            }
            if (end == null) {
                finish("more than " + MAX_FRAMES + " frames: stopped (looping?)", false);
            }
        }

        private void addFrame() {
            frames.add(frame(ip, prevFrameWasRegs ? Frame.Kind.REGS : Frame.Kind.RETURN, !error, slotStack, slot));
            if (!seen.add(ip + ":" + sp)) {
                frames.remove(frames.size() - 1);
                finish("loop: the frame at " + text(ip) + " with SP 0x" + Long.toHexString(sp) + " again", false);
            }
        }

        boolean prevFrameWasRegs;

        private String text(long a) {
            return symbolize(a, Frame.Kind.RIP, true, null, 0).text();
        }

        private void finish(String why, boolean atEnd) {
            if (end == null) {
                end = why;
                complete = atEnd;
            }
        }

        private boolean fail(String why) {
            error = true;
            finish(why, false);
            return false;
        }

        /** stack_access_ok: on the current stack, or on another this task may use and has not used yet. */
        private boolean accessOk(long address, int length) {
            if (stack != null && stack.contains(address, length)) {
                return true;
            }
            Stacks.Info next = stacks.find(address);
            if (next == null || !next.contains(address, length)) {
                failure = "0x" + Long.toHexString(address) + " is on no stack of this task";
                return false;
            }
            if (!visited.add(next.type())) {
                failure = "stack recursion: back on the " + next.type().label() + " stack at 0x" + Long.toHexString(address);
                return false;
            }
            stack = next;
            return true;
        }

        private Long deref(long address) {
            if (!accessOk(address, 8)) {
                return null;
            }
            try {
                return mem.readLong(address);
            } catch (GuestMemoryException e) {
                failure = "stack unreadable at 0x" + Long.toHexString(e.address());
                return null;
            }
        }

        private Long reg(Regs r, String name) {
            if (r.isLive()) {
                // The CPU's registers carry gdbstub names: rdx, rdi, rbp, rsp, r10, r13.
                return r.live().get(name.startsWith("r") ? name : "r" + name);
            }
            if (layout.ptRegs == null) {
                return null;
            }
            try {
                return mem.readLong(r.address() + layout.ptRegs.offset(name));
            } catch (GuestMemoryException e) {
                return null;
            }
        }

        /** get_reg: from full regs, else from the full regs before a partial frame. */
        private Long getReg(String name) {
            if (regs == null) {
                return null;
            }
            if (fullRegs) {
                return reg(regs, name);
            }
            return prevRegs != null ? reg(prevRegs, name) : null;
        }

        private boolean userMode(Regs r) {
            if (r.isLive()) {
                return r.cpl() != 0;
            }
            Long cs = reg(r, "cs");
            return cs != null && (cs & 3) != 0;
        }

        /** unwind_next_frame. */
        boolean nextOrc() {
            long origIp = ip;
            long prevSp = sp;
            StackType prevType = stack.type();
            prevFrameWasRegs = false;
            if (regs != null && userMode(regs)) {
                finish("end of stack: pt_regs from user mode", true);
                return false;
            }
            OrcEntry e;
            try {
                Optional<OrcEntry> found = orc.find(signal ? ip : ip - 1, modules);
                if (found.isPresent()) {
                    e = found.get();
                } else {
                    // The kernel's fallback: assume a frame pointer; a guess, so nothing after is reliable.
                    e = OrcEntry.FRAME_POINTER_GUESS;
                    error = true;
                }
            } catch (TickwatchException ex) {
                return fail("ORC table unreadable for " + text(origIp) + ": " + ex.getMessage());
            }
            if (orc.layout().hasEndOfStackType()) {
                if (e.type() == OrcEntry.Type.UNDEFINED) {
                    return fail("no unwind data (ORC type undefined) at " + text(origIp));
                }
                if (e.type() == OrcEntry.Type.END_OF_STACK) {
                    finish("end of stack (ORC end-of-stack at " + text(origIp) + ")", true);
                    return false;
                }
            } else if (e.spReg() == OrcEntry.REG_UNDEFINED) {
                if (!e.end()) {
                    return fail("no unwind data (ORC sp_reg undefined) at " + text(origIp));
                }
                finish("end of stack (ORC end marker at " + text(origIp) + ")", true);
                return false;
            }
            if (orc.layout().signalBit() >= 0) {
                signal = e.signal();
            }
            long newSp;
            boolean indirect = false;
            switch (e.spReg()) {
                case OrcEntry.REG_SP -> newSp = sp + e.spOffset();
                case OrcEntry.REG_BP -> newSp = bp + e.spOffset();
                case OrcEntry.REG_SP_INDIRECT -> {
                    newSp = sp;
                    indirect = true;
                }
                case OrcEntry.REG_BP_INDIRECT -> {
                    newSp = bp + e.spOffset();
                    indirect = true;
                }
                case OrcEntry.REG_R10, OrcEntry.REG_R13, OrcEntry.REG_DI, OrcEntry.REG_DX -> {
                    String r = switch (e.spReg()) {
                        case OrcEntry.REG_R10 -> "r10";
                        case OrcEntry.REG_R13 -> "r13";
                        case OrcEntry.REG_DI -> "di";
                        default -> "dx";
                    };
                    Long v = getReg(r);
                    if (v == null) {
                        return fail("missing " + r.toUpperCase(java.util.Locale.ROOT) + " value at " + text(origIp));
                    }
                    newSp = v;
                }
                default -> {
                    return fail("unknown ORC SP base register " + e.spReg() + " at " + text(origIp));
                }
            }
            if (indirect) {
                Long v = deref(newSp);
                if (v == null) {
                    return fail(failure);
                }
                newSp = v;
                if (e.spReg() == OrcEntry.REG_SP_INDIRECT) {
                    newSp += e.spOffset();
                }
            }
            switch (e.type()) {
                case CALL -> {
                    long ipP = newSp - 8;
                    Long v = deref(ipP);
                    if (v == null) {
                        return fail(failure);
                    }
                    ip = v;
                    sp = newSp;
                    regs = null;
                    prevRegs = null;
                    if (orc.layout().signalBit() < 0) {
                        signal = false;
                    }
                    slot = ipP;
                }
                case REGS -> {
                    if (layout.ptRegs == null) {
                        return fail("an interrupt frame at " + text(origIp) + ", and no BTF for struct pt_regs");
                    }
                    if (!accessOk(newSp, layout.ptRegs.size())) {
                        return fail("can't access registers at " + text(origIp) + ": " + failure);
                    }
                    try {
                        ip = mem.readLong(newSp + layout.ptRegs.ip());
                        sp = mem.readLong(newSp + layout.ptRegs.sp());
                    } catch (GuestMemoryException ex) {
                        return fail("stack unreadable at 0x" + Long.toHexString(ex.address()));
                    }
                    regs = new Regs(newSp, null, 0);
                    prevRegs = null;
                    fullRegs = true;
                    signal = true;
                    prevFrameWasRegs = true;
                    slot = newSp + layout.ptRegs.ip();
                }
                case REGS_PARTIAL -> {
                    if (layout.ptRegs == null) {
                        return fail("an interrupt frame at " + text(origIp) + ", and no BTF for struct pt_regs");
                    }
                    int iretOffset = layout.ptRegs.ip();
                    if (!accessOk(newSp, layout.ptRegs.size() - iretOffset)) {
                        return fail("can't access iret registers at " + text(origIp) + ": " + failure);
                    }
                    try {
                        ip = mem.readLong(newSp);
                        sp = mem.readLong(newSp + layout.ptRegs.sp() - iretOffset);
                    } catch (GuestMemoryException ex) {
                        return fail("stack unreadable at 0x" + Long.toHexString(ex.address()));
                    }
                    if (fullRegs) {
                        prevRegs = regs;
                    }
                    regs = new Regs(newSp - iretOffset, null, 0);
                    fullRegs = false;
                    signal = true;
                    prevFrameWasRegs = true;
                    slot = newSp;
                }
                default -> {
                    return fail("unknown ORC entry type at " + text(origIp));
                }
            }
            slotStack = stack.type();
            switch (e.bpReg()) {
                case OrcEntry.REG_UNDEFINED -> {
                    Long v = getReg("bp");
                    if (v != null) {
                        bp = v;
                    }
                }
                case OrcEntry.REG_PREV_SP -> {
                    Long v = deref(newSp + e.bpOffset());
                    if (v == null) {
                        return fail(failure);
                    }
                    bp = v;
                }
                case OrcEntry.REG_BP -> {
                    Long v = deref(bp + e.bpOffset());
                    if (v == null) {
                        return fail(failure);
                    }
                    bp = v;
                }
                default -> {
                    return fail("unknown ORC BP base register " + e.bpReg() + " at " + text(origIp));
                }
            }
            if (stack.type() == prevType && stack.contains(sp, 8) && Long.compareUnsigned(sp, prevSp) <= 0) {
                return fail("stack going in the wrong direction at " + text(origIp));
            }
            return true;
        }

        /**
         * One frame of a frame-pointer kernel (unwind_frame.c, simplified): [bp] is the caller's bp
         * and [bp+8] the return address; a bp with its low bit set points at entry pt_regs.
         */
        boolean nextFramePointer() {
            prevFrameWasRegs = false;
            if (regs != null && userMode(regs)) {
                finish("end of stack: pt_regs from user mode", true);
                return false;
            }
            if (bp == 0) {
                finish("end of stack (frame pointer 0)", true);
                return false;
            }
            long prevBp = bp;
            StackType prevType = stack.type();
            if ((bp & 1) != 0 && layout.ptRegs != null) {
                long at = bp & ~1L;
                if (!accessOk(at, layout.ptRegs.size())) {
                    return fail("can't access registers: " + failure);
                }
                try {
                    ip = mem.readLong(at + layout.ptRegs.ip());
                    sp = mem.readLong(at + layout.ptRegs.sp());
                    bp = mem.readLong(at + layout.ptRegs.bp());
                } catch (GuestMemoryException ex) {
                    return fail("stack unreadable at 0x" + Long.toHexString(ex.address()));
                }
                regs = new Regs(at, null, 0);
                fullRegs = true;
                signal = true;
                prevFrameWasRegs = true;
                slot = at + layout.ptRegs.ip();
                slotStack = stack.type();
                return true;
            }
            Long next = deref(bp);
            Long ret = next == null ? null : deref(bp + 8);
            if (ret == null) {
                return fail(failure);
            }
            regs = null;
            signal = false;
            ip = ret;
            sp = bp + 16;
            slot = bp + 8;
            slotStack = stack.type();
            bp = next;
            if (ip == 0 || !isText(ip)) {
                return fail("frame pointer chain left kernel text at 0x" + Long.toHexString(prevBp + 8));
            }
            if (bp != 0 && stack.type() == prevType && stack.contains(bp, 8) && Long.compareUnsigned(bp, prevBp) <= 0) {
                return fail("frame pointer going in the wrong direction at 0x" + Long.toHexString(prevBp));
            }
            return true;
        }

        /** The fallback where nothing unwinds: text addresses on the stack above SP, all unreliable. */
        private void scan(long from) {
            String why = end;
            method = "scan";
            end = null;
            long top = stack == null ? from + SCAN_BYTES : Math.min(stack.end(), from + SCAN_BYTES);
            for (long a = (from + 7) & -8L; Long.compareUnsigned(a, top) < 0 && frames.size() < MAX_FRAMES; a += 8) {
                long w;
                try {
                    w = mem.readLong(a);
                } catch (GuestMemoryException e) {
                    finish("scan: not unwound (" + why + "); stopped at unreadable 0x" + Long.toHexString(e.address()), false);
                    return;
                }
                if (isText(w)) {
                    frames.add(frame(w, Frame.Kind.SCAN, false, stack == null ? null : stack.type(), a));
                }
            }
            finish("scan: not unwound (" + why + ")", false);
        }
    }
}
