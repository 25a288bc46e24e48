package dev.tickwatch.guest.unwind;

import static dev.tickwatch.guest.unwind.SyntheticKernel.IRQ_STACK;
import static dev.tickwatch.guest.unwind.SyntheticKernel.TASK;
import static dev.tickwatch.guest.unwind.SyntheticKernel.TASK_STACK;
import static dev.tickwatch.guest.unwind.SyntheticKernel.fn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The ORC unwinder on synthetic kernels in both struct orc_entry layouts (6.1 and 6.4+). */
class UnwinderTest {

    static Stream<Arguments> layouts() {
        return Stream.of(Arguments.of(OrcLayout.V6_1), Arguments.of(OrcLayout.V6_4));
    }

    private static Unwinder.Registers regs(long rip, long rsp) {
        return new Unwinder.Registers(0, rip, rsp, 0, 0, Map.of("rbp", 0L), "gdbstub");
    }

    private static List<String> texts(Trace t) {
        return t.frames().stream().map(Frame::text).toList();
    }

    /** c was interrupted at c+0x10 (RIP); b called c, a called b, the thread start called a. */
    private static long threeFrames(SyntheticKernel k, long sp) {
        k.memory.writeLong(sp, fn("b") + 0x20);
        k.memory.writeLong(sp + 8, fn("a") + 0x30);
        k.memory.writeLong(sp + 16, fn("start_kernel_thread") + 0x8);
        return sp;
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void threeFrameCallChainEndsAtTheEndOfStack(OrcLayout layout) {
        SyntheticKernel k = new SyntheticKernel(layout);
        long rsp = threeFrames(k, TASK_STACK + 0x3f00);
        Trace t = Unwinder.of(k.target()).cpu(1, regs(fn("c") + 0x10, rsp));
        assertEquals("orc", t.method());
        assertEquals("c+0x10/0x100", t.start().text());
        assertEquals(List.of("b+0x20/0x100", "a+0x30/0x100", "start_kernel_thread+0x8/0x100"), texts(t));
        assertTrue(t.complete(), t.end());
        assertTrue(t.end().startsWith("end of stack"), t.end());
        assertTrue(t.frames().stream().allMatch(f -> f.reliable() && f.stack() == StackType.TASK));
    }

    @Test
    void theWholeTableSearchGivesTheSameAsTheLookupBlocks() {
        SyntheticKernel k = new SyntheticKernel(OrcLayout.V6_4);
        k.lookupTable = false;
        long rsp = threeFrames(k, TASK_STACK + 0x3f00);
        Unwinder u = Unwinder.of(k.target());
        Trace t = u.cpu(0, regs(fn("c") + 0x10, rsp));
        assertEquals(List.of("b+0x20/0x100", "a+0x30/0x100", "start_kernel_thread+0x8/0x100"), texts(t));
        assertTrue(u.limitations().stream().anyMatch(l -> l.contains("orc_lookup")), u.limitations().toString());
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void anInterruptCrossesFromTheIrqStackToTheTaskStack(OrcLayout layout) {
        SyntheticKernel k = new SyntheticKernel(layout);
        // On the task stack: the pt_regs the entry code pushed, then c's caller chain above them.
        long regsAt = TASK_STACK + 0x3e00;
        long interruptedSp = threeFrames(k, TASK_STACK + 0x3f00);
        k.memory.writeLong(regsAt + SyntheticKernel.ptRegs("ip"), fn("c") + 0x5);
        k.memory.writeLong(regsAt + SyntheticKernel.ptRegs("cs"), 0x10);
        k.memory.writeLong(regsAt + SyntheticKernel.ptRegs("sp"), interruptedSp);
        // On the IRQ stack: handle_irq's return into asm_sysvec, and the saved task SP pointing at the pt_regs.
        long irqEnd = IRQ_STACK + 16 * 1024;
        long rsp = irqEnd - 0x20;
        k.memory.writeLong(rsp, fn("asm_sysvec") + 0x40);
        k.memory.writeLong(rsp + 8, regsAt);
        k.orc.put(fn("asm_sysvec"), new OrcEntry(0, 0, OrcEntry.REG_SP_INDIRECT, OrcEntry.REG_UNDEFINED,
                OrcEntry.Type.REGS, true, false));
        Trace t = Unwinder.of(k.target()).cpu(0, regs(fn("handle_irq") + 0x10, rsp));
        assertEquals(List.of("asm_sysvec+0x40/0x100", "c+0x5/0x100", "b+0x20/0x100", "a+0x30/0x100",
                "start_kernel_thread+0x8/0x100"), texts(t));
        assertEquals(List.of(StackType.IRQ, StackType.TASK, StackType.TASK, StackType.TASK, StackType.TASK),
                t.frames().stream().map(Frame::stack).toList());
        assertEquals(Frame.Kind.REGS, t.frames().get(1).kind());
        assertTrue(t.complete(), t.end());
        List<String> text = TraceText.lines(t);
        assertEquals(List.of("CPU 0 (pid 7 kworker/0:1), RIP handle_irq+0x10/0x100:", "Call Trace:", " <IRQ>", " asm_sysvec+0x40/0x100",
                " </IRQ>", " <TASK>", " RIP: 0010:c+0x5/0x100", " b+0x20/0x100", " a+0x30/0x100",
                " start_kernel_thread+0x8/0x100", " </TASK>"), text.subList(0, text.size() - 1));
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void aPartialRegsFrameReadsOnlyTheIretFrame(OrcLayout layout) {
        SyntheticKernel k = new SyntheticKernel(layout);
        long interruptedSp = threeFrames(k, TASK_STACK + 0x3f00);
        long rsp = TASK_STACK + 0x3d00;
        // iret frame: ip, cs, flags, sp, ss
        k.memory.writeLong(rsp, fn("c") + 0x5);
        k.memory.writeLong(rsp + 8, 0x10);
        k.memory.writeLong(rsp + 16, 0x246);
        k.memory.writeLong(rsp + 24, interruptedSp);
        k.orc.put(fn("entry_stub"), new OrcEntry(0, 0, OrcEntry.REG_SP, OrcEntry.REG_UNDEFINED,
                OrcEntry.Type.REGS_PARTIAL, true, false));
        Trace t = Unwinder.of(k.target()).cpu(0, regs(fn("entry_stub") + 0x4, rsp));
        assertEquals(List.of("c+0x5/0x100", "b+0x20/0x100", "a+0x30/0x100", "start_kernel_thread+0x8/0x100"), texts(t));
        assertEquals(Frame.Kind.REGS, t.frames().get(0).kind());
        assertTrue(t.complete(), t.end());
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void aFrameThatDoesNotMoveUpTheStackEndsWithAReason(OrcLayout layout) {
        SyntheticKernel k = new SyntheticKernel(layout);
        long rsp = TASK_STACK + 0x3f00;
        k.memory.writeLong(rsp, fn("b") + 0x20);
        // b's entry claims SP does not move: the kernel calls that the wrong direction.
        k.orc.put(fn("b"), SyntheticKernel.call(0));
        Trace t = Unwinder.of(k.target()).cpu(0, regs(fn("c") + 0x10, rsp));
        assertFalse(t.complete());
        assertTrue(t.end().contains("wrong direction"), t.end());
        assertEquals(List.of("b+0x20/0x100"), texts(t));
    }

    @Test
    void goingBackToAStackAlreadyLeftIsRecursion() {
        SyntheticKernel k = new SyntheticKernel(OrcLayout.V6_4);
        long irqEnd = IRQ_STACK + 16 * 1024;
        long taskSp = TASK_STACK + 0x3f00;
        long rsp = irqEnd - 0x20;
        // IRQ stack -> task stack -> IRQ stack again: a loop between stacks.
        k.memory.writeLong(rsp, fn("b") + 0x20);
        k.orc.put(fn("b"), new OrcEntry(0, 0, OrcEntry.REG_SP_INDIRECT, OrcEntry.REG_UNDEFINED, OrcEntry.Type.CALL,
                false, false));
        k.memory.writeLong(rsp + 8, taskSp + 8);
        k.memory.writeLong(taskSp, fn("a") + 0x30);
        k.orc.put(fn("a"), new OrcEntry(0, 0, OrcEntry.REG_SP_INDIRECT, OrcEntry.REG_UNDEFINED, OrcEntry.Type.CALL,
                false, false));
        k.memory.writeLong(taskSp + 8, rsp + 0x10);
        Trace t = Unwinder.of(k.target()).cpu(0, regs(fn("c") + 0x10, rsp));
        assertFalse(t.complete());
        assertTrue(t.end().contains("recursion"), t.end());
    }

    @Test
    void anUnreadableStackPageEndsWithItsAddress() {
        SyntheticKernel k = new SyntheticKernel(OrcLayout.V6_1);
        // The task stack's last page is not mapped in this memory: the chain runs into it.
        long page = TASK_STACK + 0x3000;
        SyntheticKernel fresh = new SyntheticKernel(OrcLayout.V6_1);
        fresh.memory.map(TASK_STACK, 0x3000);
        long rsp = page - 0x10;
        fresh.memory.writeLong(rsp, fn("b") + 0x20);
        fresh.orc.put(fn("b"), SyntheticKernel.call(0x20));
        UnwindTarget target = new UnwindTarget() {
            final UnwindTarget base = fresh.target();
            final dev.tickwatch.guest.FakeMemory partial = partialCopy(fresh, page);

            public dev.tickwatch.guest.mem.GuestMemory memory() {
                return partial;
            }

            public dev.tickwatch.guest.sym.SymbolTable symbols() {
                return base.symbols();
            }

            public dev.tickwatch.guest.btf.Btf btf() {
                return base.btf();
            }

            public String version() {
                return base.version();
            }

            public long perCpuOffset(int cpu) {
                return base.perCpuOffset(cpu);
            }

            public long currentTask(int cpu) {
                return TASK;
            }

            public List<dev.tickwatch.guest.Modules.Module> modules() {
                return List.of();
            }

            public java.util.Optional<dev.tickwatch.guest.sym.SymbolOffset> moduleSymbol(
                    dev.tickwatch.guest.Modules.Module m, long address) {
                return java.util.Optional.empty();
            }
        };
        assertTrue(k.memory.isMapped(page));
        Trace t = Unwinder.of(target).cpu(0, regs(fn("c") + 0x10, rsp));
        assertFalse(t.complete());
        assertEquals("stack unreadable at 0x" + Long.toHexString(page), t.end());
        assertEquals(List.of("b+0x20/0x100"), texts(t));
    }

    /** A copy of {@code k}'s memory without the page at {@code hole}. */
    private static dev.tickwatch.guest.FakeMemory partialCopy(SyntheticKernel k, long hole) {
        dev.tickwatch.guest.FakeMemory m = new dev.tickwatch.guest.FakeMemory();
        for (long[] range : new long[][] {{TASK_STACK, 0x3000}, {IRQ_STACK, 0x4000}, {TASK, 0x1000},
            {SyntheticKernel.TABLES, 0x3000}, {SyntheticKernel.PERCPU + SyntheticKernel.HARDIRQ_PTR & -4096L, 0x1000}}) {
            for (long p = range[0]; p < range[0] + range[1]; p += 4096) {
                if (p != hole) {
                    m.write(p, k.memory.read(p, 4096));
                }
            }
        }
        return m;
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void aSleepingTaskStartsAtItsInactiveTaskFrame(OrcLayout layout) {
        SyntheticKernel k = new SyntheticKernel(layout);
        long threadSp = TASK_STACK + 0x3e00;
        k.memory.writeLong(TASK + 32, threadSp);
        // inactive_task_frame: r15 r14 r13 r12 bx bp ret_addr; then the caller chain above it.
        k.memory.writeLong(threadSp + 40, 0);
        k.memory.writeLong(threadSp + 48, fn("__mutex_lock.constprop.0") + 0x39);
        k.memory.writeLong(threadSp + 56, fn("a") + 0x30);
        k.memory.writeLong(threadSp + 64, fn("start_kernel_thread") + 0x8);
        Trace t = Unwinder.of(k.target()).task(TASK, 42, "worker", 'D');
        assertEquals(List.of("__mutex_lock.constprop.0+0x39/0x100", "a+0x30/0x100", "start_kernel_thread+0x8/0x100"),
                texts(t));
        assertEquals("inactive_task_frame", t.registers());
        assertTrue(t.complete(), t.end());
        assertEquals("task:worker state:D pid:42:", TraceText.header(t));
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void moduleFramesUseTheModulesOwnOrcTable(OrcLayout layout) {
        SyntheticKernel k = new SyntheticKernel(layout);
        // The module function keeps 0x18 bytes on the stack: its return address is at RSP + 0x10.
        k.module("lab_spin_thread", SyntheticKernel.call(0x18));
        long rsp = TASK_STACK + 0x3ee8;
        threeFrames(k, rsp + 0x10);
        Trace t = Unwinder.of(k.target()).cpu(1, regs(SyntheticKernel.MODULE + 0x55, rsp));
        assertEquals("lab_spin_thread+0x55/0x80 [tickwatch_lab]", t.start().text());
        assertEquals(List.of("b+0x20/0x100", "a+0x30/0x100", "start_kernel_thread+0x8/0x100"), texts(t));
        assertTrue(t.complete(), t.end());
    }

    @Test
    void withoutOrcTheFramePointerChainIsFollowed() {
        SyntheticKernel k = new SyntheticKernel(OrcLayout.V6_1);
        k.orcTables = false;
        long bp1 = TASK_STACK + 0x3e00;
        long bp2 = TASK_STACK + 0x3f00;
        k.memory.writeLong(bp1, bp2).writeLong(bp1 + 8, fn("b") + 0x20);
        k.memory.writeLong(bp2, 0).writeLong(bp2 + 8, fn("a") + 0x30);
        Trace t = Unwinder.of(k.target()).cpu(0,
                new Unwinder.Registers(0, fn("c") + 0x10, TASK_STACK + 0x3d00, bp1, 0, Map.of("rbp", bp1), "gdbstub"));
        assertEquals("frame-pointer", t.method());
        assertEquals(List.of("b+0x20/0x100", "a+0x30/0x100"), texts(t));
        assertTrue(t.complete(), t.end());
        assertTrue(TraceText.lines(t).contains("(unwound by frame pointers: the kernel has no ORC tables)"));
    }

    @Test
    void whereNothingUnwindsTheStackIsOnlyScannedAndSaysSo() {
        SyntheticKernel k = new SyntheticKernel(OrcLayout.V6_1);
        k.orcTables = false;
        long rsp = threeFrames(k, TASK_STACK + 0x3f00);
        // RBP holds no frame pointer (an ORC kernel's RBP is a general register): the chain breaks at once.
        Trace t = Unwinder.of(k.target()).cpu(0,
                new Unwinder.Registers(0, fn("c") + 0x10, rsp, 0x1234, 0, Map.of("rbp", 0x1234L), "gdbstub"));
        assertEquals("scan", t.method());
        assertEquals(List.of("b+0x20/0x100", "a+0x30/0x100", "start_kernel_thread+0x8/0x100"), texts(t));
        assertTrue(t.frames().stream().noneMatch(Frame::reliable));
        assertTrue(t.end().startsWith("scan: not unwound ("), t.end());
        assertTrue(TraceText.lines(t).contains(" ? b+0x20/0x100"), TraceText.lines(t).toString());
    }

    @Test
    void aReturnAddressIsNamedByTheCallBeforeIt() {
        SyntheticKernel k = new SyntheticKernel(OrcLayout.V6_1);
        Unwinder u = Unwinder.of(k.target());
        // A call as a's last instruction (to a noreturn function) returns to b's first byte.
        assertEquals("a+0x100/0x100", u.symbolize(fn("b"), Frame.Kind.RETURN, true, StackType.TASK, 0).text());
        assertEquals("b+0x0/0x100", u.symbolize(fn("b"), Frame.Kind.RIP, true, null, 0).text());
        assertEquals("__mutex_lock.constprop.0+0x39d/0x720 [lockmod]",
                new Frame(1, "__mutex_lock.constprop.0", 0x39d, 0x720, "lockmod", true, Frame.Kind.RETURN,
                        StackType.TASK, 0).text());
        assertEquals("0xffffffffa0001234",
                new Frame(0xffffffffa0001234L, null, 0, 0, null, true, Frame.Kind.RETURN, StackType.TASK, 0).text());
    }

    @Test
    void userModeHasNoKernelStack() {
        SyntheticKernel k = new SyntheticKernel(OrcLayout.V6_4);
        Trace t = Unwinder.of(k.target()).cpu(2, new Unwinder.Registers(2, 0x401000, 0x7ffc0000, 0, 3, Map.of(), "hmp"));
        assertTrue(t.frames().isEmpty());
        assertTrue(t.mayTear());
        assertTrue(t.end().contains("user mode"), t.end());
        assertTrue(TraceText.lines(t).contains("(registers read while running: may tear)"));
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void entriesRoundTripThroughBothLayouts(OrcLayout layout) {
        SyntheticKernel k = new SyntheticKernel(layout);
        OrcLayout fromBtf = OrcLayout.of(k.btf, "Linux version 5.0");
        assertEquals("BTF", fromBtf.from());
        assertEquals(layout.hasEndOfStackType(), fromBtf.hasEndOfStackType());
        OrcEntry e = new OrcEntry(-16, 24, OrcEntry.REG_BP, OrcEntry.REG_PREV_SP, OrcEntry.Type.REGS_PARTIAL,
                layout.signalBit() >= 0 || true, false);
        assertEquals(e, fromBtf.decode(layout.encode(e), 0));
        assertEquals(OrcLayout.V6_4, OrcLayout.of(null, "Linux version 6.12.117+deb12-amd64"));
        assertEquals(OrcLayout.V6_1, OrcLayout.of(null, "Linux version 6.1.0-57-cloud-amd64"));
    }
}
