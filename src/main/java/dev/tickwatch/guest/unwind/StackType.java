package dev.tickwatch.guest.unwind;

/**
 * The kernel stacks of x86_64 (arch/x86/include/asm/stacktrace.h's enum stack_type), with the names
 * show_trace_log_lvl prints between angle brackets (dumpstack_64.c's stack_type_name).
 */
public enum StackType {
    TASK("TASK"), IRQ("IRQ"), SOFTIRQ("SOFTIRQ"), ENTRY("ENTRY_TRAMPOLINE"), DF("#DF"), NMI("NMI"), DB("#DB"),
    MCE("#MC"), VC("#VC"), VC2("#VC2"),
    /** Not a stack the kernel knows: the unwinder guessed its bounds (no BTF for the task's stack). */
    GUESSED("TASK?");

    private final String label;

    StackType(String label) {
        this.label = label;
    }

    /** {@code IRQ}, {@code NMI}, {@code TASK}, as the kernel prints it in {@code <IRQ>}. */
    public String label() {
        return label;
    }

    /** The exception stack named {@code NAME} in struct cea_exception_stacks' {@code NAME_stack}. */
    static StackType exception(String name) {
        return switch (name) {
            case "DF" -> DF;
            case "NMI" -> NMI;
            case "DB" -> DB;
            case "MCE" -> MCE;
            case "VC" -> VC;
            case "VC2" -> VC2;
            default -> null;
        };
    }
}
