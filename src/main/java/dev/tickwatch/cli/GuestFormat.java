package dev.tickwatch.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.guest.CpuTimers;
import dev.tickwatch.guest.GuestJson;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.guest.TimerView;
import dev.tickwatch.util.Json;
import java.util.List;
import java.util.Locale;

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
}
