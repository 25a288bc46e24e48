package dev.tickwatch.snapshot;

import dev.tickwatch.gdb.ShowRegs;
import dev.tickwatch.guest.GuestJson;
import dev.tickwatch.guest.locks.LockJson;
import dev.tickwatch.guest.log.LogJson;
import dev.tickwatch.guest.unwind.Trace;
import dev.tickwatch.guest.unwind.TraceJson;
import dev.tickwatch.guest.unwind.TraceText;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.qmp.hmp.Hmp;
import dev.tickwatch.verdict.Ktime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code report.txt}: a snapshot as plain text to paste into a mail to LKML: no colour, no line
 * over 80 columns, the verdict and its evidence first, then per-CPU state with the registers in
 * the kernel's own oops layout and the scanned stack marked {@code ?} as oops traces mark
 * unreliable entries, the timer view as /proc/timer_list prints it, blocked tasks, the locks
 * they wait on (when the graph was read), the environment, and the commands that reproduce the
 * guest. Built from snapshot.json alone.
 */
public final class ReportText {

    private static final SnapshotDoc.Environment NO_ENVIRONMENT = new SnapshotDoc.Environment(null, List.of(), null,
            null, null, null, null, 0, null, null, List.of());
    private static final SnapshotDoc.Stack NO_STACK = new SnapshotDoc.Stack(0, 0, List.of(), null);

    private ReportText() {
    }

    public static String render(SnapshotDoc s) {
        return String.join("\n", lines(s)) + "\n";
    }

    /** The report's sections as lines; the HTML report shows the same sections. */
    static List<String> lines(SnapshotDoc s) {
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

    static List<Section> sections(SnapshotDoc s) {
        List<Section> out = new ArrayList<>();
        out.add(new Section("summary", null, summary(s)));
        out.add(new Section("cpus", "Per-CPU state", cpus(s)));
        out.add(new Section("timers", "Timer view (as /proc/timer_list)", timers(s.timers())));
        out.add(new Section("tasks", "Blocked and running tasks", tasks(s.tasks())));
        if (s.traces() != null) {
            out.add(new Section("traces", "Call traces of blocked tasks", blockedTraces(s)));
        }
        if (s.locks() != null) {
            out.add(new Section("locks", "Locks", locks(s.locks())));
        }
        out.add(new Section("console", "Console tail", console(s.console())));
        if (s.kernelLog() != null) {
            // Absent in older files and when unreadable (the notes say why): no section then.
            out.add(new Section("kernel_log", "Kernel log (tail)", kernelLog(s.kernelLog())));
        }
        out.add(new Section("environment", "Environment", environment(environment(s))));
        out.add(new Section("reproduce", "To reproduce", reproduce(environment(s))));
        if (!s.notes().isEmpty()) {
            List<String> n = new ArrayList<>();
            for (String note : s.notes()) {
                n.addAll(Text.wrap(note, Text.WIDTH, "- ", "  "));
            }
            out.add(new Section("notes", "Notes", n));
        }
        return out;
    }

    static SnapshotDoc.Judgement verdict(SnapshotDoc s) {
        return s.verdict() == null ? SnapshotDoc.Judgement.NONE : s.verdict();
    }

    /** The verdict as a heading: {@code TIMER_STALL (lost-timer)}, or {@code no verdict}. */
    static String verdictTitle(SnapshotDoc.Judgement v) {
        if (v.verdict() == null) {
            return "no verdict";
        }
        return v.verdict().name() + (v.flavour() == null ? "" : " (" + v.flavour() + ")");
    }

    private static SnapshotDoc.Environment environment(SnapshotDoc s) {
        return s.environment() == null ? NO_ENVIRONMENT : s.environment();
    }

    private static List<String> summary(SnapshotDoc s) {
        List<String> out = new ArrayList<>();
        SnapshotDoc.Judgement v = verdict(s);
        out.addAll(Text.wrap("tickwatch snapshot: " + verdictTitle(v)
                + (v.confidence() != null ? String.format(Locale.ROOT, ", confidence %.2f", v.confidence()) : ""),
                Text.WIDTH, "", "  "));
        String guest = or(environment(s).guestKernel(), "unknown kernel");
        out.addAll(Text.wrap("Guest: " + guest, Text.WIDTH, "", "  "));
        out.add("Taken: " + or(s.takenAt(), "") + ", " + s.samples().size() + " samples over "
                + String.format(Locale.ROOT, "%.1f s", seriesSeconds(s.samples())) + " before it");
        if (v.onsetTime() != null) {
            boolean lowerBound = v.onsetHow() != null && v.onsetHow().startsWith("lower bound");
            out.addAll(Text.wrap("Onset: " + (lowerBound ? "at or before " : "") + v.onsetTime() + "; decided "
                    + (lowerBound ? ">= " : "")
                    + String.format(Locale.ROOT, "%.1f s", (orZero(v.decidedNs()) - orZero(v.onsetNs())) / 1e9)
                    + " later" + (v.onsetHow() != null ? " (estimated " + v.onsetHow() + ")" : ""), Text.WIDTH, "", "  "));
        }
        out.add("");
        out.add("Evidence:");
        if (v.evidence().isEmpty()) {
            out.add("  (none: no samples were taken before the snapshot)");
        }
        for (String e : v.evidence()) {
            out.addAll(Text.wrap(e, Text.WIDTH, "  - ", "    "));
        }
        return out;
    }

    static double seriesSeconds(List<Sample> samples) {
        if (samples.size() < 2) {
            return 0;
        }
        return (samples.get(samples.size() - 1).hostTimeNs() - samples.get(0).hostTimeNs()) / 1e9;
    }

    private static List<String> cpus(SnapshotDoc s) {
        List<String> out = new ArrayList<>();
        String source = or(s.registersSource(), "?");
        out.addAll(Text.wrap("Registers from " + (source.equals("gdbstub")
                ? "the gdbstub, all CPUs inside one pause (HMP read in the same pause)"
                : "HMP '" + Hmp.INFO_REGISTERS + "' while the guest ran (no gdbstub)") + ".", Text.WIDTH, "", ""));
        List<GuestJson.CpuTimer> timerCpus = s.timers() == null ? List.of() : s.timers().cpus();
        for (SnapshotDoc.Cpu c : s.cpus()) {
            int cpu = c.cpu();
            out.add("");
            out.add(String.format(Locale.ROOT, "CPU%d: %s IF=%d HLT=%d CPL=%d", cpu,
                    c.halted() ? "halted (idle in HLT)" : "running", c.interruptsEnabled() ? 1 : 0,
                    c.halted() ? 1 : 0, c.cpl()));
            GuestJson.Current cur = current(timerCpus, cpu);
            if (cur != null) {
                out.add("current task: " + cur.comm() + " (pid " + cur.pid() + ")");
            }
            Map<String, Long> r = c.registers() == null ? Map.of() : c.registers();
            // The kernel's own lines, whole: a reader greps them as in any oops.
            out.addAll(ShowRegs.lines(r, c.ripSymbol()));
            SnapshotDoc.Lapic l = c.lapic();
            if (l != null) {
                out.addAll(Text.wrap(String.format(Locale.ROOT, "LAPIC timer: %s%s, vector %d, initial %d, current %d%s",
                        l.mode(), l.masked() ? " (masked)" : "", l.vector(), l.initialCount(), l.currentCount(),
                        l.armed() ? "" : " (nothing armed)"), Text.WIDTH, "", "  "));
            }
            TraceJson unwound = cpuTrace(s, cpu);
            if (unwound != null) {
                out.addAll(callTrace(unwound.trace()));
                continue;
            }
            SnapshotDoc.Stack st = c.stack() == null ? NO_STACK : c.stack();
            out.add("Stack scan from RSP, " + st.bytes() + " bytes (not unwound: every entry is '?'):");
            out.add(" <TASK>");
            if (st.entries().isEmpty()) {
                out.add("  (no kernel text addresses found)");
            }
            for (SnapshotDoc.StackEntry e : st.entries()) {
                out.addAll(Text.wrap("? " + e.symbol(), Text.WIDTH, " ", "     "));
            }
            out.add(" </TASK>");
            if (st.note() != null) {
                out.addAll(Text.wrap("(" + st.note() + ")", Text.WIDTH, " ", "  "));
            }
        }
        return out;
    }

    private static TraceJson cpuTrace(SnapshotDoc s, int cpu) {
        for (TraceJson t : s.traces() == null ? List.<TraceJson>of() : s.traces()) {
            if (t.cpu() != null && t.cpu() == cpu) {
                return t;
            }
        }
        return null;
    }

    /** A trace's Call Trace block as the kernel prints it (without our header), wrapped to 80 columns. */
    private static List<String> callTrace(Trace t) {
        List<String> out = new ArrayList<>();
        List<String> lines = TraceText.lines(t);
        for (String line : lines.subList(1, lines.size())) {
            // The kernel's one-space indent is kept; a continuation goes deeper.
            boolean indented = line.startsWith(" ");
            out.addAll(Text.wrap(indented ? line.substring(1) : line, Text.WIDTH, indented ? " " : "", "     "));
        }
        return out;
    }

    /** Each blocked task's call trace, after a header like the kernel's hung-task report. */
    static List<String> blockedTraces(SnapshotDoc s) {
        List<String> out = new ArrayList<>();
        for (TraceJson j : s.traces() == null ? List.<TraceJson>of() : s.traces()) {
            if (j.cpu() != null) {
                continue;
            }
            Trace t = j.trace();
            if (!out.isEmpty()) {
                out.add("");
            }
            out.addAll(Text.wrap(TraceText.header(t), Text.WIDTH, "", "  "));
            out.addAll(callTrace(t));
        }
        if (out.isEmpty()) {
            out.add(s.traces() == null ? "(not unwound)" : "(no task in D state)");
        }
        return out;
    }

    private static GuestJson.Current current(List<GuestJson.CpuTimer> cpus, int cpu) {
        for (GuestJson.CpuTimer c : cpus) {
            if (c.cpu() == cpu) {
                return c.current();
            }
        }
        return null;
    }

    /** A guest ktime; KTIME_MAX and garbage (negative, overflowed) by name, never as billions of seconds. */
    static String seconds(Long ns) {
        if (ns == null) {
            return "?";
        }
        if (ns == Long.MAX_VALUE) {
            return "KTIME_MAX";
        }
        if (ns != 0 && !Ktime.plausible(ns)) {
            return Ktime.sentinel(ns);
        }
        return String.format(Locale.ROOT, "%d.%09d s", ns / 1_000_000_000L, ns % 1_000_000_000L);
    }

    private static String flag(Boolean b) {
        return b == null ? "?" : b ? "1" : "0";
    }

    private static String or(Object value, String otherwise) {
        return value == null ? otherwise : value.toString();
    }

    private static long orZero(Long v) {
        return v == null ? 0 : v;
    }

    /** The text of {@code tickwatch guest timers}, from its JSON. */
    static List<String> timers(GuestJson.Timers t) {
        List<String> out = new ArrayList<>();
        if (t == null) {
            out.add("(not available: the guest kernel could not be read)");
            return out;
        }
        out.add("jiffies: " + t.jiffies() + (t.hz() > 0 ? " (HZ=" + t.hz() + ")" : ""));
        out.add("last_jiffies_update: " + seconds(t.lastJiffiesUpdateNs()));
        out.add("tick_next_period: " + seconds(t.tickNextPeriodNs()));
        int doTimer = t.tickDoTimerCpu();
        out.add("tick_do_timer_cpu: " + (doTimer == Integer.MIN_VALUE ? "?" : Integer.toString(doTimer))
                + (doTimer == -1 ? " (none: NO_HZ handed it off)" : ""));
        for (GuestJson.CpuTimer c : t.cpus() == null ? List.<GuestJson.CpuTimer>of() : t.cpus()) {
            out.add("");
            out.add("cpu: " + c.cpu());
            if (c.current() != null) {
                out.add("  current: " + c.current().comm() + " (pid " + c.current().pid() + ")");
            }
            out.add("  local timer interrupts (LOC): " + c.localTimerInterrupts());
            out.add("  .expires_next   : " + seconds(c.expiresNextNs()));
            out.add("  .hres_active    : " + flag(c.hresActive()));
            out.add("  .nr_events      : " + c.hrtimerEvents());
            out.add("  .tick_stopped   : " + flag(c.tickStopped()));
            out.add("  .idle_active    : " + flag(c.idleActive()));
            if (c.nextTickNs() != null) {
                out.add("  .next_tick      : " + seconds(c.nextTickNs()));
            }
            out.add("  .idle_jiffies   : " + or(c.idleJiffies(), "?"));
            out.add("  .idle_calls     : " + or(c.idleCalls(), "?"));
            out.add("  .idle_sleeps    : " + or(c.idleSleeps(), "?"));
            out.add("  Tick Device: mode:     " + or(c.tickDeviceMode(), "?"));
            out.add("  Clock Event Device: " + or(c.clockevent(), "<NULL>"));
            if (c.clockevent() != null) {
                out.add("   next_event:   " + seconds(c.clockeventNextEventNs()));
                out.add("   state:        " + c.clockeventState());
            }
        }
        if (t.unavailable() != null && !t.unavailable().isEmpty()) {
            out.add("");
            out.addAll(Text.wrap("not available on this kernel: " + String.join(", ", t.unavailable()), Text.WIDTH, "",
                    "  "));
        }
        return out;
    }

    private static List<String> tasks(List<GuestJson.Task> tasks) {
        List<String> out = new ArrayList<>();
        if (tasks == null) {
            out.add("(not available: the task list could not be read)");
            return out;
        }
        List<GuestJson.Task> blocked = new ArrayList<>();
        List<GuestJson.Task> running = new ArrayList<>();
        for (GuestJson.Task t : tasks) {
            if ("D".equals(t.state())) {
                blocked.add(t);
            } else if ("R".equals(t.state())) {
                running.add(t);
            }
        }
        out.add(tasks.size() + " tasks; " + blocked.size() + " in D state (uninterruptible), " + running.size()
                + " runnable (R).");
        out.add("");
        out.add(String.format(Locale.ROOT, "%7s %-18s %s %4s %10s %s", "PID", "COMM", "S", "CPU", "SWITCHES", "BLOCKED"));
        List<GuestJson.Task> shown = new ArrayList<>(blocked);
        shown.addAll(running);
        for (GuestJson.Task t : shown) {
            String comm = t.kernelThread() ? "[" + t.comm() + "]" : t.comm();
            out.add(String.format(Locale.ROOT, "%7d %-18s %s %4d %10d %s", t.pid(), comm, t.state(), t.cpu(),
                    t.switchCount(), t.blockedForS() != null ? String.format(Locale.ROOT, "%.1f s", t.blockedForS()) : ""));
        }
        if (shown.isEmpty()) {
            out.add("    (none)");
        }
        return out;
    }

    /** The wait-for graph: cycles first, then chains, then blocked tasks whose lock is unknown. */
    static List<String> locks(LockJson.Graph g) {
        List<String> out = new ArrayList<>();
        long waiting = g.tasks().stream().filter(t -> t.waitsOn() != null).count();
        out.add(g.tasks().size() + " blocked tasks, " + waiting + " waiting on a lock; "
                + (g.cycles().isEmpty() ? "no cycle." : g.cycles().size() + " cycle"
                + (g.cycles().size() == 1 ? "" : "s") + " (deadlock)."));
        for (int i = 0; i < g.cycles().size(); i++) {
            out.add("");
            out.add("Cycle " + (i + 1) + ":");
            for (String line : g.cycles().get(i).lines()) {
                out.addAll(Text.wrap(line, Text.WIDTH, "  ", "      "));
            }
        }
        if (!g.chains().isEmpty()) {
            out.add("");
            out.add("Waiting, no cycle:");
            for (String line : g.chains()) {
                out.addAll(Text.wrap(line, Text.WIDTH, "  ", "      "));
            }
        }
        List<LockJson.Task> unknown = g.tasks().stream().filter(t -> t.waitsOn() == null).toList();
        if (!unknown.isEmpty()) {
            out.add("");
            out.add("Blocked, lock not found:");
            for (LockJson.Task t : unknown) {
                out.addAll(Text.wrap(t.comm() + " (pid " + t.pid() + ", " + t.state() + "): " + t.reason(), Text.WIDTH,
                        "  ", "      "));
            }
        }
        return out;
    }

    private static List<String> console(SnapshotDoc.Console c) {
        List<String> out = new ArrayList<>();
        if (c == null) {
            out.add("(no console was given)");
            return out;
        }
        List<String> tail = c.tail();
        int from = Math.max(0, tail.size() - 25);
        out.add("Last " + (tail.size() - from) + " lines of " + c.bytes() + " bytes (all in console.log):");
        for (String line : tail.subList(from, tail.size())) {
            out.add(Text.quote(line, "  "));
        }
        return out;
    }

    /** How many of the log's newest records the text shows; snapshot.json has them all. */
    static final int KERNEL_LOG_LINES = 40;

    /** The detectors' reports first, then the log's newest records as dmesg prints them. */
    static List<String> kernelLog(LogJson.Tail log) {
        List<String> out = new ArrayList<>();
        out.add("Reports of the kernel's own detectors (" + log.reports().size() + "):");
        if (log.reports().isEmpty()) {
            out.add("  (none: no lockup, stall, hung task, lockdep, WARN, BUG, Oops or panic)");
        }
        for (LogJson.Report r : log.reports()) {
            out.add(Text.quote(dmesgTime(r.tsNs()) + " " + r.kind() + ": " + r.line(), "  "));
        }
        out.add("");
        List<String> lines = new ArrayList<>();
        for (LogJson.Entry e : log.records()) {
            for (String line : e.text().split("\n", -1)) {
                lines.add(dmesgTime(e.tsNs()) + " " + line);
            }
        }
        int from = Math.max(0, lines.size() - KERNEL_LOG_LINES);
        out.add("Last " + (lines.size() - from) + " lines of " + log.records().size() + " records"
                + (log.omitted() > 0 ? " (" + log.omitted() + " older left out)" : "") + " (all in snapshot.json):");
        for (String line : lines.subList(from, lines.size())) {
            out.add(Text.quote(line, "  "));
        }
        for (String skipped : log.skipped()) {
            out.addAll(Text.wrap("(passed over " + skipped + ")", Text.WIDTH, "  ", "    "));
        }
        return out;
    }

    /** {@code [    1.234567]}, the kernel's print_time(). */
    private static String dmesgTime(long ns) {
        return String.format(Locale.ROOT, "[%5d.%06d]", ns / 1_000_000_000L, ns % 1_000_000_000L / 1000);
    }

    private static List<String> environment(SnapshotDoc.Environment e) {
        List<String> out = new ArrayList<>();
        out.addAll(Text.wrap("QEMU: " + or(e.qemuVersion(), "?") + ", accelerator " + or(e.accel(), "?"), Text.WIDTH,
                "", "  "));
        out.addAll(Text.wrap("Host kernel: " + or(e.hostKernel(), "?"), Text.WIDTH, "", "  "));
        out.addAll(Text.wrap("Host CPU: " + or(e.hostCpu(), "?") + " (" + e.hostCpus() + " CPUs)", Text.WIDTH, "", "  "));
        out.addAll(Text.wrap("Guest kernel: " + or(e.guestKernel(), "?"), Text.WIDTH, "", "  "));
        if (e.memoryBackend() != null) {
            out.add("Guest memory read through: " + e.memoryBackend());
        }
        return out;
    }

    private static List<String> reproduce(SnapshotDoc.Environment e) {
        List<String> out = new ArrayList<>();
        if (e.labMode() != null) {
            out.add("This guest comes from tickwatch's hang lab:");
            out.add("");
            out.add("  tickwatch lab " + e.labMode());
            out.add("");
        }
        if (e.qemuCommand().isEmpty()) {
            out.add("(the QEMU command line is unknown)");
            return out;
        }
        out.addAll(BootFiles.reproduceLines(e));
        return out;
    }
}
