package dev.tickwatch.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.guest.CpuState;
import dev.tickwatch.guest.CpuTimers;
import dev.tickwatch.guest.GuestJson;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.GuestLayoutException;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.guest.TimerView;
import dev.tickwatch.util.Json;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Text and JSON renderings of the guest view, shared by the CLI and the shell. Text mirrors the
 * kernel's own formats (/proc/timer_list, ps) so a kernel developer reads it at a glance; JSON
 * keeps addresses as hex strings and puts the unit in every time key.
 */
public final class GuestFormat {

    private GuestFormat() {
    }

    static String seconds(long ns) {
        if (ns == Long.MAX_VALUE) {
            return "KTIME_MAX";
        }
        return String.format(Locale.ROOT, "%d.%09d s", ns / 1_000_000_000L, Math.abs(ns % 1_000_000_000L));
    }

    public static String timersText(GuestKernel k, TimerView t) {
        StringBuilder b = new StringBuilder();
        b.append("Timer view of ").append(k.version()).append('\n');
        b.append("read through ").append(k.memory().backend().label())
                .append(k.memory().backend().pauses() ? " (pauses the guest)" : " (guest not paused)").append("\n\n");
        b.append("jiffies: ").append(t.jiffies()).append(t.hz() > 0 ? " (HZ=" + t.hz() + ")" : "").append('\n');
        b.append("last_jiffies_update: ").append(seconds(t.lastJiffiesUpdateNs())).append('\n');
        b.append("tick_next_period: ").append(seconds(t.tickNextPeriodNs())).append('\n');
        b.append("tick_do_timer_cpu: ").append(t.tickDoTimerCpu() == Integer.MIN_VALUE ? "?" : t.tickDoTimerCpu())
                .append(t.tickDoTimerCpu() == -1 ? " (none: NO_HZ handed it off)" : "").append('\n');
        for (CpuTimers c : t.cpus()) {
            b.append("\ncpu: ").append(c.cpu()).append('\n');
            if (c.current() != null) {
                b.append("  current: ").append(c.current().comm()).append(" (pid ").append(c.current().pid()).append(")\n");
            }
            b.append("  local timer interrupts (LOC): ").append(c.localTimerInterrupts()).append('\n');
            b.append("  .expires_next   : ").append(seconds(c.expiresNextNs())).append('\n');
            b.append("  .hres_active    : ").append(flag(c.hresActive())).append('\n');
            b.append("  .nr_events      : ").append(c.hrtimerEvents()).append('\n');
            b.append("  .tick_stopped   : ").append(flag(c.tickStopped())).append('\n');
            b.append("  .idle_active    : ").append(flag(c.idleActive())).append('\n');
            if (c.nextTickNs() != null) {
                b.append("  .next_tick      : ").append(seconds(c.nextTickNs())).append('\n');
            }
            b.append("  .idle_jiffies   : ").append(c.idleJiffies()).append('\n');
            b.append("  .idle_calls     : ").append(c.idleCalls()).append('\n');
            b.append("  .idle_sleeps    : ").append(c.idleSleeps()).append('\n');
            b.append("  Tick Device: mode:     ").append(c.tickDeviceMode()).append('\n');
            b.append("  Clock Event Device: ").append(c.clockevent() == null ? "<NULL>" : c.clockevent()).append('\n');
            if (c.clockevent() != null) {
                b.append("   next_event:   ").append(seconds(c.clockeventNextEventNs())).append('\n');
                b.append("   state:        ").append(c.clockeventState()).append('\n');
            }
        }
        if (!t.unavailable().isEmpty()) {
            b.append("\nnot available on this kernel: ").append(String.join(", ", t.unavailable())).append('\n');
        }
        return b.toString();
    }

    private static String flag(Boolean b) {
        return b == null ? "?" : b ? "1" : "0";
    }

    public static ObjectNode timersJson(GuestKernel k, TimerView t) {
        ObjectNode o = Json.object().put("kernel", k.version()).put("backend", k.memory().backend().label());
        o.setAll(GuestJson.timers(t));
        return o;
    }

    public static String tasksText(List<TaskInfo> tasks) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%7s %-16s %s %4s %10s %s%n",
                "PID", "COMM", "S", "CPU", "SWITCHES", "BLOCKED"));
        for (TaskInfo t : tasks) {
            String comm = t.kernelThread() ? "[" + t.comm() + "]" : t.comm();
            b.append(String.format(Locale.ROOT, "%7d %-16s %c %4d %10d %s%n", t.pid(), comm, t.state(), t.cpu(),
                    t.switchCount(), t.blockedForNs() == null ? "" : String.format(Locale.ROOT, "%.1f s", t.blockedForNs() / 1e9)));
        }
        return b.toString();
    }

    public static ArrayNode tasksJson(List<TaskInfo> tasks) {
        return GuestJson.tasks(tasks);
    }

    /** One line per vCPU: RIP and symbol, IF, HLT, CPL, LAPIC timer. */
    public static String cpusText(List<CpuState> cpus) {
        StringBuilder out = new StringBuilder();
        for (CpuState c : cpus) {
            var r = c.registers();
            out.append(String.format(Locale.ROOT, "CPU%d RIP %016x %-40s IF=%d HLT=%d CPL=%d  LAPIC timer %s%n", c.cpu(),
                    r.rip(), c.ripSymbol() == null ? "(user)" : c.ripSymbol(), r.interruptsEnabled() ? 1 : 0,
                    r.halted() ? 1 : 0, r.cpl(), c.lapic() == null ? "?" : c.lapic().timerMode()
                            + (c.lapic().masked() ? " masked" : "") + ", initial " + c.lapic().initialCount()
                            + ", current " + c.lapic().currentCount() + (c.lapic().armed() ? " (armed)" : " (nothing armed)")));
        }
        return out.toString();
    }

    public static ArrayNode cpusJson(List<CpuState> cpus) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (CpuState c : cpus) {
            var r = c.registers();
            ObjectNode o = a.addObject().put("cpu", c.cpu()).put("rip", Json.hex(r.rip()))
                    .put("symbol", c.ripSymbol()).put("if", r.interruptsEnabled()).put("hlt", r.halted())
                    .put("cpl", r.cpl()).put("rflags", Json.hex(r.rflags()));
            if (c.lapic() != null) {
                o.putObject("lapic_timer").put("mode", c.lapic().timerMode()).put("masked", c.lapic().masked())
                        .put("vector", c.lapic().vector()).put("initial_count", c.lapic().initialCount())
                        .put("current_count", c.lapic().currentCount()).put("armed", c.lapic().armed());
            }
        }
        return a;
    }

    /** {@code address: xx xx ...}, 16 bytes a line. */
    public static String hexDump(long address, byte[] b) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < b.length; i += 16) {
            StringBuilder line = new StringBuilder(String.format("%016x: ", address + i));
            for (int j = i; j < Math.min(b.length, i + 16); j++) {
                line.append(String.format("%02x ", b[j] & 0xff));
            }
            out.append(line.toString().stripTrailing()).append(System.lineSeparator());
        }
        return out.toString();
    }

    public static ObjectNode hexJson(long address, byte[] b, String backend) {
        StringBuilder hex = new StringBuilder();
        for (byte x : b) {
            hex.append(String.format("%02x", x & 0xff));
        }
        return Json.object().put("address", Json.hex(address)).put("length", b.length).put("backend", backend)
                .put("hex", hex.toString());
    }

    /** gdb's {@code x/gx}: two 64-bit words a line, each pointer into a symbol named after the line. */
    public static String words(GuestKernel k, long address, byte[] b) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i + 8 <= b.length; i += 16) {
            StringBuilder line = new StringBuilder(String.format("%016x:", address + i));
            StringBuilder names = new StringBuilder();
            for (int j = i; j < Math.min(b.length - 7, i + 16); j += 8) {
                long w = java.nio.ByteBuffer.wrap(b, j, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
                line.append(String.format("  0x%016x", w));
                k.symbols().lookup(w).ifPresent(s -> names.append(names.length() == 0 ? "  <" : " <").append(s).append('>'));
            }
            out.append(line).append(names).append(System.lineSeparator());
        }
        return out.toString();
    }

    public static ObjectNode wordsJson(GuestKernel k, long address, byte[] b, String backend) {
        ObjectNode o = Json.object().put("address", Json.hex(address)).put("length", b.length).put("backend", backend);
        com.fasterxml.jackson.databind.node.ArrayNode a = o.putArray("u64");
        for (int j = 0; j + 8 <= b.length; j += 8) {
            long w = java.nio.ByteBuffer.wrap(b, j, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            a.addObject().put("value", Json.hex(w)).put("symbol", k.symbols().lookup(w).map(Object::toString).orElse(null));
        }
        return o;
    }

    /** The bytes as text, 64 a line, non-printable ones as '.' (gdb's x/s for a string, without stopping at NUL). */
    public static String ascii(long address, byte[] b) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < b.length; i += 64) {
            out.append(String.format("%016x: ", address + i)).append(printable(b, i, Math.min(b.length, i + 64)))
                    .append(System.lineSeparator());
        }
        return out.toString();
    }

    public static ObjectNode asciiJson(long address, byte[] b, String backend) {
        return Json.object().put("address", Json.hex(address)).put("length", b.length).put("backend", backend)
                .put("ascii", printable(b, 0, b.length));
    }

    private static String printable(byte[] b, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            int c = b[i] & 0xff;
            sb.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
        }
        return sb.toString();
    }

    /** Hex (with or without 0x) or a symbol name, optionally +offset. */
    public static long parseAddress(GuestKernel k, String text) {
        String t = text.strip();
        long offset = 0;
        int plus = t.indexOf('+');
        if (plus > 0) {
            offset = Long.decode(t.substring(plus + 1));
            t = t.substring(0, plus);
        }
        Optional<Long> sym = k.symbols().addressOf(t);
        if (sym.isPresent()) {
            return sym.get() + offset;
        }
        String hex = t.startsWith("0x") || t.startsWith("0X") ? t.substring(2) : t;
        try {
            return Long.parseUnsignedLong(hex, 16) + offset;
        } catch (NumberFormatException e) {
            throw new GuestLayoutException("'" + text + "' is neither a hex address nor a kernel symbol");
        }
    }
}
