package dev.tickwatch.guest.unwind;

import java.util.List;

/**
 * One unwound stack: of a CPU (from its registers) or of a sleeping task (from the frame
 * {@code __switch_to_asm} left).
 *
 * @param cpu        the CPU, or -1 for a sleeping task
 * @param pid        the task's pid (the CPU's current task), -1 when unknown
 * @param comm       the task's name, null when unknown
 * @param state      the task's state letter for a sleeping task, else 0
 * @param registers  where the start came from: "gdbstub" (exact, inside a pause), "hmp" (read while
 *                   running: may tear), "inactive_task_frame" (a sleeping task)
 * @param method     "orc", "frame-pointer", or "scan" (not unwound)
 * @param start      the CPU's RIP; null for a sleeping task
 * @param frames     innermost first
 * @param end        why the unwind stopped, in words
 * @param complete   whether it stopped at the end of the stack (not at an error)
 * @param unwindMs   how long it took
 */
public record Trace(int cpu, int pid, String comm, char state, String registers, String method, Frame start,
        List<Frame> frames, String end, boolean complete, double unwindMs) {

    public Trace {
        frames = List.copyOf(frames);
    }

    /** Whether the registers were read while the guest ran, so stack and registers may be of different moments. */
    public boolean mayTear() {
        return "hmp".equals(registers);
    }
}
