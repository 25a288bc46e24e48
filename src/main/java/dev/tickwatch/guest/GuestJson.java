package dev.tickwatch.guest;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.util.Json;
import java.util.List;

/**
 * The guest view as JSON, one shape for {@code tickwatch guest --json}, snapshots and the shell,
 * so one reader serves all of them. Addresses are hex strings, times carry their unit in the key.
 */
public final class GuestJson {

    private GuestJson() {
    }

    public static ObjectNode timers(TimerView t) {
        ObjectNode o = Json.object();
        o.put("jiffies", t.jiffies()).put("hz", t.hz()).put("last_jiffies_update_ns", t.lastJiffiesUpdateNs())
                .put("tick_next_period_ns", t.tickNextPeriodNs()).put("tick_do_timer_cpu", t.tickDoTimerCpu());
        ArrayNode cpus = o.putArray("cpus");
        for (CpuTimers c : t.cpus()) {
            ObjectNode j = cpus.addObject();
            j.put("cpu", c.cpu()).put("local_timer_interrupts", c.localTimerInterrupts())
                    .put("expires_next_ns", c.expiresNextNs()).put("hrtimer_nr_events", c.hrtimerEvents())
                    .put("hres_active", c.hresActive()).put("tick_stopped", c.tickStopped())
                    .put("idle_active", c.idleActive()).put("next_tick_ns", c.nextTickNs())
                    .put("idle_jiffies", c.idleJiffies()).put("idle_calls", c.idleCalls())
                    .put("idle_sleeps", c.idleSleeps()).put("tick_device_mode", c.tickDeviceMode())
                    .put("clockevent", c.clockevent()).put("clockevent_state", c.clockeventState())
                    .put("clockevent_next_event_ns", c.clockeventNextEventNs());
            if (c.current() != null) {
                j.putObject("current").put("pid", c.current().pid()).put("comm", c.current().comm())
                        .put("task", Json.hex(c.current().address()));
            } else {
                j.putNull("current");
            }
        }
        ArrayNode missing = o.putArray("unavailable");
        t.unavailable().forEach(missing::add);
        return o;
    }

    public static ArrayNode tasks(List<TaskInfo> tasks) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (TaskInfo t : tasks) {
            ObjectNode o = a.addObject();
            o.put("pid", t.pid()).put("comm", t.comm()).put("state", String.valueOf(t.state()))
                    .put("state_bits", Json.hex(t.stateBits())).put("cpu", t.cpu())
                    .put("kernel_thread", t.kernelThread()).put("switch_count", t.switchCount())
                    .put("task", Json.hex(t.address()));
            if (t.lastArrivalNs() != null) {
                o.put("last_arrival_ns", t.lastArrivalNs());
            }
            if (t.blockedForNs() != null) {
                o.put("blocked_for_s", Math.round(t.blockedForNs() / 1e6) / 1e3);
            }
        }
        return a;
    }
}
