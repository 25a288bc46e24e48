package dev.tickwatch.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.gdb.GdbClient;
import dev.tickwatch.gdb.GdbOptions;
import dev.tickwatch.gdb.GdbPause;
import dev.tickwatch.gdb.GdbThread;
import dev.tickwatch.gdb.Registers;
import dev.tickwatch.gdb.ShowRegs;
import dev.tickwatch.guest.GuestJson;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.guest.locks.LockJson;
import dev.tickwatch.guest.locks.LockReader;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.log.KernelLog;
import dev.tickwatch.guest.log.LogJson;
import dev.tickwatch.guest.unwind.TraceJson;
import dev.tickwatch.guest.unwind.UnwindTarget;
import dev.tickwatch.guest.unwind.Unwinder;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpCpu;
import dev.tickwatch.qmp.QmpStatus;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.qmp.hmp.Hmp;
import dev.tickwatch.qmp.hmp.LapicState;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Decision;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Captures everything about one moment of a guest into a bundle folder (issue 7): the verdict and
 * the samples that led to it, the environment, per-vCPU registers read inside one gdbstub pause
 * (HMP's view read in the same pause), a scan of each kernel stack, LAPIC state, the kernel's
 * timer view and task list, the console, and optionally a vmcore. The VM is never left paused:
 * the gdbstub pause is a scope that resumes on every exit path, and after a memory dump (which
 * QEMU runs with the VM stopped) the VM is continued if it ran before.
 *
 * <p>A missing source degrades the snapshot, it does not fail it: each gap is named in
 * {@code notes}. Only a bundle that cannot be written fails, and then nothing is left in place.
 * The document is {@link SnapshotDoc}; the reports are rendered from it.
 */
public final class Snapshot {

    public static final String SCHEMA = "tickwatch-snapshot/1";
    static final int CONSOLE_TAIL_LINES = 60;
    static final int CONSOLE_MAX_BYTES = 4 << 20;
    private static final DateTimeFormatter NAME_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS").withZone(ZoneOffset.UTC);

    /**
     * @param pauseMs   how long the VM was held paused for registers, stacks, timers and tasks (0 without gdbstub)
     * @param captureMs everything but the vmcore and writing
     * @param vmcoreMs  the dump and its rearrangement (0 without)
     * @param writeMs   rendering and writing the bundle
     * @param totalMs   from the call to the committed folder
     */
    public record Timings(double attachMs, double pauseMs, double captureMs, double vmcoreMs, double writeMs,
            double totalMs) {
    }

    /** The committed bundle folder and its snapshot.json content. */
    public record Result(Path bundle, SnapshotDoc snapshot, Timings timings) {
    }

    /** What one instant gave: per-CPU state and the kernel's timers and tasks, and how long the VM was paused. */
    private record Moment(List<SnapshotDoc.Cpu> cpus, String registersSource, GuestJson.Timers timers,
            List<GuestJson.Task> tasks, LockJson.Graph locks, double pauseMs, List<TraceJson> traces) {

        Moment paused(double ms) {
            return new Moment(cpus, registersSource, timers, tasks, locks, ms, traces);
        }
    }

    private Snapshot() {
    }

    /**
     * Captures and writes one snapshot. Blocking; never leaves the VM paused.
     *
     * @throws SnapshotException when the bundle cannot be written (nothing is left in place)
     */
    public static Result capture(SnapshotRequest req) {
        long t0 = System.nanoTime();
        QmpClient qmp = req.qmp();
        List<String> notes = new ArrayList<>();
        Instant now = Instant.now();
        String tickwatchVersion = Snapshot.class.getPackage().getImplementationVersion();
        QmpStatus before = qmp.queryStatus();

        GuestKernel kernel = req.kernel();
        boolean ownKernel = false;
        long ta = System.nanoTime();
        if (kernel == null) {
            try {
                kernel = GuestKernel.attach(qmp);
                ownKernel = true;
            } catch (TickwatchException e) {
                notes.add("guest kernel not readable from memory (" + e.getMessage()
                        + "): no symbols, stacks, timers or tasks");
            }
        }
        double attachMs = ms(ta, System.nanoTime());
        String name = req.name() != null ? req.name()
                : "snapshot-" + NAME_TIME.format(now) + "-"
                        + (req.decision() == null ? "no-verdict" : req.decision().verdict().name().toLowerCase(Locale.ROOT));
        Bundle bundle = Bundle.open(req.outputParent(), name, req.sink());
        try {
            SnapshotDoc.Judgement verdict = judgement(req.decision(), req.history());
            SnapshotDoc.Environment environment = environment(req, qmp, kernel, notes);
            // Now, while the run that made them still has them: "To reproduce" must name files that exist.
            environment = BootFiles.kept(environment, bundle, KernelCache.standard().root(), notes);

            Map<String, Double> steps = new LinkedHashMap<>();
            Moment moment = captureMoment(req, qmp, kernel, notes, steps);
            // After the pause: the log is lockless, and reading it whole would only lengthen the pause.
            long tl = System.nanoTime();
            LogJson.Tail kernelLog = kernelLog(kernel, notes);
            if (kernel != null) {
                steps.put("kernel_log", round(ms(tl, System.nanoTime())));
            }

            String consoleText = null;
            SnapshotDoc.Console console = null;
            if (req.console() != null) {
                consoleText = req.console().text();
                console = new SnapshotDoc.Console(consoleText.length(), "console.log",
                        tailLines(consoleText, CONSOLE_TAIL_LINES));
            } else {
                notes.add("no console given: console.log is empty");
            }
            double captureMs = ms(t0, System.nanoTime());

            double vmcoreMs = 0;
            SnapshotDoc.Vmcore vmcore = null;
            if (req.vmcore()) {
                long tv = System.nanoTime();
                vmcore = vmcore(req, qmp, kernel, bundle, notes);
                vmcoreMs = ms(tv, System.nanoTime());
            }
            QmpStatus after = qmp.queryStatus();
            long tw = System.nanoTime();
            SnapshotDoc doc = new SnapshotDoc(SCHEMA, now.toString(),
                    tickwatchVersion == null ? "development build" : tickwatchVersion, before.status(), verdict,
                    req.history(), environment, moment.cpus(), moment.registersSource(), moment.timers(),
                    moment.tasks(), moment.traces(), moment.locks(), console, vmcore, after.status(), notes,
                    new SnapshotDoc.CaptureTimes(round(attachMs), round(moment.pauseMs()), round(captureMs),
                            round(vmcoreMs), steps), kernelLog);
            bundle.write("snapshot.json", Json.pretty(doc.toJson()) + "\n");
            bundle.write("report.txt", ReportText.render(doc));
            bundle.write("report.html", ReportHtml.render(doc));
            bundle.write("console.log", consoleText == null ? "" : consoleTail(consoleText));
            Path path = bundle.commit();
            long end = System.nanoTime();
            return new Result(path, doc, new Timings(attachMs, moment.pauseMs(), captureMs, vmcoreMs, ms(tw, end), ms(t0, end)));
        } finally {
            bundle.close();
            if (ownKernel) {
                kernel.close();
            }
        }
    }

    /** The kernel log's newest records and its detectors' reports; null, with a note, when it cannot be read. */
    private static LogJson.Tail kernelLog(GuestKernel kernel, List<String> notes) {
        if (kernel == null) {
            return null;
        }
        try {
            return LogJson.Tail.of(KernelLog.of(kernel).read());
        } catch (TickwatchException e) {
            notes.add("kernel log not readable: " + e.getMessage());
            return null;
        }
    }

    private static String consoleTail(String text) {
        return text.length() <= CONSOLE_MAX_BYTES ? text : text.substring(text.length() - CONSOLE_MAX_BYTES);
    }

    static List<String> tailLines(String text, int n) {
        String[] lines = text.replace("\r", "").split("\n", -1);
        int end = lines.length;
        if (end > 0 && lines[end - 1].isEmpty()) {
            end--;
        }
        List<String> out = new ArrayList<>();
        for (int i = Math.max(0, end - n); i < end; i++) {
            out.add(lines[i]);
        }
        return out;
    }

    // ---- the moment: registers, stacks, LAPIC, timers, tasks ----

    /** Reads per-CPU state, timers and tasks, inside one gdbstub pause when there is a stub. */
    private static Moment captureMoment(SnapshotRequest req, QmpClient qmp, GuestKernel kernel, List<String> notes,
            Map<String, Double> steps) {
        if (req.gdb() == null) {
            notes.add("no gdbstub given: registers from HMP '" + Hmp.INFO_REGISTERS + "' while the guest ran;"
                    + " registers, stacks, timers and tasks are not from one instant");
            String text = new Hmp(qmp).registersText();
            List<CpuRegisters> hmp = CpuRegisters.parseAll(text);
            Unwinder unwinder = unwinder(kernel, notes);
            List<SnapshotDoc.Cpu> cpus = new ArrayList<>();
            for (CpuRegisters r : hmp) {
                cpus.add(cpu(r, null, qmp, kernel, "hmp", notes,
                        (addr, len) -> kernel == null ? null : kernel.memory().read(addr, len), unwinder));
            }
            return kernelState(cpus, "hmp", kernel, notes, steps, unwinder, Unwinder.Registers.ofHmp(text));
        }
        GdbOptions options = GdbOptions.builder().fallbackResume(qmp::contAsync).build();
        try (GdbClient gdb = GdbClient.connect(req.gdb(), options)) {
            long tp;
            Moment moment;
            try (GdbPause pause = gdb.pause()) {
                tp = System.nanoTime();
                List<Registers> regs = gdb.registersOfAll();
                steps.put("gdb_registers", round(ms(tp, System.nanoTime())));
                // HMP's view inside the same pause: the cross-check, and HLT, which the gdbstub does not give.
                List<CpuRegisters> hmp = new Hmp(qmp).registers();
                Unwinder unwinder = unwinder(kernel, notes);
                List<SnapshotDoc.Cpu> cpus = new ArrayList<>();
                for (int i = 0; i < regs.size(); i++) {
                    Registers g = regs.get(i);
                    CpuRegisters h = i < hmp.size() ? hmp.get(i) : null;
                    GdbThread thread = g.thread();
                    cpus.add(cpu(h, g, qmp, kernel, "gdbstub", notes, (addr, len) -> {
                        gdb.selectThread(thread);
                        return gdb.readMemory(addr, len);
                    }, unwinder));
                }
                steps.put("cpus", round(ms(tp, System.nanoTime())));
                moment = kernelState(cpus, "gdbstub", kernel, notes, steps, unwinder,
                        regs.stream().map(Unwinder.Registers::ofGdb).toList());
                moment = moment.paused(ms(tp, System.nanoTime()));
            }
            return moment;
        } catch (TickwatchException e) {
            // The pause scope has resumed the VM (or QMP cont did); say what is missing and go on.
            notes.add("gdbstub capture failed (" + e.getMessage() + "); falling back to HMP registers");
            SnapshotRequest noGdb = new SnapshotRequest(req.qmp(), null, req.console(), kernel, req.history(),
                    req.decision(), req.environment(), req.vmcore(), req.vmcoreFormat(), req.outputParent(),
                    req.name(), req.dumpTimeout(), req.sink());
            return captureMoment(noGdb, qmp, kernel, notes, steps);
        }
    }


    /** The unwinder of this moment, null without a kernel view; says in the notes what it lacks. */
    private static Unwinder unwinder(GuestKernel kernel, List<String> notes) {
        if (kernel == null) {
            return null;
        }
        try {
            Unwinder u = Unwinder.of(UnwindTarget.of(kernel));
            u.limitations().forEach(l -> notes.add("call traces: " + l));
            return u;
        } catch (TickwatchException e) {
            notes.add("call traces not unwound: " + e.getMessage());
            return null;
        }
    }

    private static SnapshotDoc.Cpu cpu(CpuRegisters h, Registers g, QmpClient qmp, GuestKernel kernel, String source,
            List<String> notes, StackScan.Reader reader, Unwinder unwinder) {
        int index = h != null ? h.cpu() : g.thread().cpuIndex();
        Map<String, Long> regs = new LinkedHashMap<>();
        long rip;
        long rsp;
        long rflags;
        if (g != null) {
            regs.putAll(ShowRegs.of(g));
            rip = g.get("rip");
            rsp = g.get("rsp");
            rflags = g.get("eflags");
        } else {
            regs.put("rip", h.rip());
            regs.put("rsp", h.rsp());
            regs.put("eflags", h.rflags());
            regs.put("cr3", h.cr3());
            regs.put("cr4", h.cr4());
            regs.put("gs_base", h.gsBase());
            rip = h.rip();
            rsp = h.rsp();
            rflags = h.rflags();
        }
        SnapshotDoc.HmpView hmp = h == null ? null
                : new SnapshotDoc.HmpView(h.rip(), h.rsp(), h.rflags(), h.halted(), h.cpl(), h.longMode());
        int cpl = h != null ? h.cpl() : (int) (g.has("cs") ? g.get("cs") & 3 : 0);
        SnapshotDoc.Lapic lapic;
        try {
            lapic = lapic(new Hmp(qmp).lapic(index));
        } catch (TickwatchException e) {
            lapic = null;
            notes.add("CPU" + index + ": no LAPIC state (" + e.getMessage() + ")");
        }
        return new SnapshotDoc.Cpu(index, source, regs, hmp, (rflags & CpuRegisters.IF) != 0, h != null && h.halted(),
                cpl, kernel != null && cpl == 0 ? kernel.symbolize(rip) : null, lapic,
                unwinder != null && unwinder.method().equals("orc")
                        ? new SnapshotDoc.Stack(rsp, 0, List.of(), "not scanned: unwound with the kernel's ORC tables")
                        : stack(index, rsp, cpl, kernel, reader));
    }

    /** The snapshot's LAPIC record: the sample's fields and whether a count-down timer runs. */
    private static SnapshotDoc.Lapic lapic(LapicState l) {
        return new SnapshotDoc.Lapic(l.lvtt(), l.timerMode(), l.masked(), l.vector(), l.divide(), l.initialCount(),
                l.currentCount(), l.armed());
    }

    private static SnapshotDoc.Stack stack(int cpu, long rsp, int cpl, GuestKernel kernel, StackScan.Reader reader) {
        StackScan.Stack st = StackScan.read(cpu, rsp, cpl, kernel, reader);
        List<SnapshotDoc.StackEntry> entries = st.entries().stream()
                .map(e -> new SnapshotDoc.StackEntry(e.at(), e.address(), e.symbol(), false)).toList();
        return new SnapshotDoc.Stack(rsp, st.bytes(), entries, st.note());
    }

    /** Adds the kernel's timers and tasks to the CPUs read (no pause counted yet). */
    private static Moment kernelState(List<SnapshotDoc.Cpu> cpus, String source, GuestKernel kernel, List<String> notes,
            Map<String, Double> steps, Unwinder unwinder, List<Unwinder.Registers> starts) {
        if (kernel == null) {
            return new Moment(cpus, source, null, null, null, 0, null);
        }
        long t0 = System.nanoTime();
        GuestJson.Timers timers = null;
        try {
            timers = GuestJson.Timers.of(kernel.timers());
        } catch (TickwatchException e) {
            notes.add("timer view not readable: " + e.getMessage());
        }
        long t1 = System.nanoTime();
        steps.put("timers", round(ms(t0, t1)));
        List<GuestJson.Task> tasks = null;
        List<TaskInfo> taskList = null;
        try {
            taskList = kernel.tasks();
            tasks = taskList.stream().map(GuestJson.Task::of).toList();
        } catch (TickwatchException e) {
            notes.add("task list not readable: " + e.getMessage());
        }
        long t2 = System.nanoTime();
        steps.put("tasks", round(ms(t1, t2)));
        LockJson.Graph locks = null;
        if (taskList != null) {
            try {
                locks = LockJson.Graph.of(LockReader.of(kernel).read(taskList));
            } catch (TickwatchException e) {
                notes.add("lock graph not readable: " + e.getMessage());
            }
            steps.put("locks", round(ms(t2, System.nanoTime())));
        }
        long t3 = System.nanoTime();
        List<TraceJson> traces = traces(kernel, unwinder, starts, tasks, notes);
        if (traces != null) {
            steps.put("unwind", round(ms(t3, System.nanoTime())));
        }
        return new Moment(cpus, source, timers, tasks, locks, 0, traces);
    }

    /** Every CPU's call trace, then every blocked task's; null when nothing could be unwound. */
    private static List<TraceJson> traces(GuestKernel kernel, Unwinder unwinder, List<Unwinder.Registers> starts,
            List<GuestJson.Task> tasks, List<String> notes) {
        if (unwinder == null) {
            return null;
        }
        List<TraceJson> out = new ArrayList<>();
        java.util.Set<Long> running = new java.util.HashSet<>();
        UnwindTarget target = UnwindTarget.of(kernel);
        for (Unwinder.Registers r : starts) {
            try {
                running.add(target.currentTask(r.cpu()));
                out.add(TraceJson.of(unwinder.cpu(r)));
            } catch (TickwatchException e) {
                notes.add("CPU" + r.cpu() + ": call trace not unwound: " + e.getMessage());
            }
        }
        // The task list read just before: one walk of it, and the same tasks as the report lists.
        for (GuestJson.Task t : tasks == null ? List.<GuestJson.Task>of() : tasks) {
            if ("D".equals(t.state()) && !running.contains(t.task())) {
                try {
                    out.add(TraceJson.of(unwinder.task(t.task(), t.pid(), t.comm(), 'D')));
                } catch (TickwatchException e) {
                    notes.add("task " + t.pid() + ": call trace not unwound: " + e.getMessage());
                }
            }
        }
        return out;
    }

    // ---- verdict and environment ----

    static SnapshotDoc.Judgement judgement(Decision d, List<Sample> samples) {
        if (d == null) {
            return SnapshotDoc.Judgement.NONE;
        }
        // Wall times from the samples, since the host clock of the Decision means nothing in a file.
        // Decided: when the watch first reached this verdict (it has held since), not its latest
        // re-judgement, which is the snapshot's own moment.
        long decided = d.sinceNs() > 0 && d.sinceNs() <= d.decidedNs() ? d.sinceNs() : d.decidedNs();
        return new SnapshotDoc.Judgement(d.verdict(), d.flavour(), Math.round(d.confidence() * 100) / 100.0,
                d.evidence(), d.onsetNs(), decided, wallAt(samples, d.onsetNs()), wallAt(samples, decided),
                d.onsetHow());
    }

    private static String wallAt(List<Sample> samples, long hostNs) {
        for (Sample s : samples) {
            if (s.hostTimeNs() >= hostNs) {
                return Instant.ofEpochMilli(s.wallTimeMs() - (s.hostTimeNs() - hostNs) / 1_000_000).toString();
            }
        }
        return null;
    }

    private static SnapshotDoc.Environment environment(SnapshotRequest req, QmpClient qmp, GuestKernel kernel,
            List<String> notes) {
        String qemuVersion;
        try {
            JsonNode v = qmp.execute("query-version");
            JsonNode q = v.path("qemu");
            qemuVersion = q.path("major").asInt() + "." + q.path("minor").asInt() + "." + q.path("micro").asInt()
                    + (v.path("package").asText("").isBlank() ? "" : " (" + v.path("package").asText().strip() + ")");
        } catch (TickwatchException ex) {
            qemuVersion = null;
        }
        List<String> cmd = req.environment().qemuCommand();
        String cmdSource = "caller";
        if (cmd == null) {
            cmd = qemuCommandFromProc(qmp);
            cmdSource = cmd == null ? null : "/proc of the vCPU thread";
            if (cmd == null) {
                notes.add("QEMU command line unknown (QEMU not on this host?)");
            }
        }
        String accel = req.environment().accel();
        if (accel == null) {
            try {
                accel = qmp.execute("query-kvm").path("enabled").asBoolean() ? "kvm" : "tcg";
            } catch (TickwatchException ex) {
                accel = null;
            }
        }
        return new SnapshotDoc.Environment(qemuVersion, cmd == null ? List.of() : cmd, cmdSource, accel,
                req.environment().labMode(), hostKernel(), hostCpu(), Runtime.getRuntime().availableProcessors(),
                kernel == null ? null : kernel.version(), kernel == null ? null : kernel.memory().backend().label(),
                kernel == null ? List.of() : List.copyOf(kernel.passedOver()));
    }

    /** QEMU's argv from /proc: a vCPU's thread id names the QEMU process when it runs on this host. */
    private static List<String> qemuCommandFromProc(QmpClient qmp) {
        try {
            List<QmpCpu> cpus = qmp.queryCpusFast();
            if (cpus.isEmpty()) {
                return null;
            }
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(cpus.get(0).threadId()), "cmdline"));
            if (raw.length == 0) {
                return null;
            }
            String s = new String(raw, StandardCharsets.UTF_8);
            if (s.endsWith("\0")) {
                s = s.substring(0, s.length() - 1);
            }
            return List.of(s.split("\0", -1));
        } catch (IOException | TickwatchException | SecurityException e) {
            return null;
        }
    }

    /** What {@code uname -srvm} prints, from /proc so no process is started. */
    static String hostKernel() {
        try {
            String os = Files.readString(Path.of("/proc/sys/kernel/ostype")).strip();
            String rel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
            String ver = Files.readString(Path.of("/proc/sys/kernel/version")).strip();
            return os + " " + rel + " " + ver + " " + System.getProperty("os.arch");
        } catch (IOException e) {
            return System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch");
        }
    }

    static String hostCpu() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException e) {
            // Not Linux, or /proc hidden: unknown.
        }
        return null;
    }

    // ---- vmcore ----

    private static SnapshotDoc.Vmcore vmcore(SnapshotRequest req, QmpClient qmp, GuestKernel kernel, Bundle bundle,
            List<String> notes) {
        String error = null;
        boolean kdump = req.vmcoreFormat().equals("kdump-zlib");
        Path raw = bundle.pending(kdump ? ".vmcore.flattened" : "vmcore");
        boolean wasRunning = qmp.queryStatus().running();
        boolean stoppedHere = false;
        VmcoreFacts facts = null;
        double factsMs = 0;
        long t0 = System.nanoTime();
        try {
            if (kernel != null) {
                // What goes into the notes must be the dump's moment: stop, read, and let QEMU dump the stopped VM.
                if (wasRunning) {
                    try {
                        qmp.stop();
                        stoppedHere = true;
                    } catch (TickwatchException e) {
                        notes.add("the VM could not be stopped before the dump (" + e.getMessage()
                                + "): the vmcore's CPU pids are from a moment before it");
                    }
                }
                long tf = System.nanoTime();
                facts = VmcoreFacts.read(kernel);
                factsMs = ms(tf, System.nanoTime());
            }
            qmp.dumpGuestMemory(raw, req.vmcoreFormat(), false).get(req.dumpTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            error = "dump-guest-memory did not finish in " + req.dumpTimeout().toSeconds() + " s";
        } catch (ExecutionException e) {
            error = "dump-guest-memory failed: " + e.getCause().getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = "interrupted during dump-guest-memory";
        } catch (TickwatchException e) {
            error = "dump-guest-memory refused: " + e.getMessage();
        } finally {
            // QEMU resumes a VM it stopped for the dump; make sure, and never resume one that was paused before.
            if (wasRunning && !qmp.queryStatus().running()) {
                qmp.cont();
                if (!stoppedHere) {
                    notes.add("the VM was still paused after dump-guest-memory: sent cont");
                }
            }
        }
        double dumpMs = round(ms(t0, System.nanoTime()));
        if (error != null) {
            notes.add("no vmcore: " + error);
            try {
                Files.deleteIfExists(raw);
            } catch (IOException e) {
                // The temp folder goes at commit or close anyway.
            }
            return new SnapshotDoc.Vmcore(req.vmcoreFormat(), null, error, dumpMs, null, null, null, null);
        }
        Boolean rearranged = null;
        Double rearrangeMs = null;
        SnapshotDoc.Kdump header = null;
        try {
            long t1 = System.nanoTime();
            Path out = bundle.pending("vmcore");
            if (kdump) {
                if (FlattenedDump.isFlattened(raw)) {
                    FlattenedDump.rearrange(raw, out);
                    Files.delete(raw);
                    rearranged = true;
                } else {
                    Files.move(raw, out, StandardCopyOption.ATOMIC_MOVE);
                    rearranged = false;
                }
                rearrangeMs = round(ms(t1, System.nanoTime()));
            } else {
                try (InputStream in = Files.newInputStream(out)) {
                    byte[] magic = in.readNBytes(4);
                    if (magic.length < 4 || magic[0] != 0x7f || magic[1] != 'E' || magic[2] != 'L' || magic[3] != 'F') {
                        throw new SnapshotException("the ELF vmcore does not start with \\x7fELF");
                    }
                }
            }
            SnapshotDoc.VmcoreAnnotation annotation = null;
            if (facts != null) {
                annotation = annotate(kdump, out, facts, factsMs, bundle, notes);
            } else {
                notes.add("no guest kernel view: the vmcore has QEMU's notes only (no VMCOREINFO: drgn will not"
                        + " open it; CPU pids 1, 2, ...)");
            }
            if (kdump) {
                header = SnapshotDoc.Kdump.of(KdumpHeader.read(out));
            }
            bundle.restrict("vmcore");
            return new SnapshotDoc.Vmcore(req.vmcoreFormat(), "vmcore", null, dumpMs, rearranged, rearrangeMs, header,
                    Files.size(out), annotation);
        } catch (IOException e) {
            throw new SnapshotException("snapshot not written: vmcore: " + Bundle.reason(e), e);
        }
    }

    /**
     * Rewrites the dump with the guest's VMCOREINFO, CPU pids and utsname into a temp file that
     * replaces it only when whole: a full disk leaves QEMU's dump as it was, with a note.
     */
    private static SnapshotDoc.VmcoreAnnotation annotate(boolean kdump, Path vmcore, VmcoreFacts facts, double factsMs,
            Bundle bundle, List<String> notes) {
        Path tmp = bundle.pending(".vmcore.annotating");
        long t0 = System.nanoTime();
        try {
            VmcoreAnnotator.Annotation a = kdump ? VmcoreAnnotator.kdump(vmcore, tmp, facts)
                    : VmcoreAnnotator.elf(vmcore, tmp, facts);
            Files.move(tmp, vmcore, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            for (String p : a.problems()) {
                notes.add("vmcore: " + p);
            }
            return new SnapshotDoc.VmcoreAnnotation(a.vmcoreinfo(), a.vmcoreinfoBytes(), a.release(), a.cpuPids(),
                    a.shiftedBytes(), round(factsMs + ms(t0, System.nanoTime())), null, a.problems());
        } catch (IOException | TickwatchException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // The temp folder goes at commit or close anyway.
            }
            String why = e instanceof IOException io ? Bundle.reason(io) : e.getMessage();
            notes.add("vmcore left as QEMU wrote it (no VMCOREINFO for drgn, CPU pids 1, 2, ...): " + why);
            return new SnapshotDoc.VmcoreAnnotation(null, null, null, null, null,
                    round(factsMs + ms(t0, System.nanoTime())), why, List.of());
        }
    }

    static double ms(long from, long to) {
        return (to - from) / 1e6;
    }

    static double round(double ms) {
        return Math.round(ms * 10) / 10.0;
    }
}
