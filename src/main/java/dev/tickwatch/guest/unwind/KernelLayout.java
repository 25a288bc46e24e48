package dev.tickwatch.guest.unwind;

import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfComposite;
import dev.tickwatch.guest.btf.BtfField;
import dev.tickwatch.guest.btf.BtfMember;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The struct layouts the unwinder reads, all from BTF: pt_regs (the interrupt frames), the task's
 * stack pointer and saved SP, inactive_task_frame (what __switch_to_asm pushes), the exception
 * stacks' layout, the entry stack and the TSS. Each piece is null when the kernel's BTF lacks it,
 * and {@link #missing} says what that costs.
 */
final class KernelLayout {

    /** THREAD_SIZE and IRQ_STACK_SIZE (arch/x86/include/asm/page_64_types.h, #defines): 16 KiB without KASAN. */
    static final long THREAD_SIZE = 16 * 1024;
    static final long IRQ_STACK_SIZE = 16 * 1024;

    /** pt_regs offsets; null without BTF. */
    record PtRegs(int size, int ip, int sp, int cs, int bp, int r10, int r13, int di, int dx) {
        int offset(String reg) {
            return switch (reg) {
                case "ip" -> ip;
                case "sp" -> sp;
                case "cs" -> cs;
                case "bp" -> bp;
                case "r10" -> r10;
                case "r13" -> r13;
                case "di" -> di;
                case "dx" -> dx;
                default -> throw new IllegalArgumentException(reg);
            };
        }
    }

    /** One exception stack inside struct cea_exception_stacks. */
    record ExceptionStack(StackType type, int offset, int size) {
    }

    final PtRegs ptRegs;
    final Integer taskStack;
    final Integer threadSp;
    final Integer frameSize;
    final Integer frameBp;
    final Integer frameRetAddr;
    final List<ExceptionStack> exceptionStacks;
    final int exceptionArea;
    final Integer entryStackSize;
    final Integer tssSp0;
    /** Offset of hardirq_stack_ptr in pcpu_hot (6.2+), null when it is a per-CPU variable of its own or unknown. */
    final Integer hotHardirq;
    final List<String> missing = new ArrayList<>();

    KernelLayout(Btf btf) {
        ptRegs = btf == null ? null : ptRegs(btf);
        taskStack = offset(btf, "task_struct", "stack");
        threadSp = offset(btf, "task_struct", "thread.sp");
        frameSize = btf != null && btf.hasStruct("inactive_task_frame") ? btf.struct("inactive_task_frame").size() : null;
        frameBp = offset(btf, "inactive_task_frame", "bp");
        frameRetAddr = offset(btf, "inactive_task_frame", "ret_addr");
        List<ExceptionStack> ex = new ArrayList<>();
        int area = 0;
        if (btf != null && btf.hasStruct("cea_exception_stacks")) {
            BtfComposite c = btf.struct("cea_exception_stacks");
            area = c.size();
            for (BtfMember m : c.members()) {
                if (m.name().endsWith("_stack") && !m.name().endsWith("_guard")) {
                    StackType t = StackType.exception(m.name().substring(0, m.name().length() - "_stack".length()));
                    if (t != null) {
                        ex.add(new ExceptionStack(t, (int) (m.bitOffset() / 8), btf.size(m.typeId())));
                    }
                }
            }
        }
        exceptionStacks = List.copyOf(ex);
        exceptionArea = area;
        entryStackSize = btf != null && btf.hasStruct("entry_stack") ? btf.struct("entry_stack").size() : null;
        tssSp0 = offset(btf, "tss_struct", "x86_tss.sp0");
        hotHardirq = offset(btf, "pcpu_hot", "hardirq_stack_ptr");
        if (btf == null) {
            missing.add("no BTF: task stacks are guessed from RSP, interrupt frames (pt_regs) end the unwind");
        } else {
            if (ptRegs == null) {
                missing.add("BTF has no struct pt_regs: interrupt frames end the unwind");
            }
            if (taskStack == null) {
                missing.add("BTF has no task_struct.stack: task stacks are guessed from RSP");
            }
        }
    }

    private static Integer offset(Btf btf, String struct, String path) {
        if (btf == null) {
            return null;
        }
        Optional<BtfField> f = btf.findField(struct, path);
        return f.map(BtfField::offset).orElse(null);
    }

    private static PtRegs ptRegs(Btf btf) {
        if (!btf.hasStruct("pt_regs")) {
            return null;
        }
        Integer[] o = new Integer[8];
        String[] names = {"ip", "sp", "cs", "bp", "r10", "r13", "di", "dx"};
        for (int i = 0; i < names.length; i++) {
            o[i] = offset(btf, "pt_regs", names[i]);
            if (o[i] == null) {
                return null;
            }
        }
        return new PtRegs(btf.struct("pt_regs").size(), o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]);
    }
}
