package dev.tickwatch.probe;

import dev.tickwatch.ConnectionException;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.CpuTimers;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.GuestLayoutException;
import dev.tickwatch.guest.log.KernelLog;
import dev.tickwatch.guest.log.KernelReports;
import dev.tickwatch.guest.log.LogJson;
import dev.tickwatch.guest.log.LogRead;
import dev.tickwatch.guest.log.PrintkRing;
import dev.tickwatch.guest.KernelMismatchException;
import dev.tickwatch.guest.StructView;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfComposite;
import dev.tickwatch.guest.btf.BtfKind;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.guest.TimerView;
import dev.tickwatch.guest.locks.LockGraph;
import dev.tickwatch.guest.locks.LockReader;
import dev.tickwatch.guest.locks.LockWait;
import dev.tickwatch.guest.locks.TaskWait;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpCpu;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.qmp.hmp.Hmp;
import dev.tickwatch.qmp.hmp.LapicState;
import dev.tickwatch.util.Futures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/**
 * Takes {@link Sample}s of one guest, cheapest sources first (ARCHITECTURE.md, "Sources of
 * evidence"): QMP status, console growth and the vCPU threads' CPU time (free); registers and
 * LAPIC through HMP (no pause); then kernel state from guest memory once the kernel image can be
 * found in it (kallsyms, BTF), retried while the guest is still in firmware or early boot. Never
 * pauses the guest. Not thread-safe: one sampler thread.
 */
public final class Probe implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Probe.class.getName());

    private final QmpClient qmp;
    private final Hmp hmp;
    private final Console console;
    private final ProbeOptions options;
    private GuestKernel kernel;
    /** False when the caller handed us an attached kernel: it outlives this probe. */
    private final boolean ownsKernel;
    private String kernelProblem = "not attached yet";
    private KernelMismatchException mismatch;
    private long nextAttachNs;
    private long nextTasksNs;
    /** The last lock reading showed a cycle the one before did not: read again at once. */
    private boolean confirmCycles;
    /** The kernel log, found once attached; null until then or while it cannot be read. */
    private PrintkRing log;
    private long logNextSeq = -1;
    private String logProblem;
    private List<KernelSample.LockCycle> lastCycles = List.of();
    private long consoleBytes;
    private long lastJiffies = Long.MIN_VALUE;
    private Milestone milestone;
    private boolean panic;
    private final StringBuilder consoleTail = new StringBuilder();
    private final Map<Integer, Long> threadIds = new HashMap<>();
    private final SchedStats schedStats = new SchedStats();
    /** Every vCPU was halted at the last sample, and which vCPUs there were: see readCpus. */
    private boolean lastAllIdle;
    private int[] lastCpus = new int[0];
    private final AutoCloseable statusEvents;
    private long qemuPid = -1;
    /** Set by QMP events that change the run state; query-status only runs when it is. */
    private volatile boolean statusDirty = true;
    /**
     * The guest is powering off. QEMU 7.2 can deadlock on exit when a monitor command is in
     * flight as it tears the monitor down (main thread in monitor_cleanup() holding the big lock,
     * vCPU threads waiting for it): seen about once in 20 watched boots. From the kernel's last
     * console line, the caller's {@link ProbeOptions#lastWords()} or QEMU's SHUTDOWN event on, the
     * probe sends QEMU nothing more. The console is read right before each sample's commands go
     * out, so only a command already in flight when those words appear can still meet the exit.
     */
    private volatile boolean goingDown;
    private String status;

    /**
     * @param console the guest's console, or null when there is none to read
     */
    public Probe(QmpClient qmp, Console console, ProbeOptions options) {
        this(qmp, console, options, null);
    }

    /**
     * A probe that reads kernel state through {@code kernel}, already attached by the caller, who
     * keeps it (closing the probe leaves it open): a shell samples many times without re-attaching.
     * With null it attaches by itself.
     */
    public Probe(QmpClient qmp, Console console, ProbeOptions options, GuestKernel kernel) {
        this.kernel = kernel;
        this.ownsKernel = kernel == null;
        if (kernel != null) {
            this.kernelProblem = null;
        }
        this.qmp = qmp;
        this.hmp = new Hmp(qmp);
        this.console = console;
        this.options = options;
        // HMP and QMP commands take QEMU's big lock, which a TCG vCPU needs for every I/O access:
        // polling query-status 4 times a second would slow the boot it watches. Events say when to ask.
        this.statusEvents = qmp.addEventListener(e -> {
            if (e.name().equals("SHUTDOWN")) {
                goingDown = true;
            }
            switch (e.name()) {
                case "STOP", "RESUME", "SHUTDOWN", "RESET", "GUEST_PANICKED", "SUSPEND", "WAKEUP", "POWERDOWN" ->
                        statusDirty = true;
                default -> {
                }
            }
        });
    }

    /** The guest kernel view, once attached; null before. */
    public GuestKernel kernel() {
        return kernel;
    }

    /** Why there are no kernel readings yet (or last time). */
    public String kernelProblem() {
        return kernelProblem;
    }

    /**
     * The monitor commands a sample starts with, sent and not waited for: see {@link #prefetch()}.
     * Their replies land in the futures; {@link #sample(Prefetch)} reads them.
     */
    public static final class Prefetch {
        private final CompletableFuture<String> registers;
        private final List<CompletableFuture<String>> lapics;
        private final int[] lapicCpus;

        private Prefetch(CompletableFuture<String> registers, List<CompletableFuture<String>> lapics, int[] lapicCpus) {
            this.registers = registers;
            this.lapics = lapics;
            this.lapicCpus = lapicCpus;
        }

        /**
         * Runs {@code r} once every reply is in, as a value or a failure (a sample would not wait
         * for QEMU): on the thread that completes the last of them (the event loop), or on this
         * one when they are all in already. {@code r} must be quick.
         */
        public void whenIn(Runnable r) {
            java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(lapics.size() + 1);
            java.util.function.BiConsumer<Object, Throwable> one = (v, e) -> {
                if (left.decrementAndGet() == 0) {
                    r.run();
                }
            };
            registers.whenComplete(one);
            for (int i = 0; i < lapics.size(); i++) {
                lapics.get(i).whenComplete(one);
            }
        }
    }

    /**
     * Sends the commands of the next sample without waiting for them: {@code info registers -a},
     * and the LAPIC reads when every vCPU slept at the last sample (see {@link #readCpus}). A
     * caller sampling many guests sends all their commands first and then finishes each with
     * {@link #sample(Prefetch)}: one wake-up for the batch instead of one per guest. Null when
     * nothing may be sent now (the guest is powering off, QEMU is gone).
     */
    public Prefetch prefetch() {
        // The console first: its power-off line must stop this sample's commands, not the next
        // one's (QEMU 7.2 can deadlock on exit with a monitor command in flight).
        readConsole();
        if (mismatch != null || goingDown || !qmp.isOpen()) {
            return null;
        }
        CompletableFuture<String> regs = hmp.registersTextAsync();
        List<CompletableFuture<String>> lapics = new ArrayList<>();
        int[] cpus = lastAllIdle ? lastCpus : new int[0];
        for (int cpu : cpus) {
            lapics.add(hmp.lapicTextAsync(cpu));
        }
        return new Prefetch(regs, lapics, cpus);
    }

    /** One sample. Throws {@link ConnectionException} when QEMU is gone. */
    public Sample sample() {
        return sample(null);
    }

    /**
     * One sample that reads the replies of {@code prefetched} (from {@link #prefetch()} on this
     * probe, or null to send everything now). The sample is the same either way.
     */
    public Sample sample(Prefetch prefetched) {
        if (mismatch != null) {
            throw mismatch;
        }
        long t = System.nanoTime();
        long wall = System.currentTimeMillis();
        List<String> sources = new ArrayList<>();
        long early = readConsole();
        if (goingDown || !qmp.isOpen()) {
            return new Sample(t, wall, qmp.isOpen() ? "shutdown" : "exited", early, label(milestone), panic, List.of(),
                    null, List.of("status: the guest is powering off; QEMU is left alone to exit"), -1);
        }
        try {
            if (statusDirty || status == null) {
                statusDirty = false;
                status = qmp.queryStatus().status();
                sources.add("status: qmp query-status");
            } else {
                sources.add("status: unchanged since the last QMP run-state event");
            }
        } catch (ConnectionException e) {
            return new Sample(t, wall, "exited", readConsole(), label(milestone), panic, List.of(), null,
                    List.of("status: QMP connection closed"), -1);
        }
        long bytes = early;
        if (console != null) {
            sources.add("console: " + console.file());
        }
        List<VcpuSample> cpus = readCpus(sources, prefetched != null ? prefetched : prefetch());
        KernelSample k = readKernel(t, cpus, sources);
        if (k == null && options.readKernel() && kernelProblem != null) {
            // Attached, a reading names itself ("jiffies: not readable (...)"); else the attach failed.
            sources.add(kernel != null ? kernelProblem : "kernel: not readable: " + kernelProblem);
        }
        if (kernel != null) {
            List<VcpuSample> named = new ArrayList<>(cpus.size());
            for (VcpuSample c : cpus) {
                named.add(c.inKernelImage() ? new VcpuSample(c.cpu(), c.threadId(), c.threadCpuNs(), c.threadWaitNs(), c.rip(),
                        kernel.symbolize(c.rip()), c.interruptsEnabled(), c.halted(), c.cpl(), c.longMode(), c.lapic()) : c);
            }
            cpus = named;
        }
        return new Sample(t, wall, status, bytes, label(milestone), panic, List.copyOf(cpus), k, List.copyOf(sources),
                qemuPid > 0 ? schedStats.read(qemuPid)[1] : -1);
    }

    private static String label(Milestone m) {
        return m == null ? null : m.name().toLowerCase(Locale.ROOT);
    }

    private long readConsole() {
        if (console == null) {
            return -1;
        }
        String fresh = console.poll();
        if (!fresh.isEmpty()) {
            consoleBytes += fresh.length();
            // Keep a short tail so a marker split across two polls is still found.
            consoleTail.append(fresh);
            Milestone m = Milestone.last(consoleTail);
            if (m != null && (milestone == null || m.ordinal() > milestone.ordinal())) {
                milestone = m;
            }
            panic |= consoleTail.indexOf(ConsoleMarkers.KERNEL_PANIC) >= 0;
            goingDown |= ConsoleMarkers.goingDown(consoleTail)
                    || options.lastWords() != null && options.lastWords().matcher(consoleTail).find();
            if (consoleTail.length() > 256) {
                consoleTail.delete(0, consoleTail.length() - 256);
            }
        }
        return consoleBytes;
    }

    private List<VcpuSample> readCpus(List<String> sources, Prefetch sent) {
        if (threadIds.isEmpty()) {
            for (QmpCpu c : qmp.queryCpusFast()) {
                threadIds.put(c.cpuIndex(), c.threadId());
            }
            // QEMU's main thread has the process id; only trust it when it is QEMU on this host.
            long tid = threadIds.values().stream().findFirst().orElse(-1L);
            long pid = tid > 0 ? dev.tickwatch.guest.mem.ProcMemory.processOfThread(tid) : -1;
            qemuPid = pid > 0 && isQemu(pid) ? pid : -1;
        }
        // The LAPIC timer only matters when every vCPU sleeps (is anything armed to wake them?):
        // no per-CPU monitor round trips while any of them works. A guest that slept at the last
        // sample most likely still does (a hang stays a hang): its LAPIC commands go out right
        // behind the registers', one burst and one wait instead of a round trip each, and are
        // dropped unread if a vCPU woke after all. The sample is the same either way.
        if (sent == null) {
            // The guest began powering off since this sample started: its commands go as before.
            sent = new Prefetch(hmp.registersTextAsync(), List.of(), new int[0]);
        }
        List<CompletableFuture<String>> early = sent.lapics;
        List<CpuRegisters> regs = CpuRegisters.parseAll(Futures.await(sent.registers));
        sources.add("registers: hmp " + Hmp.INFO_REGISTERS);
        List<VcpuSample> out = new ArrayList<>();
        boolean lapicRead = false;
        boolean allIdle = !regs.isEmpty() && regs.stream().allMatch(CpuRegisters::halted);
        int[] cpuIds = regs.stream().mapToInt(CpuRegisters::cpu).toArray();
        boolean useEarly = allIdle && java.util.Arrays.equals(cpuIds, sent.lapicCpus);
        lastAllIdle = allIdle;
        lastCpus = cpuIds;
        for (int i = 0; i < regs.size(); i++) {
            CpuRegisters r = regs.get(i);
            LapicTimer lapic = null;
            if (allIdle) {
                try {
                    lapic = LapicTimer.of(LapicState.parse(useEarly ? Futures.await(early.get(i)) : hmp.lapicText(r.cpu())));
                    lapicRead = true;
                } catch (dev.tickwatch.ProtocolException e) {
                    // No APIC state yet (firmware): null says so.
                }
            }
            long tid = threadIds.getOrDefault(r.cpu(), -1L);
            long[] sched = schedStats.read(tid);
            out.add(new VcpuSample(r.cpu(), tid, sched[0], sched[1], r.rip(), null, r.interruptsEnabled(), r.halted(),
                    r.cpl(), r.longMode(), lapic));
        }
        if (lapicRead) {
            sources.add("lapic: hmp " + Hmp.INFO_LAPIC + " N");
        }
        if (!out.isEmpty() && out.get(0).threadCpuNs() >= 0) {
            sources.add("vcpu cpu time: /proc/TID/schedstat");
        }
        return out;
    }

    private static boolean isQemu(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).contains("qemu");
        } catch (IOException e) {
            return false;
        }
    }

    private KernelSample readKernel(long now, List<VcpuSample> cpus, List<String> sources) {
        if (!options.readKernel()) {
            return null;
        }
        if (kernel == null) {
            if (now < nextAttachNs || cpus.stream().noneMatch(VcpuSample::inKernelImage)) {
                return null;
            }
            nextAttachNs = now + options.attachPeriod().toNanos();
            try {
                kernel = GuestKernel.attach(qmp, null, options.kernelFiles());
                kernelProblem = null;
            } catch (KernelMismatchException e) {
                // The developer's vmlinux is of another build: reading with it would mislead. Stop.
                mismatch = e;
                throw e;
            } catch (TickwatchException e) {
                kernelProblem = e.getMessage();
                LOG.log(System.Logger.Level.DEBUG, "kernel not readable yet: {0}", e.getMessage());
                return null;
            }
        }
        try {
            TimerView t = kernel.timers();
            List<KernelSample.Cpu> kc = new ArrayList<>();
            for (CpuTimers c : t.cpus()) {
                kc.add(new KernelSample.Cpu(c.cpu(), c.localTimerInterrupts(), c.expiresNextNs(), c.hrtimerEvents(),
                        c.tickStopped(), c.current() == null ? null : c.current().comm(),
                        c.current() == null ? -1 : c.current().pid()));
            }
            List<KernelSample.BlockedTask> blocked = null;
            List<KernelSample.LockCycle> cycles = null;
            // A cycle seen once is read again at the next sample, not a task period later: two
            // readings that agree are what SLEEP_DEADLOCK waits for.
            List<LogJson.Report> reports = List.of();
            if (now >= nextTasksNs || confirmCycles) {
                nextTasksNs = now + options.taskPeriod().toNanos();
                reports = newReports(sources);
                List<TaskInfo> tasks = taskList(sources);
                if (tasks != null) {
                    blocked = blockedTasks(tasks);
                    cycles = lockCycles(tasks, sources);
                }
                confirmCycles = cycles != null && !cycles.isEmpty() && !cycles.equals(lastCycles);
                if (cycles != null) {
                    lastCycles = cycles;
                }
            }
            if (kc.isEmpty()) {
                // No types (a vmlinux without BTF or DWARF): jiffies and the global tick still count.
                t.unavailable().forEach(u -> sources.add("kernel: not readable: " + u));
                sources.add("kernel: jiffies from guest memory (" + kernel.memory().backend().label() + ")");
            } else {
                sources.add("kernel: jiffies, per-CPU timers from guest memory (" + kernel.memory().backend().label() + ")");
            }
            kernelProblem = null;
            // Jiffies that stood still since the last sample may be a stall: only then is the
            // guest's frozen wall clock worth a read (it dates the onset; see KernelSample).
            Long wallClock = t.jiffies() == lastJiffies ? frozenWallClockNs(sources) : null;
            lastJiffies = t.jiffies();
            return new KernelSample(t.jiffies(), t.lastJiffiesUpdateNs(), t.tickDoTimerCpu(), t.hz(), List.copyOf(kc),
                    blocked == null ? null : List.copyOf(blocked), wallClock, cycles, reports);
        } catch (TickwatchException e) {
            // Early boot: per-CPU areas not set up yet, or a list mid-update. Try again next sample.
            kernelProblem = e.getMessage();
            return null;
        }
    }

    /**
     * The kernel's own detectors' reports that reached its log since the last read (read with the
     * task list: a quiet log costs a header and one descriptor read). The first read starts at the
     * log's beginning: a soft lockup reported before the watch started is evidence too.
     */
    private List<LogJson.Report> newReports(List<String> sources) {
        try {
            if (log == null) {
                log = KernelLog.of(kernel);
                logProblem = null;
            }
            LogRead read = logNextSeq < 0 ? log.read() : log.read(logNextSeq);
            logNextSeq = read.nextSeq();
            sources.add("kernel log: printk ringbuffer from guest memory");
            return KernelReports.in(read.records()).stream().map(LogJson.Report::of).toList();
        } catch (TickwatchException e) {
            // Not set up yet in early boot, or no data symbols: the other readings still count.
            log = null;
            logProblem = e.getMessage();
            sources.add("kernel log: not readable (" + e.getMessage() + ")");
            return List.of();
        }
    }

    /** The task list, or null (named in {@code sources}) when it cannot be read: the timers still count. */
    private List<TaskInfo> taskList(List<String> sources) {
        try {
            List<TaskInfo> tasks = kernel.tasks();
            sources.add("tasks: task list from guest memory (" + kernel.memory().backend().label() + ")");
            return tasks;
        } catch (GuestLayoutException e) {
            sources.add("tasks: not readable (" + e.getMessage() + ")");
            return null;
        }
    }

    /** D-state tasks. */
    private static List<KernelSample.BlockedTask> blockedTasks(List<TaskInfo> tasks) {
        List<KernelSample.BlockedTask> blocked = new ArrayList<>();
        for (TaskInfo task : tasks) {
            if (task.uninterruptible()) {
                blocked.add(new KernelSample.BlockedTask(task.pid(), task.comm(),
                        task.blockedForNs() == null ? -1 : task.blockedForNs() / 1e9));
            }
        }
        return blocked;
    }

    /**
     * The cycles of the wait-for graph ({@link LockReader}): empty without a blocked task (no graph
     * is read then, so a healthy guest costs nothing more), null when the graph cannot be read.
     */
    private List<KernelSample.LockCycle> lockCycles(List<TaskInfo> tasks, List<String> sources) {
        if (!LockReader.worthReading(tasks)) {
            return List.of();
        }
        try {
            LockGraph g = LockReader.of(kernel).read(tasks);
            sources.add("locks: wait-for graph of " + g.tasks().size() + " blocked tasks from guest memory");
            List<KernelSample.LockCycle> out = new ArrayList<>();
            for (LockGraph.Cycle c : g.cycles()) {
                List<KernelSample.LockEdge> edges = new ArrayList<>();
                for (TaskWait m : c.members()) {
                    LockWait w = m.waitsOn();
                    edges.add(new KernelSample.LockEdge(m.pid(), m.comm(), w.kind().label(), w.address(), w.name(),
                            w.ownerPid(), w.ownerComm()));
                }
                out.add(new KernelSample.LockCycle(List.copyOf(edges)));
            }
            return List.copyOf(out);
        } catch (TickwatchException e) {
            sources.add("locks: not readable (" + e.getMessage() + ")");
            return null;
        }
    }

    /**
     * {@code tk_core.timekeeper}'s wall clock (xtime_sec s + (tkr_mono.xtime_nsec >> tkr_mono.shift)
     * ns), as of the kernel's last timekeeping update; null without BTF or the tk_core symbol (a
     * kernel without KALLSYMS_ALL). tk_core is an anonymous struct: the timekeeper's place in it
     * comes from BTF's variable record, or sits after the seqcount, 8-byte aligned.
     */
    private Long frozenWallClockNs(List<String> sources) {
        try {
            Optional<Long> at = kernel.symbols().addressOf("tk_core");
            if (at.isEmpty() || !kernel.hasBtf()) {
                return null;
            }
            Btf btf = kernel.btf();
            long offset = -1;
            OptionalInt var = btf.typeId(BtfKind.VAR, "tk_core");
            if (var.isPresent()) {
                BtfComposite anon = btf.composite(btf.resolve(btf.type(var.getAsInt()).sizeOrType()).id());
                offset = anon.members().stream().filter(m -> m.name().equals("timekeeper")).findFirst()
                        .map(m -> m.bitOffset() / 8).orElse(-1L);
            }
            if (offset < 0) {
                offset = (btf.struct("seqcount_raw_spinlock").size() + 7) / 8 * 8;
            }
            StructView tk = kernel.structSpan("timekeeper", at.get() + offset,
                    List.of("xtime_sec", "tkr_mono.xtime_nsec", "tkr_mono.shift"));
            long sec = tk.get("xtime_sec");
            long shift = tk.get("tkr_mono.shift");
            long nsec = shift >= 0 && shift < 64 ? tk.get("tkr_mono.xtime_nsec") >>> shift : 0;
            sources.add("wall clock: tk_core.timekeeper.xtime_sec from guest memory (jiffies stood still)");
            return sec * 1_000_000_000L + Math.min(nsec, 999_999_999L);
        } catch (TickwatchException | IllegalArgumentException | IllegalStateException e) {
            LOG.log(System.Logger.Level.DEBUG, "guest wall clock not readable: {0}", e.getMessage());
            return null;
        }
    }

    @Override
    public void close() {
        schedStats.close();
        try {
            statusEvents.close();
        } catch (Exception e) {
            // Only a listener list entry.
        }
        if (kernel != null && ownsKernel) {
            kernel.close();
        }
    }
}
