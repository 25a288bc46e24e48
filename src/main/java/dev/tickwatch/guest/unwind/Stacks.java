package dev.tickwatch.guest.unwind;

import dev.tickwatch.TickwatchException;
import java.util.Optional;

/**
 * The stacks one unwind may walk, bounded as arch/x86/kernel/dumpstack_64.c's get_stack_info
 * bounds them: the task's own stack ({@code task->stack}, THREAD_SIZE); and when the task is the one
 * running on {@code cpu}, that CPU's exception stacks ({@code cea_exception_stacks}), its IRQ stack
 * ({@code hardirq_stack_ptr}, per-CPU up to 6.1, in {@code pcpu_hot} after) and its entry stack
 * (below {@code cpu_tss_rw.x86_tss.sp0}).
 */
final class Stacks {

    /** One stack: {@code [begin, end)}, and the stack pointer saved where it was entered (0: none). */
    record Info(StackType type, long begin, long end, long nextSp) {
        boolean contains(long address, int length) {
            return Long.compareUnsigned(address, begin) >= 0 && Long.compareUnsigned(address + length, end) <= 0
                    && Long.compareUnsigned(address, end) < 0;
        }
    }

    private final UnwindTarget target;
    private final KernelLayout layout;
    private final PageCache memory;
    private final long taskStack;
    private final int cpu;
    /** Without BTF or a readable task: the THREAD_SIZE-aligned block around the start, as a guess. */
    private final long guessed;

    /**
     * @param task  the task whose stack this is (0 when unknown)
     * @param cpu   the CPU it runs on, or -1 for a task not running (its task stack only)
     * @param start the stack pointer the unwind starts at (for the guess without BTF)
     */
    Stacks(UnwindTarget target, KernelLayout layout, PageCache memory, long task, int cpu, long start) {
        this.target = target;
        this.layout = layout;
        this.memory = memory;
        this.cpu = cpu;
        long stack = 0;
        if (task != 0 && layout.taskStack != null) {
            try {
                stack = memory.readLong(task + layout.taskStack);
            } catch (TickwatchException e) {
                stack = 0;
            }
        }
        this.taskStack = stack;
        // Task stacks are THREAD_SIZE-aligned (THREAD_ALIGN with VMAP_STACK): without the task, guess that block.
        this.guessed = stack == 0 ? start & -KernelLayout.THREAD_SIZE : 0;
    }

    /** The stack holding {@code address}, or null when it is on none of them. */
    Info find(long address) {
        if (taskStack != 0 && in(address, taskStack, taskStack + KernelLayout.THREAD_SIZE)) {
            return new Info(StackType.TASK, taskStack, taskStack + KernelLayout.THREAD_SIZE, 0);
        }
        if (cpu >= 0) {
            Optional<Info> other = exception(address).or(() -> irq(address)).or(() -> entry(address));
            if (other.isPresent()) {
                return other.get();
            }
        }
        if (guessed != 0 && in(address, guessed, guessed + KernelLayout.THREAD_SIZE)) {
            return new Info(StackType.GUESSED, guessed, guessed + KernelLayout.THREAD_SIZE, 0);
        }
        return null;
    }

    private static boolean in(long a, long begin, long end) {
        return Long.compareUnsigned(a, begin) >= 0 && Long.compareUnsigned(a, end) < 0;
    }

    private Optional<Long> perCpu(String symbol) {
        return target.symbols().addressOf(symbol).map(a -> a + target.perCpuOffset(cpu));
    }

    private Optional<Info> exception(long address) {
        if (layout.exceptionStacks.isEmpty()) {
            return Optional.empty();
        }
        try {
            Optional<Long> at = perCpu("cea_exception_stacks");
            if (at.isEmpty()) {
                return Optional.empty();
            }
            long base = memory.readLong(at.get());
            if (base == 0 || !in(address, base, base + layout.exceptionArea)) {
                return Optional.empty();
            }
            for (KernelLayout.ExceptionStack s : layout.exceptionStacks) {
                long begin = base + s.offset();
                long end = begin + s.size();
                if (in(address, begin, end)) {
                    // The exception entry's pt_regs sit at the top; their sp is where it came from.
                    long next = layout.ptRegs == null ? 0
                            : memory.readLong(end - layout.ptRegs.size() + layout.ptRegs.sp());
                    return Optional.of(new Info(s.type(), begin, end, next));
                }
            }
        } catch (TickwatchException e) {
            // Unreadable per-CPU data: not on these stacks, as far as we can tell.
        }
        return Optional.empty();
    }

    private Optional<Info> irq(long address) {
        try {
            Optional<Long> ptr = perCpu("hardirq_stack_ptr");
            if (ptr.isEmpty() && layout.hotHardirq != null) {
                ptr = perCpu("pcpu_hot").map(a -> a + layout.hotHardirq);
            }
            if (ptr.isEmpty()) {
                return Optional.empty();
            }
            // hardirq_stack_ptr points at the topmost word, where the previous RSP is saved.
            long top = memory.readLong(ptr.get());
            if (top == 0) {
                return Optional.empty();
            }
            long end = top + 8;
            long begin = end - KernelLayout.IRQ_STACK_SIZE;
            if (!in(address, begin, end)) {
                return Optional.empty();
            }
            return Optional.of(new Info(StackType.IRQ, begin, end, memory.readLong(end - 8)));
        } catch (TickwatchException e) {
            return Optional.empty();
        }
    }

    private Optional<Info> entry(long address) {
        if (layout.tssSp0 == null || layout.entryStackSize == null) {
            return Optional.empty();
        }
        try {
            Optional<Long> tss = perCpu("cpu_tss_rw");
            if (tss.isEmpty()) {
                return Optional.empty();
            }
            // On x86_64 TSS.sp0 is the top of the CPU's entry stack (cpu_init: load_sp0(cpu_entry_stack(cpu) + 1)).
            long end = memory.readLong(tss.get() + layout.tssSp0);
            long begin = end - layout.entryStackSize;
            if (end == 0 || !in(address, begin, end)) {
                return Optional.empty();
            }
            return Optional.of(new Info(StackType.ENTRY, begin, end, 0));
        } catch (TickwatchException e) {
            return Optional.empty();
        }
    }
}
