package dev.tickwatch.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Snapshots for report tests: the real ones in samples/snapshots, and a synthetic one with awkward text. */
final class ReportFixtures {

    static final List<String> LAB_MODES = List.of("timer-stall-lost", "spin-deadlock");

    private ReportFixtures() {
    }

    static JsonNode real(String mode) {
        try {
            return Json.MAPPER.readTree(Files.readString(Path.of("samples/snapshots", mode, "snapshot.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String realReport(String mode) {
        try {
            return Files.readString(Path.of("samples/snapshots", mode, "report.txt"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A snapshot whose every text is too long, or full of characters that need quoting or escaping. */
    static ObjectNode awkward() {
        ObjectNode s = Json.object();
        s.put("schema", Snapshot.SCHEMA).put("taken_at", "2026-11-27T04:52:47Z").put("tickwatch_version", "test")
                .put("status_before", "running").put("status_after", "running").put("registers_source", "hmp");
        ObjectNode v = s.putObject("verdict");
        v.put("verdict", "SPIN_LOCKUP").putNull("flavour").put("confidence", 0.9)
                .put("onset_ns", 1_000_000_000L).put("decided_ns", 3_000_000_000L)
                .put("onset_time", "2026-11-27T04:52:45Z").put("decided_time", "2026-11-27T04:52:47Z");
        v.putArray("evidence").add("CPU0 spins with interrupts off for 2.2 s: HLT=0 IF=0, RIP at "
                + "a_very_long_symbol_name_that_goes_on_and_on_without_any_space_at_all_really_quite_long_indeed+0x30/0x2a0"
                + " <script>alert(1)</script> & more").add("short one");
        ArrayNode samples = s.putArray("samples");
        for (int i = 0; i < 12; i++) {
            ObjectNode o = samples.addObject();
            o.put("host_time_ns", i * 250_000_000L).put("wall_time_ms", 1_000_000L + i * 250).put("status", "running")
                    .put("console_bytes", i < 6 ? i * 100 : 600).putArray("sources");
            ArrayNode cpus = o.putArray("cpus");
            for (int c = 0; c < 2; c++) {
                cpus.addObject().put("cpu", c).put("rip", "0xffffffff81000000").put("if", i < 4).put("hlt", i < 2)
                        .put("cpl", 0).put("rip_symbol", "native_queued_spin_lock_slowpath+0x30/0x2a0");
            }
            ObjectNode k = o.putObject("kernel");
            k.put("jiffies", 4294892000L + Math.min(i, 4) * 25).put("hz", 250);
            ArrayNode kc = k.putArray("cpus");
            for (int c = 0; c < 2; c++) {
                kc.addObject().put("cpu", c).put("local_timer_interrupts", 100 + Math.min(i, 4) * 10 * (c + 1));
            }
        }
        ObjectNode env = s.putObject("environment");
        env.put("qemu_version", "7.2.22").put("accel", "tcg").put("lab_mode", "spin-deadlock")
                .put("host_kernel", "Linux 6.18.44 #1 SMP PREEMPT_DYNAMIC " + "x".repeat(120) + " amd64")
                .put("host_cpu", "Intel(R) Xeon(R) Processor").put("host_cpus", 2)
                .put("guest_kernel", "Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12)")
                .put("memory_backend", "proc-mem");
        env.putArray("qemu_command").add("qemu-system-x86_64").add("-smp").add("2")
                .add("-append").add("console=ttyS0 panic=0 it's \"quoted\" $HOME `x` \\ " + "word ".repeat(30))
                .add("-kernel").add("/very/long/path/" + "segment/".repeat(15) + "vmlinuz")
                .add("-chardev").add("socket,id=gdb0,path=/tmp/tickwatch-5255311364255736188/gdb.sock,server=on,wait=off");
        ArrayNode cpus = s.putArray("cpus");
        for (int c = 0; c < 2; c++) {
            ObjectNode o = cpus.addObject();
            o.put("cpu", c).put("source", "hmp").put("if", false).put("hlt", false).put("cpl", 0)
                    .put("rip_symbol", "native_queued_spin_lock_slowpath+0x30/0x2a0");
            o.putObject("registers").put("rip", "0xffffffff81000000").put("rsp", "0xffffd2e8003ebee8")
                    .put("eflags", "0x2").put("cr3", "0x1068000").put("cr4", "0x6b0");
            o.putNull("hmp");
            o.putObject("lapic").put("lvtt", "0xec").put("mode", "one-shot").put("masked", false).put("vector", 236)
                    .put("divide", 16).put("initial_count", 0).put("current_count", 0).put("armed", false);
            ObjectNode st = o.putObject("stack");
            st.put("rsp", "0xffffd2e8003ebee8").put("bytes", 280);
            st.putArray("entries").addObject().put("at", "0xffffd2e8003ebef0").put("address", "0xffffffff81000010")
                    .put("symbol", "lab_abba_thread_with_a_name_long_enough_to_need_wrapping_at_eighty_columns+0x6c/0x9b [tickwatch_lab]")
                    .put("reliable", false);
        }
        s.putNull("timers");
        ArrayNode tasks = s.putArray("tasks");
        tasks.addObject().put("pid", 94).put("comm", "lab-abba/0").put("state", "D").put("cpu", 0)
                .put("kernel_thread", true).put("switch_count", 1).put("task", "0xffff8983027e9800").put("blocked_for_s", 31.5);
        ObjectNode con = s.putObject("console");
        con.put("bytes", 600).put("file", "console.log");
        con.putArray("tail").add("[    3.198896] tickwatch-lab: " + "a long console line ".repeat(8)).add("\u001b[31mred\u001b[0m");
        s.putNull("vmcore");
        s.putArray("notes").add("a note that is long enough to be wrapped because it goes on for more than eighty columns of text");
        s.putObject("timings_ms").put("attach", 0.0).put("pause", 0.0).put("capture", 1.0).put("vmcore", 0.0);
        return s;
    }
}
