package dev.tickwatch.guest.unwind;

import java.util.ArrayList;
import java.util.List;

/**
 * A trace as the kernel prints one (arch/x86/kernel/dumpstack.c, show_trace_log_lvl): a header,
 * {@code Call Trace:}, then one frame a line, innermost first, with {@code <IRQ>}/{@code </IRQ>},
 * {@code <NMI>}, {@code <TASK>}/{@code </TASK>} around the frames read from each stack, the
 * interrupted RIP of a pt_regs frame as {@code RIP: 0010:sym+off/size}, and {@code ? } before an
 * unreliable frame. Then why it ended, in parentheses.
 */
public final class TraceText {

    private TraceText() {
    }

    /** The header line: {@code CPU 1 (pid 0 swapper/1), RIP native_safe_halt+0xb/0x10:} or {@code task:NAME state:D pid:N:}. */
    public static String header(Trace t) {
        if (t.cpu() >= 0) {
            String who = t.pid() >= 0 ? " (pid " + t.pid() + " " + t.comm() + ")" : "";
            return "CPU " + t.cpu() + who + (t.start() != null ? ", RIP " + t.start().text() : "") + ":";
        }
        return "task:" + t.comm() + " state:" + (t.state() == 0 ? "?" : String.valueOf(t.state())) + " pid:" + t.pid() + ":";
    }

    /** Header, notes, Call Trace and frames, end reason; no line break at the ends. */
    public static List<String> lines(Trace t) {
        List<String> out = new ArrayList<>();
        out.add(header(t));
        if (t.mayTear()) {
            out.add("(registers read while running: may tear)");
        }
        if ("scan".equals(t.method())) {
            out.add("(scan: not unwound; every entry is '?')");
        } else if ("frame-pointer".equals(t.method())) {
            out.add("(unwound by frame pointers: the kernel has no ORC tables)");
        }
        if (!t.frames().isEmpty()) {
            out.add("Call Trace:");
        }
        StackType open = null;
        for (Frame f : t.frames()) {
            if (f.stack() != open) {
                if (open != null) {
                    out.add(" </" + open.label() + ">");
                }
                open = f.stack();
                if (open != null) {
                    out.add(" <" + open.label() + ">");
                }
            }
            if (f.kind() == Frame.Kind.REGS) {
                // Kernel or user code segment, as the kernel's show_regs prints regs->cs.
                out.add(" RIP: " + (f.address() < 0 ? "0010:" : "0033:") + f.text());
            } else {
                out.add(" " + (f.reliable() ? "" : "? ") + f.text());
            }
        }
        if (open != null) {
            out.add(" </" + open.label() + ">");
        }
        out.add("(" + t.end() + ")");
        return out;
    }

    public static String text(Trace t) {
        return String.join("\n", lines(t)) + "\n";
    }
}
