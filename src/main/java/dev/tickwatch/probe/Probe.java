package dev.tickwatch.probe;

import dev.tickwatch.ConnectionException;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.boot.Console;
import dev.tickwatch.boot.Milestone;
import dev.tickwatch.guest.CpuTimers;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.guest.TimerView;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpCpu;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.qmp.hmp.LapicState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
    private final Console console;
    private final ProbeOptions options;
    private GuestKernel kernel;
    /** False when the caller handed us an attached kernel: it outlives this probe. */
    private final boolean ownsKernel;
    private String kernelProblem = "not attached yet";
    private long nextAttachNs;
    private long nextTasksNs;
    private long consoleBytes;
    private Milestone milestone;
    private boolean panic;
    private final StringBuilder consoleTail = new StringBuilder();
    private final Map<Integer, Long> threadIds = new HashMap<>();
    private final AutoCloseable statusEvents;
    private long qemuPid = -1;
    /** Set by QMP events that change the run state; query-status only runs when it is. */
    private volatile boolean statusDirty = true;
    /**
     * The guest is powering off. QEMU 7.2 can deadlock on exit when a monitor command is in
     * flight as it tears the monitor down (main thread in monitor_cleanup() holding the big lock,
     * vCPU threads waiting for it): seen about once in 20 watched boots. From the kernel's last
     * console line or QEMU's SHUTDOWN event on, the probe sends QEMU nothing more.
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

    /** One sample. Throws {@link ConnectionException} when QEMU is gone. */
    public Sample sample() {
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
        List<VcpuSample> cpus = readCpus(sources);
        KernelSample k = readKernel(t, cpus, sources);
        if (k == null && options.readKernel() && kernelProblem != null) {
            sources.add("kernel: not readable: " + kernelProblem);
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
                qemuPid > 0 ? schedstat(qemuPid)[1] : -1);
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
            panic |= consoleTail.indexOf("Kernel panic") >= 0;
            // The kernel's last words before the ACPI power-off or reset write (kernel/reboot.c).
            goingDown |= consoleTail.indexOf("reboot: Power down") >= 0 || consoleTail.indexOf("reboot: Restarting system") >= 0;
            if (consoleTail.length() > 256) {
                consoleTail.delete(0, consoleTail.length() - 256);
            }
        }
        return consoleBytes;
    }

    private List<VcpuSample> readCpus(List<String> sources) {
        if (threadIds.isEmpty()) {
            for (QmpCpu c : qmp.queryCpusFast()) {
                threadIds.put(c.cpuIndex(), c.threadId());
            }
            // QEMU's main thread has the process id; only trust it when it is QEMU on this host.
            long tid = threadIds.values().stream().findFirst().orElse(-1L);
            long pid = tid > 0 ? dev.tickwatch.guest.mem.ProcMemory.processOfThread(tid) : -1;
            qemuPid = pid > 0 && isQemu(pid) ? pid : -1;
        }
        List<CpuRegisters> regs = CpuRegisters.parseAll(qmp.hmp("info registers -a"));
        sources.add("registers: hmp info registers -a");
        List<VcpuSample> out = new ArrayList<>();
        boolean lapicRead = false;
        // The LAPIC timer only matters when every vCPU sleeps (is anything armed to wake them?):
        // skip the per-CPU monitor round trips while any of them works.
        boolean allIdle = regs.stream().allMatch(CpuRegisters::halted);
        for (CpuRegisters r : regs) {
            LapicState lapic = null;
            if (allIdle) {
                try {
                    lapic = LapicState.parse(qmp.hmp("info lapic " + r.cpu()));
                    lapicRead = true;
                } catch (dev.tickwatch.ProtocolException e) {
                    // No APIC state yet (firmware): null says so.
                }
            }
            long tid = threadIds.getOrDefault(r.cpu(), -1L);
            long[] sched = schedstat(tid);
            out.add(new VcpuSample(r.cpu(), tid, sched[0], sched[1], r.rip(), null, r.interruptsEnabled(), r.halted(),
                    r.cpl(), r.longMode(), lapic));
        }
        if (lapicRead) {
            sources.add("lapic: hmp info lapic N");
        }
        if (!out.isEmpty() && out.get(0).threadCpuNs() >= 0) {
            sources.add("vcpu cpu time: /proc/TID/schedstat");
        }
        return out;
    }

    /**
     * /proc/TID/schedstat: ns the thread ran on a CPU, and ns it waited runnable on a run queue;
     * {-1, -1} when the thread is not on this host.
     */
    static long[] schedstat(long tid) {
        if (tid <= 0) {
            return new long[] {-1, -1};
        }
        try {
            String[] f = Files.readString(Path.of("/proc", Long.toString(tid), "schedstat")).strip().split("\\s+");
            return new long[] {Long.parseLong(f[0]), f.length > 1 ? Long.parseLong(f[1]) : -1};
        } catch (IOException | NumberFormatException e) {
            return new long[] {-1, -1};
        }
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
                kernel = GuestKernel.attach(qmp);
                kernelProblem = null;
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
            if (now >= nextTasksNs) {
                nextTasksNs = now + options.taskPeriod().toNanos();
                blocked = new ArrayList<>();
                for (TaskInfo task : kernel.tasks()) {
                    if (task.uninterruptible()) {
                        blocked.add(new KernelSample.BlockedTask(task.pid(), task.comm(),
                                task.blockedForNs() == null ? -1 : task.blockedForNs() / 1e9));
                    }
                }
                sources.add("tasks: task list from guest memory (" + kernel.memory().backend().label() + ")");
            }
            sources.add("kernel: jiffies, per-CPU timers from guest memory (" + kernel.memory().backend().label() + ")");
            kernelProblem = null;
            return new KernelSample(t.jiffies(), t.lastJiffiesUpdateNs(), t.tickDoTimerCpu(), t.hz(), List.copyOf(kc),
                    blocked == null ? null : List.copyOf(blocked));
        } catch (TickwatchException e) {
            // Early boot: per-CPU areas not set up yet, or a list mid-update. Try again next sample.
            kernelProblem = e.getMessage();
            return null;
        }
    }

    @Override
    public void close() {
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
