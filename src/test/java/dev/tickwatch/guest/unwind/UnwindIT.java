package dev.tickwatch.guest.unwind;

import static org.awaitility.Awaitility.await;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.gdb.GdbClient;
import dev.tickwatch.gdb.GdbOptions;
import dev.tickwatch.gdb.GdbPause;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.lab.Lab;
import dev.tickwatch.lab.LabCheck;
import dev.tickwatch.lab.LabMode;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.testing.Kernels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * tickwatch's ORC unwind against the kernel's own call traces on real guests: each lab hang is
 * unwound from outside (registers inside one gdbstub pause, blocked tasks from their
 * inactive_task_frame), then the kernel is made to print its traces on the console (sysrq-w for
 * blocked tasks, sysrq-l for CPUs; for a spin deadlock with every CPU's IRQs off, an injected NMI
 * with {@code unknown_nmi_panic}, so the panicking CPU prints its own). For every task and CPU the
 * kernel printed, the functions tickwatch unwound must be the kernel's reliable ones (its {@code ?}
 * entries ignored), in the same order: no frame the kernel did not print. The time to unwind every
 * CPU and every blocked task is printed for the README.
 */
class UnwindIT {

    @TempDir
    Path work;

    static Stream<Arguments> cases() {
        List<String> m = Kernels.matrix();
        String cloud = Kernels.find("6.1.0", "-cloud-");
        String generic = m.stream().filter(k -> k.startsWith("6.1.0") && !k.contains("-cloud-") && !Kernels.isRt(k))
                .findFirst().orElse(cloud);
        String lts = m.stream().filter(k -> k.startsWith("6.12") && !Kernels.isRt(k)).findFirst().orElse(cloud);
        List<Arguments> out = new ArrayList<>();
        for (String k : List.of(cloud, generic, lts)) {
            for (LabMode mode : List.of(LabMode.SLEEP_DEADLOCK, LabMode.SPIN_ONE, LabMode.SPIN_DEADLOCK,
                    LabMode.TIMER_STALL_LOST)) {
                out.add(Arguments.of(k, mode));
            }
        }
        return out.stream();
    }

    /**
     * One kernel "Call Trace:" block: whose it is and its reliable functions, per stack section;
     * {@code taskAny} and {@code allAny} keep the kernel's {@code ?} entries too (the frames it
     * printed but could not vouch for).
     */
    record KernelTrace(String who, int cpu, int pid, List<String> task, List<String> all, String idleAt,
            List<String> taskAny, List<String> allAny) {
        KernelTrace(String who, int cpu, int pid, List<String> task, List<String> all, String idleAt) {
            this(who, cpu, pid, task, all, idleAt, task, all);
        }
    }

    private static final Pattern TIME = Pattern.compile("^\\[\\s*\\d+\\.\\d+\\] ");
    private static final Pattern TASK_HEADER = Pattern.compile("task:(\\S+)\\s+state:(\\S)\\s.*?\\spid:(\\d+)");
    private static final Pattern CPU_HEADER = Pattern.compile("^CPU: (\\d+) (?:UID: \\d+ )?PID: (\\d+)");
    private static final Pattern SKIPPED = Pattern.compile("NMI backtrace for cpu (\\d+) skipped: idling at (\\S+)");
    private static final Pattern FRAME = Pattern.compile("^ (\\? )?([A-Za-z0-9_.$]+)\\+0x[0-9a-f]+/0x[0-9a-f]+");
    private static final Pattern MARKER = Pattern.compile("^ <(/?)([A-Z#0-9_]+)>$");
    private static final Pattern REGISTER_LINE = Pattern.compile("^(RIP|Code|RSP|RAX|RDX|RBP|R10|R13|FS|CS|CR2|DR0|DR3|PKRU):");

    static List<String> lines(String console) {
        List<String> out = new ArrayList<>();
        for (String l : console.replace("\r", "").split("\n")) {
            out.add(TIME.matcher(l).replaceFirst(""));
        }
        return out;
    }

    /** Every Call Trace block in {@code lines}, with the header line before it that names its task or CPU. */
    static List<KernelTrace> kernelTraces(List<String> lines) {
        List<KernelTrace> out = new ArrayList<>();
        String who = null;
        int cpu = -1;
        int pid = -1;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            Matcher t = TASK_HEADER.matcher(l);
            Matcher c = CPU_HEADER.matcher(l);
            Matcher s = SKIPPED.matcher(l);
            if (s.find()) {
                out.add(new KernelTrace("cpu " + s.group(1), Integer.parseInt(s.group(1)), -1, List.of(), List.of(),
                        s.group(2).replaceFirst("\\+.*", "")));
                continue;
            }
            if (t.find()) {
                who = "task " + t.group(1);
                pid = Integer.parseInt(t.group(3));
                cpu = -1;
            } else if (c.find()) {
                who = "cpu " + c.group(1);
                cpu = Integer.parseInt(c.group(1));
                pid = Integer.parseInt(c.group(2));
            }
            if (!l.equals("Call Trace:") || who == null) {
                continue;
            }
            List<String> all = new ArrayList<>();
            List<String> task = new ArrayList<>();
            List<String> allAny = new ArrayList<>();
            List<String> taskAny = new ArrayList<>();
            String section = "TASK";
            int j = i + 1;
            for (; j < lines.size(); j++) {
                String f = lines.get(j);
                Matcher mk = MARKER.matcher(f);
                Matcher fr = FRAME.matcher(f);
                if (mk.find()) {
                    section = mk.group(1).isEmpty() ? mk.group(2) : "TASK";
                    if (mk.group(1).isEmpty() && mk.group(2).equals("TASK")) {
                        task.clear(); // the last TASK section is the interrupted task's
                        taskAny.clear();
                    }
                } else if (fr.find()) {
                    allAny.add(fr.group(2));
                    if (section.equals("TASK")) {
                        taskAny.add(fr.group(2));
                    }
                    if (fr.group(1) == null) {
                        all.add(fr.group(2));
                        if (section.equals("TASK")) {
                            task.add(fr.group(2));
                        }
                    }
                } else if (f.startsWith("RIP: 0010:") && section.equals("TASK")) {
                    // An interrupted RIP (show_regs inside the trace): the frames that count are its callers,
                    // as tickwatch's list starts after its regs frame.
                    task.clear();
                    taskAny.clear();
                } else if (!REGISTER_LINE.matcher(f).find()) {
                    break;
                }
            }
            out.add(new KernelTrace(who, cpu, pid, List.copyOf(task), List.copyOf(all), null, List.copyOf(taskAny),
                    List.copyOf(allAny)));
            i = j - 1;
            who = null;
        }
        return out;
    }

    private static List<String> functions(Trace t, boolean taskStackOnly) {
        List<String> out = new ArrayList<>();
        for (Frame f : t.frames()) {
            if (f.kind() == Frame.Kind.REGS) {
                // The interrupted RIP: the kernel prints it as a RIP: line, not as a frame; what follows is its
                // caller. A user-mode RIP (no kernel symbol) ends a syscall's trace and clears nothing.
                if (f.symbol() != null) {
                    out.clear();
                }
                continue;
            }
            if (f.symbol() != null && (!taskStackOnly || f.stack() == StackType.TASK)) {
                out.add(f.symbol());
            }
        }
        return out;
    }

    /** Frames tickwatch has that the kernel's list does not, matching in order. */
    /**
     * How many of tickwatch's frames come after the one matching the kernel's outermost frame:
     * where the kernel's own unwinder gave up and tickwatch went on (6.1 stops at a module's init
     * function; 6.12 prints the same callers tickwatch finds).
     */
    static int beyond(List<String> ours, List<String> kernel) {
        if (kernel.isEmpty()) {
            return 0;
        }
        int k = 0;
        int lastMatch = -1;
        for (int i = 0; i < ours.size() && k < kernel.size(); i++) {
            int at = kernel.subList(k, kernel.size()).indexOf(ours.get(i));
            if (at >= 0) {
                k += at + 1;
                lastMatch = i;
            }
        }
        return k == kernel.size() ? ours.size() - 1 - lastMatch : 0;
    }

    static int extra(List<String> ours, List<String> kernel) {
        int k = 0;
        int extra = 0;
        for (String f : ours) {
            int at = kernel.subList(k, kernel.size()).indexOf(f);
            if (at < 0) {
                extra++;
            } else {
                k += at + 1;
            }
        }
        return extra;
    }

    @ParameterizedTest(name = "{1} on {0}")
    @MethodSource("cases")
    void theUnwindPrintsTheKernelsOwnFrames(String kernelName, LabMode mode) throws Exception {
        QemuConfig base = Lab.config(mode, work, true, List.of(), Kernels.kernel(kernelName)).gdbstub(true).build();
        String append = base.append() + " loglevel=8 ignore_loglevel sysrq_always_enabled"
                + (mode == LabMode.SPIN_DEADLOCK ? " unknown_nmi_panic" : "");
        try (QemuVm vm = QemuVm.start(base.toBuilder().append(append).build())) {
            assertTrue(vm.console().await(t -> t.contains(Lab.INSMOD_MARKER), Duration.ofSeconds(120)), "lab module loaded");
            // The hang settled (the kthreads hold their locks, the timer is lost), confirmed from outside.
            LabCheck.Result settled = LabCheck.await(vm, mode, Duration.ofSeconds(90));
            assertTrue(settled.reached(), "the lab state: " + settled.evidence());

            long t0 = System.nanoTime();
            Map<Integer, Trace> cpus = new LinkedHashMap<>();
            Map<Integer, Trace> tasks = new LinkedHashMap<>();
            try (GuestKernel k = GuestKernel.attach(vm.qmp())) {
                Unwinder u = Unwinder.of(UnwindTarget.of(k));
                assertEquals("orc", u.method(), "Debian kernels have ORC: " + u.limitations());
                long tu = System.nanoTime();
                try (GdbClient g = GdbClient.connect(vm.gdbEndpoint(),
                        GdbOptions.builder().fallbackResume(vm.qmp()::contAsync).build());
                        GdbPause p = g.pause()) {
                    for (dev.tickwatch.gdb.Registers r : g.registersOfAll()) {
                        Trace t = u.cpu(Unwinder.Registers.ofGdb(r));
                        cpus.put(t.cpu(), t);
                    }
                    for (TaskInfo ti : k.tasks()) {
                        if (ti.uninterruptible()) {
                            tasks.put(ti.pid(), u.task(ti.address(), ti.pid(), ti.comm(), ti.state()));
                        }
                    }
                }
                System.out.printf(Locale.ROOT, "%s on %s: unwound %d CPUs and %d blocked tasks in %.1f ms"
                        + " (attach %.0f ms, one gdbstub pause)%n", mode.label(), kernelName, cpus.size(), tasks.size(),
                        (System.nanoTime() - tu) / 1e6, (tu - t0) / 1e6);
            }
            for (Trace t : cpus.values()) {
                System.out.print(TraceText.text(t));
            }
            for (Trace t : tasks.values()) {
                System.out.print(TraceText.text(t));
            }

            int before = vm.console().text().length();
            if (mode == LabMode.SPIN_DEADLOCK) {
                vm.qmp().injectNmi();
            } else {
                vm.qmp().sendKey("alt", "sysrq", mode == LabMode.SLEEP_DEADLOCK ? "w" : "l");
            }
            String want = mode == LabMode.SLEEP_DEADLOCK ? "task:" : mode == LabMode.SPIN_DEADLOCK ? "Kernel panic" : "NMI backtrace";
            assertTrue(vm.console().await(t -> t.length() > before && t.substring(before).contains(want),
                    Duration.ofSeconds(60)), "the kernel printed its traces (" + want + ")");
            // The rest of the traces: until the console has been quiet for a second and a half.
            int[] seen = {-1};
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(1500)).until(() -> {
                int now = vm.console().text().length();
                boolean quiet = now == seen[0];
                seen[0] = now;
                return quiet;
            });
            List<KernelTrace> theirs = kernelTraces(lines(vm.console().text().substring(before)));
            System.out.println("kernel traces: " + theirs);
            assertFalse(theirs.isEmpty(), "no Call Trace block parsed from the console");

            int compared = 0;
            for (KernelTrace kt : theirs) {
                Trace ours;
                List<String> kernelFns;
                List<String> kernelAny;
                List<String> ourFns;
                if (kt.idleAt() != null) {
                    // The kernel skips idle CPUs and names only where they idle: the RIP must match.
                    ours = cpus.get(kt.cpu());
                    if (ours == null || ours.start() == null) {
                        continue;
                    }
                    assertEquals(kt.idleAt(), ours.start().symbol(), kt.who() + " idles at the same place");
                    compared++;
                    continue;
                }
                if (kt.who().startsWith("task ")) {
                    ours = tasks.get(kt.pid());
                    kernelFns = kt.all();
                    kernelAny = kt.allAny();
                    ourFns = ours == null ? null : functions(ours, false);
                } else {
                    ours = cpus.get(kt.cpu());
                    if (ours != null && kt.pid() >= 0 && ours.pid() != kt.pid()) {
                        // The CPU ran another task when the kernel printed (the sysrq key press itself
                        // wakes the console's work on an idle CPU): two moments, two stacks.
                        System.out.println(kt.who() + ": the kernel printed pid " + kt.pid() + ", tickwatch unwound pid "
                                + ours.pid() + " a moment before: not compared");
                        continue;
                    }
                    kernelFns = kt.task();
                    kernelAny = kt.taskAny();
                    ourFns = ours == null ? null : functions(ours, true);
                }
                if (ours == null) {
                    System.out.println("no tickwatch trace for " + kt.who() + " (printed by the kernel only)");
                    continue;
                }
                // No frame invented: every function tickwatch names, the kernel printed too (reliable or
                // with its '?'), in the same order. None missed: every function the kernel vouched for,
                // tickwatch names, in order (6.1 marks a module's init-time callers '?', tickwatch
                // unwinds them through the module's ORC table).
                // Frames past the kernel's outermost one are where its unwinder gave up (6.1 in a
                // module's init text), counted apart and printed; the ones up to it must all be the kernel's.
                int beyond = beyond(ourFns, kernelAny);
                List<String> within = ourFns.subList(0, ourFns.size() - beyond);
                int extra = extra(within, kernelAny);
                int missed = extra(kernelFns, ourFns);
                System.out.printf("%s: kernel %s (with '?': %s)%n%s: tickwatch %s (%d extra, %d missed, %d beyond the"
                        + " kernel's last frame)%n", kt.who(), kernelFns, kernelAny, kt.who(), ourFns, extra, missed, beyond);
                assertEquals(0, extra, kt.who() + ": frames tickwatch printed that the kernel did not");
                if (beyond > 0) {
                    // Going on is only fair where the kernel stopped short, and only to a real stack end.
                    assertFalse(Set.of("ret_from_fork", "ret_from_fork_asm", "entry_SYSCALL_64_after_hwframe",
                            "secondary_startup_64_no_verify", "common_startup_64").contains(kernelAny.get(kernelAny.size() - 1)),
                            kt.who() + ": the kernel's trace was complete, tickwatch's went on");
                    assertTrue(ours.complete(), kt.who() + ": past the kernel's last frame, to a stack end: " + ours.end());
                }
                assertEquals(0, missed, kt.who() + ": frames the kernel vouched for that tickwatch did not name");
                compared++;
            }
            assertTrue(compared > 0, "at least one trace compared: " + theirs);
        }
    }
}
