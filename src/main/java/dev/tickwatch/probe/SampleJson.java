package dev.tickwatch.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.ProtocolException;
import dev.tickwatch.qmp.hmp.LapicState;
import dev.tickwatch.util.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples as JSON lines, both ways: what {@code watch --record} writes, what snapshots embed and
 * what the verdict tests replay. Addresses are hex strings; times carry their unit in the key.
 */
public final class SampleJson {

    private SampleJson() {
    }

    public static ObjectNode toJson(Sample s) {
        ObjectNode o = Json.object();
        o.put("host_time_ns", s.hostTimeNs()).put("wall_time_ms", s.wallTimeMs()).put("status", s.status())
                .put("console_bytes", s.consoleBytes()).put("last_milestone", s.lastMilestone())
                .put("console_panic", s.consolePanic()).put("qemu_wait_ns", s.qemuWaitNs());
        ArrayNode cpus = o.putArray("cpus");
        for (VcpuSample c : s.cpus()) {
            ObjectNode j = cpus.addObject();
            j.put("cpu", c.cpu()).put("thread_id", c.threadId()).put("thread_cpu_ns", c.threadCpuNs())
                    .put("thread_wait_ns", c.threadWaitNs())
                    .put("rip", Json.hex(c.rip())).put("rip_symbol", c.ripSymbol()).put("if", c.interruptsEnabled())
                    .put("hlt", c.halted()).put("cpl", c.cpl()).put("long_mode", c.longMode());
            LapicState l = c.lapic();
            if (l != null) {
                j.putObject("lapic").put("lvtt", Json.hex(l.lvtt())).put("mode", l.timerMode()).put("masked", l.masked())
                        .put("vector", l.vector()).put("divide", l.divide()).put("initial_count", l.initialCount())
                        .put("current_count", l.currentCount());
            }
        }
        KernelSample k = s.kernel();
        if (k != null) {
            ObjectNode j = o.putObject("kernel");
            j.put("jiffies", k.jiffies()).put("last_jiffies_update_ns", k.lastJiffiesUpdateNs())
                    .put("tick_do_timer_cpu", k.tickDoTimerCpu()).put("hz", k.hz());
            ArrayNode kc = j.putArray("cpus");
            for (KernelSample.Cpu c : k.cpus()) {
                kc.addObject().put("cpu", c.cpu()).put("local_timer_interrupts", c.localTimerInterrupts())
                        .put("expires_next_ns", c.expiresNextNs()).put("hrtimer_nr_events", c.hrtimerEvents())
                        .put("tick_stopped", c.tickStopped()).put("current_comm", c.currentComm())
                        .put("current_pid", c.currentPid());
            }
            if (k.blockedTasks() != null) {
                ArrayNode b = j.putArray("blocked_tasks");
                for (KernelSample.BlockedTask t : k.blockedTasks()) {
                    b.addObject().put("pid", t.pid()).put("comm", t.comm()).put("blocked_for_s", t.blockedForS());
                }
            }
        }
        ArrayNode src = o.putArray("sources");
        s.sources().forEach(src::add);
        return o;
    }

    public static Sample fromJson(JsonNode o) {
        try {
            List<VcpuSample> cpus = new ArrayList<>();
            for (JsonNode c : o.path("cpus")) {
                JsonNode l = c.get("lapic");
                LapicState lapic = l == null || l.isNull() ? null : new LapicState(hex(l.path("lvtt")), l.path("mode").asText(),
                        l.path("masked").asBoolean(), l.path("vector").asInt(), l.path("divide").asInt(),
                        l.path("initial_count").asLong(), l.path("current_count").asLong());
                cpus.add(new VcpuSample(c.path("cpu").asInt(), c.path("thread_id").asLong(), c.path("thread_cpu_ns").asLong(),
                        c.path("thread_wait_ns").asLong(-1),
                        hex(c.path("rip")), text(c.get("rip_symbol")), c.path("if").asBoolean(), c.path("hlt").asBoolean(),
                        c.path("cpl").asInt(), c.path("long_mode").asBoolean(), lapic));
            }
            KernelSample kernel = null;
            JsonNode k = o.get("kernel");
            if (k != null && !k.isNull()) {
                List<KernelSample.Cpu> kc = new ArrayList<>();
                for (JsonNode c : k.path("cpus")) {
                    JsonNode ts = c.get("tick_stopped");
                    kc.add(new KernelSample.Cpu(c.path("cpu").asInt(), c.path("local_timer_interrupts").asLong(),
                            c.path("expires_next_ns").asLong(), c.path("hrtimer_nr_events").asLong(),
                            ts == null || ts.isNull() ? null : ts.asBoolean(), text(c.get("current_comm")),
                            c.path("current_pid").asInt(-1)));
                }
                List<KernelSample.BlockedTask> blocked = null;
                if (k.has("blocked_tasks")) {
                    blocked = new ArrayList<>();
                    for (JsonNode b : k.path("blocked_tasks")) {
                        blocked.add(new KernelSample.BlockedTask(b.path("pid").asInt(), b.path("comm").asText(),
                                b.path("blocked_for_s").asDouble()));
                    }
                }
                kernel = new KernelSample(k.path("jiffies").asLong(), k.path("last_jiffies_update_ns").asLong(),
                        k.path("tick_do_timer_cpu").asInt(), k.path("hz").asInt(), kc, blocked);
            }
            List<String> sources = new ArrayList<>();
            o.path("sources").forEach(n -> sources.add(n.asText()));
            return new Sample(o.path("host_time_ns").asLong(), o.path("wall_time_ms").asLong(), o.path("status").asText(),
                    o.path("console_bytes").asLong(), text(o.get("last_milestone")), o.path("console_panic").asBoolean(),
                    cpus, kernel, sources, o.path("qemu_wait_ns").asLong(-1));
        } catch (RuntimeException e) {
            throw new ProtocolException("not a tickwatch sample: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? null : n.asText();
    }

    private static long hex(JsonNode n) {
        String s = n.asText();
        if (!s.startsWith("0x")) {
            throw new ProtocolException("address without 0x: " + s);
        }
        return Long.parseUnsignedLong(s.substring(2), 16);
    }
}
