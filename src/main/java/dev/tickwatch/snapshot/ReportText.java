package dev.tickwatch.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code report.txt}: a snapshot as plain text to paste into a mail to LKML: no colour, no line
 * over 80 columns, the verdict and its evidence first, then per-CPU state with the registers in
 * the kernel's own oops layout and the scanned stack marked {@code ?} as oops traces mark
 * unreliable entries, the timer view as /proc/timer_list prints it, blocked tasks, the
 * environment, and the commands that reproduce the guest. Built from snapshot.json alone.
 */
public final class ReportText {

    private ReportText() {
    }

    public static String render(JsonNode s) {
        return String.join("\n", lines(s)) + "\n";
    }

    /** The report's sections as lines; the HTML report shows the same sections. */
    static List<String> lines(JsonNode s) {
        List<String> out = new ArrayList<>();
        for (Section sec : sections(s)) {
            if (!out.isEmpty()) {
                out.add("");
            }
            if (sec.title() != null) {
                out.add(sec.title());
                out.add("-".repeat(sec.title().length()));
            }
            out.addAll(sec.lines());
        }
        // Mail clients strip trailing blanks, and a patch-style paste should not carry them.
        out.replaceAll(String::stripTrailing);
        return out;
    }

    record Section(String id, String title, List<String> lines) {
    }

    static List<Section> sections(JsonNode s) {
        List<Section> out = new ArrayList<>();
        out.add(new Section("summary", null, summary(s)));
        out.add(new Section("cpus", "Per-CPU state", cpus(s)));
        out.add(new Section("timers", "Timer view (as /proc/timer_list)", timers(s.path("timers"))));
        out.add(new Section("tasks", "Blocked and running tasks", tasks(s)));
        out.add(new Section("console", "Console tail", console(s.path("console"))));
        out.add(new Section("environment", "Environment", environment(s)));
        out.add(new Section("reproduce", "To reproduce", reproduce(s)));
        if (s.path("notes").size() > 0) {
            List<String> n = new ArrayList<>();
            for (JsonNode note : s.path("notes")) {
                n.addAll(Text.wrap(note.asText(), Text.WIDTH, "- ", "  "));
            }
            out.add(new Section("notes", "Notes", n));
        }
        return out;
    }

    private static List<String> summary(JsonNode s) {
        List<String> out = new ArrayList<>();
        JsonNode v = s.path("verdict");
        String verdict = v.path("verdict").isNull() || v.path("verdict").isMissingNode() ? "no verdict"
                : v.path("verdict").asText() + (v.path("flavour").isNull() || v.path("flavour").isMissingNode() ? ""
                        : " (" + v.path("flavour").asText() + ")");
        out.addAll(Text.wrap("tickwatch snapshot: " + verdict
                + (v.has("confidence") ? String.format(Locale.ROOT, ", confidence %.2f", v.path("confidence").asDouble()) : ""),
                Text.WIDTH, "", "  "));
        String guest = s.path("environment").path("guest_kernel").asText("unknown kernel");
        out.addAll(Text.wrap("Guest: " + guest, Text.WIDTH, "", "  "));
        out.add("Taken: " + s.path("taken_at").asText() + ", " + s.path("samples").size() + " samples over "
                + String.format(Locale.ROOT, "%.1f s", seriesSeconds(s.path("samples"))) + " before it");
        if (v.hasNonNull("onset_time")) {
            out.add("Onset: " + v.path("onset_time").asText() + "; decided "
                    + String.format(Locale.ROOT, "%.1f s", (v.path("decided_ns").asLong() - v.path("onset_ns").asLong()) / 1e9)
                    + " later");
        }
        out.add("");
        out.add("Evidence:");
        if (v.path("evidence").size() == 0) {
            out.add("  (none: no samples were taken before the snapshot)");
        }
        for (JsonNode e : v.path("evidence")) {
            out.addAll(Text.wrap(e.asText(), Text.WIDTH, "  - ", "    "));
        }
        return out;
    }

    static double seriesSeconds(JsonNode samples) {
        if (samples.size() < 2) {
            return 0;
        }
        return (samples.get(samples.size() - 1).path("host_time_ns").asLong() - samples.get(0).path("host_time_ns").asLong()) / 1e9;
    }

    private static List<String> cpus(JsonNode s) {
        List<String> out = new ArrayList<>();
        String source = s.path("registers_source").asText("?");
        out.addAll(Text.wrap("Registers from " + (source.equals("gdbstub")
                ? "the gdbstub, all CPUs inside one pause (HMP read in the same pause)"
                : "HMP 'info registers -a' while the guest ran (no gdbstub)") + ".", Text.WIDTH, "", ""));
        JsonNode timerCpus = s.path("timers").path("cpus");
        for (JsonNode c : s.path("cpus")) {
            int cpu = c.path("cpu").asInt();
            out.add("");
            out.add(String.format(Locale.ROOT, "CPU%d: %s IF=%d HLT=%d CPL=%d", cpu,
                    c.path("hlt").asBoolean() ? "halted (idle in HLT)" : "running", c.path("if").asBoolean() ? 1 : 0,
                    c.path("hlt").asBoolean() ? 1 : 0, c.path("cpl").asInt()));
            JsonNode cur = find(timerCpus, cpu).path("current");
            if (cur.isObject()) {
                out.add("current task: " + cur.path("comm").asText() + " (pid " + cur.path("pid").asInt() + ")");
            }
            JsonNode r = c.path("registers");
            String sym = c.path("rip_symbol").isTextual() ? c.path("rip_symbol").asText() : hex16(r.path("rip"));
            out.addAll(Text.wrap("RIP: " + String.format("%04x", r.path("cs").isMissingNode() ? 0x10 : parseHex(r.path("cs")))
                    + ":" + sym, Text.WIDTH, "", "  "));
            out.add("RSP: " + String.format("%04x", r.path("ss").isMissingNode() ? 0x18 : parseHex(r.path("ss"))) + ":"
                    + hex16(r.path("rsp")) + " EFLAGS: " + String.format("%08x", parseHex(r.path("eflags"))));
            if (r.has("rax")) {
                out.add(triple(r, "RAX", "rax", "RBX", "rbx", "RCX", "rcx"));
                out.add(triple(r, "RDX", "rdx", "RSI", "rsi", "RDI", "rdi"));
                out.add(triple(r, "RBP", "rbp", "R08", "r8", "R09", "r9"));
                out.add(triple(r, "R10", "r10", "R11", "r11", "R12", "r12"));
                out.add(triple(r, "R13", "r13", "R14", "r14", "R15", "r15"));
                out.add("FS:  " + hex16(r.path("fs_base")) + " GS:" + hex16(r.path("gs_base")) + " knlGS:"
                        + hex16(r.path("k_gs_base")));
                out.add("CR0: " + hex16(r.path("cr0")) + " CR2: " + hex16(r.path("cr2")) + " CR3: " + hex16(r.path("cr3")));
                out.add("CR4: " + hex16(r.path("cr4")));
            } else {
                out.add("CR3: " + hex16(r.path("cr3")) + " CR4: " + hex16(r.path("cr4")));
            }
            JsonNode l = c.path("lapic");
            if (l.isObject()) {
                out.addAll(Text.wrap(String.format(Locale.ROOT, "LAPIC timer: %s%s, vector %d, initial %d, current %d%s",
                        l.path("mode").asText(), l.path("masked").asBoolean() ? " (masked)" : "", l.path("vector").asInt(),
                        l.path("initial_count").asLong(), l.path("current_count").asLong(),
                        l.path("armed").asBoolean() ? "" : " (nothing armed)"), Text.WIDTH, "", "  "));
            }
            JsonNode st = c.path("stack");
            out.add("Stack scan from RSP, " + st.path("bytes").asInt() + " bytes (not unwound: every entry is '?'):");
            out.add(" <TASK>");
            if (st.path("entries").size() == 0) {
                out.add("  (no kernel text addresses found)");
            }
            for (JsonNode e : st.path("entries")) {
                out.addAll(Text.wrap("? " + e.path("symbol").asText(), Text.WIDTH, " ", "     "));
            }
            out.add(" </TASK>");
            if (st.hasNonNull("note")) {
                out.addAll(Text.wrap("(" + st.path("note").asText() + ")", Text.WIDTH, " ", "  "));
            }
        }
        return out;
    }

    private static JsonNode find(JsonNode array, int cpu) {
        for (JsonNode n : array) {
            if (n.path("cpu").asInt() == cpu) {
                return n;
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    private static String triple(JsonNode r, String a, String ka, String b, String kb, String c, String kc) {
        return a + ": " + hex16(r.path(ka)) + " " + b + ": " + hex16(r.path(kb)) + " " + c + ": " + hex16(r.path(kc));
    }

    static long parseHex(JsonNode n) {
        String s = n.asText("0x0");
        return s.startsWith("0x") ? Long.parseUnsignedLong(s.substring(2), 16) : 0;
    }

    private static String hex16(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? "????????????????" : String.format("%016x", parseHex(n));
    }

    static String seconds(JsonNode n) {
        if (n.isNull() || n.isMissingNode()) {
            return "?";
        }
        long ns = n.asLong();
        if (ns == Long.MAX_VALUE) {
            return "KTIME_MAX";
        }
        return String.format(Locale.ROOT, "%d.%09d s", ns / 1_000_000_000L, Math.abs(ns % 1_000_000_000L));
    }

    private static String flag(JsonNode n) {
        return n.isBoolean() ? (n.asBoolean() ? "1" : "0") : "?";
    }

    /** The text of {@code tickwatch guest timers}, from its JSON. */
    static List<String> timers(JsonNode t) {
        List<String> out = new ArrayList<>();
        if (!t.isObject()) {
            out.add("(not available: the guest kernel could not be read)");
            return out;
        }
        out.add("jiffies: " + t.path("jiffies").asLong() + (t.path("hz").asInt() > 0 ? " (HZ=" + t.path("hz").asInt() + ")" : ""));
        out.add("last_jiffies_update: " + seconds(t.path("last_jiffies_update_ns")));
        out.add("tick_next_period: " + seconds(t.path("tick_next_period_ns")));
        int doTimer = t.path("tick_do_timer_cpu").asInt();
        out.add("tick_do_timer_cpu: " + (doTimer == Integer.MIN_VALUE ? "?" : Integer.toString(doTimer))
                + (doTimer == -1 ? " (none: NO_HZ handed it off)" : ""));
        for (JsonNode c : t.path("cpus")) {
            out.add("");
            out.add("cpu: " + c.path("cpu").asInt());
            if (c.path("current").isObject()) {
                out.add("  current: " + c.path("current").path("comm").asText() + " (pid "
                        + c.path("current").path("pid").asInt() + ")");
            }
            out.add("  local timer interrupts (LOC): " + c.path("local_timer_interrupts").asLong());
            out.add("  .expires_next   : " + seconds(c.path("expires_next_ns")));
            out.add("  .hres_active    : " + flag(c.path("hres_active")));
            out.add("  .nr_events      : " + c.path("hrtimer_nr_events").asLong());
            out.add("  .tick_stopped   : " + flag(c.path("tick_stopped")));
            out.add("  .idle_active    : " + flag(c.path("idle_active")));
            if (c.hasNonNull("next_tick_ns")) {
                out.add("  .next_tick      : " + seconds(c.path("next_tick_ns")));
            }
            out.add("  .idle_jiffies   : " + c.path("idle_jiffies").asText("?"));
            out.add("  .idle_calls     : " + c.path("idle_calls").asText("?"));
            out.add("  .idle_sleeps    : " + c.path("idle_sleeps").asText("?"));
            out.add("  Tick Device: mode:     " + c.path("tick_device_mode").asText("?"));
            out.add("  Clock Event Device: " + (c.path("clockevent").isTextual() ? c.path("clockevent").asText() : "<NULL>"));
            if (c.path("clockevent").isTextual()) {
                out.add("   next_event:   " + seconds(c.path("clockevent_next_event_ns")));
                out.add("   state:        " + c.path("clockevent_state").asText());
            }
        }
        if (t.path("unavailable").size() > 0) {
            List<String> u = new ArrayList<>();
            t.path("unavailable").forEach(n -> u.add(n.asText()));
            out.add("");
            out.addAll(Text.wrap("not available on this kernel: " + String.join(", ", u), Text.WIDTH, "", "  "));
        }
        return out;
    }

    private static List<String> tasks(JsonNode s) {
        List<String> out = new ArrayList<>();
        JsonNode tasks = s.path("tasks");
        if (!tasks.isArray()) {
            out.add("(not available: the task list could not be read)");
            return out;
        }
        List<JsonNode> blocked = new ArrayList<>();
        List<JsonNode> running = new ArrayList<>();
        for (JsonNode t : tasks) {
            if (t.path("state").asText().equals("D")) {
                blocked.add(t);
            } else if (t.path("state").asText().equals("R")) {
                running.add(t);
            }
        }
        out.add(tasks.size() + " tasks; " + blocked.size() + " in D state (uninterruptible), " + running.size()
                + " runnable (R).");
        out.add("");
        out.add(String.format(Locale.ROOT, "%7s %-18s %s %4s %10s %s", "PID", "COMM", "S", "CPU", "SWITCHES", "BLOCKED"));
        List<JsonNode> shown = new ArrayList<>(blocked);
        shown.addAll(running);
        for (JsonNode t : shown) {
            String comm = t.path("kernel_thread").asBoolean() ? "[" + t.path("comm").asText() + "]" : t.path("comm").asText();
            out.add(String.format(Locale.ROOT, "%7d %-18s %s %4d %10d %s", t.path("pid").asInt(), comm,
                    t.path("state").asText(), t.path("cpu").asInt(), t.path("switch_count").asLong(),
                    t.has("blocked_for_s") ? String.format(Locale.ROOT, "%.1f s", t.path("blocked_for_s").asDouble()) : ""));
        }
        if (shown.isEmpty()) {
            out.add("    (none)");
        }
        return out;
    }

    private static List<String> console(JsonNode c) {
        List<String> out = new ArrayList<>();
        if (!c.isObject()) {
            out.add("(no console was given)");
            return out;
        }
        List<String> tail = new ArrayList<>();
        c.path("tail").forEach(n -> tail.add(n.asText()));
        int from = Math.max(0, tail.size() - 25);
        out.add("Last " + (tail.size() - from) + " lines of " + c.path("bytes").asLong() + " bytes (all in console.log):");
        for (String line : tail.subList(from, tail.size())) {
            out.addAll(Text.hardWrap("  " + line.replaceAll("\\p{Cntrl}", ""), Text.WIDTH, "    "));
        }
        return out;
    }

    private static List<String> environment(JsonNode s) {
        JsonNode e = s.path("environment");
        List<String> out = new ArrayList<>();
        out.addAll(Text.wrap("QEMU: " + e.path("qemu_version").asText("?") + ", accelerator "
                + e.path("accel").asText("?"), Text.WIDTH, "", "  "));
        out.addAll(Text.wrap("Host kernel: " + e.path("host_kernel").asText("?"), Text.WIDTH, "", "  "));
        out.addAll(Text.wrap("Host CPU: " + e.path("host_cpu").asText("?") + " (" + e.path("host_cpus").asInt() + " CPUs)",
                Text.WIDTH, "", "  "));
        out.addAll(Text.wrap("Guest kernel: " + e.path("guest_kernel").asText("?"), Text.WIDTH, "", "  "));
        if (e.hasNonNull("memory_backend")) {
            out.add("Guest memory read through: " + e.path("memory_backend").asText());
        }
        return out;
    }

    private static List<String> reproduce(JsonNode s) {
        JsonNode e = s.path("environment");
        List<String> out = new ArrayList<>();
        if (e.hasNonNull("lab_mode")) {
            out.add("This guest comes from tickwatch's hang lab:");
            out.add("");
            out.add("  tickwatch lab " + e.path("lab_mode").asText());
            out.add("");
        }
        List<String> argv = new ArrayList<>();
        e.path("qemu_command").forEach(n -> argv.add(n.asText()));
        if (argv.isEmpty()) {
            out.add("(the QEMU command line is unknown)");
            return out;
        }
        out.add("QEMU command line" + (e.path("lab_mode").isTextual() ? " it ran" : "") + ":");
        out.add("");
        out.addAll(Text.shellCommand(argv, Text.WIDTH, "  "));
        return out;
    }
}
