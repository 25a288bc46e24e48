package dev.tickwatch.guest.unwind;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.tickwatch.util.Hex;
import java.util.List;
import java.util.Locale;

/**
 * A {@link Trace} as JSON (the {@code bt --json} output and the snapshot's {@code traces}):
 * addresses as {@code "0x..."} strings, the time with its unit in the key; read back with
 * {@link #trace()}.
 *
 * @param cpu       null for a sleeping task
 * @param state     the task's state letter for a sleeping task, else null
 * @param registers gdbstub (exact), hmp (read while running: may tear), inactive_task_frame
 * @param rip       the CPU's RIP frame; null for a sleeping task
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonPropertyOrder({"cpu", "pid", "comm", "state", "registers", "may_tear", "method", "rip", "frames", "end", "complete",
    "unwind_ms"})
public record TraceJson(Integer cpu, int pid, String comm, String state, String registers, boolean mayTear,
        String method, FrameJson rip, @JsonSetter(nulls = Nulls.AS_EMPTY) List<FrameJson> frames, String end,
        boolean complete, double unwindMs) {

    /**
     * One frame.
     *
     * @param symbol null when no symbol contains the address
     * @param module null for vmlinux
     * @param kind   rip, return, regs (the interrupted RIP of a pt_regs), scan (a clue, not unwound)
     * @param stack  TASK, IRQ, NMI, #DF, ... (as the kernel's markers); null for the RIP
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record FrameJson(@Hex long address, String symbol, long offset, long size,
            @JsonInclude(JsonInclude.Include.NON_NULL) String module, boolean reliable, String kind, String stack,
            @Hex long slot) {

        static FrameJson of(Frame f) {
            return new FrameJson(f.address(), f.symbol(), f.offset(), f.size(), f.module(), f.reliable(),
                    f.kind().name().toLowerCase(Locale.ROOT), f.stack() == null ? null : f.stack().label(), f.slot());
        }

        Frame frame() {
            StackType st = null;
            for (StackType t : StackType.values()) {
                if (t.label().equals(stack)) {
                    st = t;
                }
            }
            return new Frame(address, symbol, offset, size, module, reliable,
                    Frame.Kind.valueOf(kind.toUpperCase(Locale.ROOT)), st, slot);
        }
    }

    public static TraceJson of(Trace t) {
        return new TraceJson(t.cpu() >= 0 ? t.cpu() : null, t.pid(), t.comm(),
                t.state() == 0 ? null : String.valueOf(t.state()), t.registers(), t.mayTear(), t.method(),
                t.start() == null ? null : FrameJson.of(t.start()), t.frames().stream().map(FrameJson::of).toList(),
                t.end(), t.complete(), t.unwindMs());
    }

    /** The trace again (for rendering a snapshot's text). */
    public Trace trace() {
        return new Trace(cpu == null ? -1 : cpu, pid, comm, state == null || state.isEmpty() ? '\0' : state.charAt(0),
                registers, method, rip == null ? null : rip.frame(), frames.stream().map(FrameJson::frame).toList(), end,
                complete, unwindMs);
    }
}
