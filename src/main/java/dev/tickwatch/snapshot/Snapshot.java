package dev.tickwatch.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.gdb.GdbClient;
import dev.tickwatch.gdb.GdbOptions;
import dev.tickwatch.gdb.GdbPause;
import dev.tickwatch.gdb.GdbThread;
import dev.tickwatch.gdb.Registers;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.probe.SampleJson;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpCpu;
import dev.tickwatch.qmp.QmpStatus;
import dev.tickwatch.qmp.hmp.CpuRegisters;
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
import java.util.List;
import java.util.Locale;
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
    public record Result(Path bundle, JsonNode snapshot, Timings timings) {
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
        ObjectNode root = Json.object();
        ArrayNode notes = Json.MAPPER.createArrayNode();
        root.put("schema", SCHEMA);
        Instant now = Instant.now();
        root.put("taken_at", now.toString());
        String tickwatchVersion = Snapshot.class.getPackage().getImplementationVersion();
        root.put("tickwatch_version", tickwatchVersion == null ? "development build" : tickwatchVersion);
        QmpStatus before = qmp.queryStatus();
        root.put("status_before", before.status());

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
            root.set("verdict", decisionJson(req.decision(), req.history()));
            ArrayNode samples = root.putArray("samples");
            for (Sample s : req.history()) {
                samples.add(SampleJson.toJson(s));
            }
            root.set("environment", environment(req, qmp, kernel, notes));

            ObjectNode steps = Json.object();
            double pauseMs = captureMoment(req, qmp, kernel, root, notes, steps);

            String consoleText = null;
            if (req.console() != null) {
                consoleText = req.console().text();
                ObjectNode c = root.putObject("console");
                c.put("bytes", consoleText.length()).put("file", "console.log");
                ArrayNode tail = c.putArray("tail");
                for (String line : tailLines(consoleText, CONSOLE_TAIL_LINES)) {
                    tail.add(line);
                }
            } else {
                root.putNull("console");
                notes.add("no console given: console.log is empty");
            }
            double captureMs = ms(t0, System.nanoTime());

            double vmcoreMs = 0;
            if (req.vmcore()) {
                long tv = System.nanoTime();
                root.set("vmcore", vmcore(req, qmp, bundle, notes));
                vmcoreMs = ms(tv, System.nanoTime());
            } else {
                root.putNull("vmcore");
            }
            QmpStatus after = qmp.queryStatus();
            root.put("status_after", after.status());
            root.set("notes", notes);
            long tw = System.nanoTime();
            root.putObject("timings_ms").put("attach", round(attachMs)).put("pause", round(pauseMs))
                    .put("capture", round(captureMs)).put("vmcore", round(vmcoreMs)).set("steps", steps);
            bundle.write("snapshot.json", Json.pretty(root) + "\n");
            bundle.write("report.txt", ReportText.render(root));
            bundle.write("report.html", ReportHtml.render(root));
            bundle.write("console.log", consoleText == null ? "" : consoleTail(consoleText));
            Path path = bundle.commit();
            long end = System.nanoTime();
            return new Result(path, root, new Timings(attachMs, pauseMs, captureMs, vmcoreMs, ms(tw, end), ms(t0, end)));
        } finally {
            bundle.close();
            if (ownKernel) {
                kernel.close();
            }
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

    /** Reads per-CPU state, timers and tasks, inside one gdbstub pause when there is a stub; returns the pause's ms. */
    private static double captureMoment(SnapshotRequest req, QmpClient qmp, GuestKernel kernel, ObjectNode root,
            ArrayNode notes, ObjectNode steps) {
        if (req.gdb() == null) {
            notes.add("no gdbstub given: registers from HMP 'info registers -a' while the guest ran;"
                    + " registers, stacks, timers and tasks are not from one instant");
            List<CpuRegisters> hmp = CpuRegisters.parseAll(qmp.hmp("info registers -a"));
            ArrayNode cpus = root.putArray("cpus");
            for (CpuRegisters r : hmp) {
                cpus.add(cpu(r, null, qmp, kernel, "hmp", notes,
                        (addr, len) -> kernel == null ? null : kernel.memory().read(addr, len)));
            }
            root.put("registers_source", "hmp");
            kernelState(kernel, root, notes, steps);
            return 0;
        }
        GdbOptions options = GdbOptions.builder().qmp(qmp).build();
        try (GdbClient gdb = GdbClient.connect(req.gdb(), options)) {
            long tp;
            long te;
            try (GdbPause pause = gdb.pause()) {
                tp = System.nanoTime();
                List<Registers> regs = gdb.registersOfAll();
                steps.put("gdb_registers", round(ms(tp, System.nanoTime())));
                // HMP's view inside the same pause: the cross-check, and HLT, which the gdbstub does not give.
                List<CpuRegisters> hmp = CpuRegisters.parseAll(qmp.hmp("info registers -a"));
                ArrayNode cpus = root.putArray("cpus");
                for (int i = 0; i < regs.size(); i++) {
                    Registers g = regs.get(i);
                    CpuRegisters h = i < hmp.size() ? hmp.get(i) : null;
                    GdbThread thread = g.thread();
                    cpus.add(cpu(h, g, qmp, kernel, "gdbstub", notes, (addr, len) -> {
                        gdb.selectThread(thread);
                        return gdb.readMemory(addr, len);
                    }));
                }
                root.put("registers_source", "gdbstub");
                steps.put("cpus", round(ms(tp, System.nanoTime())));
                kernelState(kernel, root, notes, steps);
                te = System.nanoTime();
            }
            return ms(tp, te);
        } catch (TickwatchException e) {
            // The pause scope has resumed the VM (or QMP cont did); say what is missing and go on.
            notes.add("gdbstub capture failed (" + e.getMessage() + "); falling back to HMP registers");
            SnapshotRequest noGdb = new SnapshotRequest(req.qmp(), null, req.console(), kernel, req.history(),
                    req.decision(), req.environment(), req.vmcore(), req.vmcoreFormat(), req.outputParent(),
                    req.name(), req.dumpTimeout(), req.sink());
            return captureMoment(noGdb, qmp, kernel, root, notes, steps);
        }
    }


    private static ObjectNode cpu(CpuRegisters h, Registers g, QmpClient qmp, GuestKernel kernel, String source,
            ArrayNode notes, StackScan.Reader reader) {
        ObjectNode c = Json.object();
        int index = h != null ? h.cpu() : g.thread().cpuIndex();
        c.put("cpu", index).put("source", source);
        ObjectNode regs = c.putObject("registers");
        long rip;
        long rsp;
        long rflags;
        if (g != null) {
            for (String r : Registers.X86_64_STATE) {
                if (g.has(r)) {
                    regs.put(r, Json.hex(g.get(r)));
                }
            }
            rip = g.get("rip");
            rsp = g.get("rsp");
            rflags = g.get("eflags");
        } else {
            regs.put("rip", Json.hex(h.rip())).put("rsp", Json.hex(h.rsp())).put("eflags", Json.hex(h.rflags()))
                    .put("cr3", Json.hex(h.cr3())).put("cr4", Json.hex(h.cr4())).put("gs_base", Json.hex(h.gsBase()));
            rip = h.rip();
            rsp = h.rsp();
            rflags = h.rflags();
        }
        if (h != null) {
            c.putObject("hmp").put("rip", Json.hex(h.rip())).put("rsp", Json.hex(h.rsp()))
                    .put("rflags", Json.hex(h.rflags())).put("hlt", h.halted()).put("cpl", h.cpl())
                    .put("long_mode", h.longMode());
        } else {
            c.putNull("hmp");
        }
        int cpl = h != null ? h.cpl() : (int) (g.has("cs") ? g.get("cs") & 3 : 0);
        c.put("if", (rflags & CpuRegisters.IF) != 0).put("hlt", h != null && h.halted()).put("cpl", cpl);
        c.put("rip_symbol", kernel != null && cpl == 0 ? kernel.symbolize(rip) : null);
        try {
            String text = qmp.hmp("info lapic " + index);
            LapicState l = LapicState.parse(text);
            c.putObject("lapic").put("lvtt", Json.hex(l.lvtt())).put("mode", l.timerMode()).put("masked", l.masked())
                    .put("vector", l.vector()).put("divide", l.divide()).put("initial_count", l.initialCount())
                    .put("current_count", l.currentCount()).put("armed", l.armed());
        } catch (TickwatchException e) {
            c.putNull("lapic");
            notes.add("CPU" + index + ": no LAPIC state (" + e.getMessage() + ")");
        }
        c.set("stack", stack(index, rsp, cpl, kernel, reader));
        return c;
    }

    private static ObjectNode stack(int cpu, long rsp, int cpl, GuestKernel kernel, StackScan.Reader reader) {
        StackScan.Stack st = StackScan.read(cpu, rsp, cpl, kernel, reader);
        ObjectNode s = Json.object();
        s.put("rsp", Json.hex(rsp));
        ArrayNode entries = s.putArray("entries");
        s.put("bytes", st.bytes());
        for (StackScan.Entry e : st.entries()) {
            entries.addObject().put("at", Json.hex(e.at())).put("address", Json.hex(e.address()))
                    .put("symbol", e.symbol()).put("reliable", false);
        }
        if (st.note() != null) {
            s.put("note", st.note());
        }
        return s;
    }

    private static void kernelState(GuestKernel kernel, ObjectNode root, ArrayNode notes, ObjectNode steps) {
        if (kernel == null) {
            root.putNull("timers");
            root.putNull("tasks");
            return;
        }
        long t0 = System.nanoTime();
        try {
            root.set("timers", dev.tickwatch.guest.GuestJson.timers(kernel.timers()));
        } catch (TickwatchException e) {
            root.putNull("timers");
            notes.add("timer view not readable: " + e.getMessage());
        }
        long t1 = System.nanoTime();
        steps.put("timers", round(ms(t0, t1)));
        try {
            root.set("tasks", dev.tickwatch.guest.GuestJson.tasks(kernel.tasks()));
        } catch (TickwatchException e) {
            root.putNull("tasks");
            notes.add("task list not readable: " + e.getMessage());
        }
        steps.put("tasks", round(ms(t1, System.nanoTime())));
    }

    // ---- verdict and environment ----

    static ObjectNode decisionJson(Decision d, List<Sample> samples) {
        ObjectNode o = Json.object();
        if (d == null) {
            o.putNull("verdict");
            o.putArray("evidence");
            return o;
        }
        o.put("verdict", d.verdict().name()).put("flavour", d.flavour())
                .put("confidence", Math.round(d.confidence() * 100) / 100.0);
        ArrayNode ev = o.putArray("evidence");
        d.evidence().forEach(ev::add);
        o.put("onset_ns", d.onsetNs()).put("decided_ns", d.decidedNs());
        // Wall times from the samples, since the host clock of the Decision means nothing in a file.
        o.put("onset_time", wallAt(samples, d.onsetNs())).put("decided_time", wallAt(samples, d.decidedNs()));
        return o;
    }

    private static String wallAt(List<Sample> samples, long hostNs) {
        for (Sample s : samples) {
            if (s.hostTimeNs() >= hostNs) {
                return Instant.ofEpochMilli(s.wallTimeMs() - (s.hostTimeNs() - hostNs) / 1_000_000).toString();
            }
        }
        return null;
    }

    private static ObjectNode environment(SnapshotRequest req, QmpClient qmp, GuestKernel kernel, ArrayNode notes) {
        ObjectNode e = Json.object();
        try {
            JsonNode v = qmp.execute("query-version");
            JsonNode q = v.path("qemu");
            e.put("qemu_version", q.path("major").asInt() + "." + q.path("minor").asInt() + "." + q.path("micro").asInt()
                    + (v.path("package").asText("").isBlank() ? "" : " (" + v.path("package").asText().strip() + ")"));
        } catch (TickwatchException ex) {
            e.putNull("qemu_version");
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
        ArrayNode c = e.putArray("qemu_command");
        if (cmd != null) {
            cmd.forEach(c::add);
        }
        e.put("qemu_command_source", cmdSource);
        String accel = req.environment().accel();
        if (accel == null) {
            try {
                accel = qmp.execute("query-kvm").path("enabled").asBoolean() ? "kvm" : "tcg";
            } catch (TickwatchException ex) {
                accel = null;
            }
        }
        e.put("accel", accel);
        e.put("lab_mode", req.environment().labMode());
        e.put("host_kernel", hostKernel());
        e.put("host_cpu", hostCpu());
        e.put("host_cpus", Runtime.getRuntime().availableProcessors());
        e.put("guest_kernel", kernel == null ? null : kernel.version());
        e.put("memory_backend", kernel == null ? null : kernel.memory().backend().label());
        ArrayNode passed = e.putArray("memory_backends_passed_over");
        if (kernel != null) {
            kernel.passedOver().forEach(passed::add);
        }
        return e;
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

    private static ObjectNode vmcore(SnapshotRequest req, QmpClient qmp, Bundle bundle, ArrayNode notes) {
        ObjectNode v = Json.object();
        v.put("format", req.vmcoreFormat()).put("file", "vmcore");
        boolean kdump = req.vmcoreFormat().equals("kdump-zlib");
        Path raw = bundle.pending(kdump ? ".vmcore.flattened" : "vmcore");
        boolean wasRunning = qmp.queryStatus().running();
        long t0 = System.nanoTime();
        try {
            qmp.dumpGuestMemory(raw, req.vmcoreFormat(), false).get(req.dumpTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            v.put("error", "dump-guest-memory did not finish in " + req.dumpTimeout().toSeconds() + " s");
        } catch (ExecutionException e) {
            v.put("error", "dump-guest-memory failed: " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            v.put("error", "interrupted during dump-guest-memory");
        } catch (TickwatchException e) {
            v.put("error", "dump-guest-memory refused: " + e.getMessage());
        } finally {
            // QEMU resumes a VM it stopped for the dump; make sure, and never resume one that was paused before.
            if (wasRunning && !qmp.queryStatus().running()) {
                qmp.cont();
                notes.add("the VM was still paused after dump-guest-memory: sent cont");
            }
        }
        v.put("dump_ms", round(ms(t0, System.nanoTime())));
        if (v.has("error")) {
            notes.add("no vmcore: " + v.get("error").asText());
            try {
                Files.deleteIfExists(raw);
            } catch (IOException e) {
                // The temp folder goes at commit or close anyway.
            }
            v.put("file", (String) null);
            return v;
        }
        try {
            long t1 = System.nanoTime();
            Path out = bundle.pending("vmcore");
            if (kdump) {
                if (FlattenedDump.isFlattened(raw)) {
                    FlattenedDump.rearrange(raw, out);
                    Files.delete(raw);
                    v.put("rearranged_from_flattened", true);
                } else {
                    Files.move(raw, out, StandardCopyOption.ATOMIC_MOVE);
                    v.put("rearranged_from_flattened", false);
                }
                v.put("rearrange_ms", round(ms(t1, System.nanoTime())));
                KdumpHeader h = KdumpHeader.read(out);
                v.putObject("kdump_header").put("signature", h.signature()).put("header_version", h.headerVersion())
                        .put("sysname", h.sysname()).put("release", h.release()).put("machine", h.machine())
                        .put("status", h.status()).put("block_size", h.blockSize())
                        .put("sub_header_blocks", h.subHeaderSize()).put("bitmap_blocks", h.bitmapBlocks())
                        .put("max_mapnr", h.maxMapnr()).put("nr_cpus", h.nrCpus())
                        .put("notes_valid", h.notesLookValid());
            } else {
                try (InputStream in = Files.newInputStream(out)) {
                    byte[] magic = in.readNBytes(4);
                    if (magic.length < 4 || magic[0] != 0x7f || magic[1] != 'E' || magic[2] != 'L' || magic[3] != 'F') {
                        throw new SnapshotException("the ELF vmcore does not start with \\x7fELF");
                    }
                }
            }
            bundle.restrict("vmcore");
            v.put("bytes", Files.size(out));
        } catch (IOException e) {
            throw new SnapshotException("snapshot not written: vmcore: " + Bundle.reason(e), e);
        }
        return v;
    }

    static double ms(long from, long to) {
        return (to - from) / 1e6;
    }

    static double round(double ms) {
        return Math.round(ms * 10) / 10.0;
    }
}
