package dev.tickwatch.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.lab.Lab;
import dev.tickwatch.lab.LabMode;
import dev.tickwatch.qmp.codec.QmpEvent;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.testing.GuestFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kernel readings from outside against what the guest itself says, on a healthy and a stalled guest. */
class GuestKernelIT {

    private static final Pattern JIFFIES_LINE = Pattern.compile("(?m)^jiffies: (\\d+)\\r?$");

    @TempDir
    Path work;

    @Test
    void healthyGuestReadingsMatchTheGuestsOwnAndAdvance() throws Exception {
        GuestFiles.Setup setup = GuestFiles.setup(work, List.of("/sys/kernel/btf/vmlinux"),
                "while true; do grep -m1 '^jiffies' /proc/timer_list; sleep 0.2; done");
        try (QemuVm vm = QemuVm.start(setup.config().build())) {
            setup.files().await(vm, Duration.ofSeconds(120));
            try (GuestKernel k = GuestKernel.attach(vm.qmp())) {
                System.out.printf("attach: backend %s, %s, timings %s, version %s%n", k.memory().backend().label(),
                        k.symbols(), k.timings(), k.version());
                assertTrue(k.version().startsWith("Linux version 6.1"), k.version());

                // BTF offsets read from memory equal those of the guest's own /sys/kernel/btf/vmlinux.
                Btf own = Btf.parse(setup.files().bytes("/sys/kernel/btf/vmlinux"));
                for (String[] f : new String[][] {{"tick_sched", "next_tick"}, {"tick_sched", "tick_stopped"},
                        {"hrtimer_cpu_base", "expires_next"}, {"task_struct", "comm"}, {"irq_cpustat_t", "apic_timer_irqs"},
                        {"clock_event_device", "next_event"}, {"tick_device", "mode"}}) {
                    assertEquals(own.field(f[0], f[1]), k.btf().field(f[0], f[1]), f[0] + "." + f[1]);
                }

                // jiffies from outside brackets the value the guest prints at the same moment.
                for (int i = 0; i < 3; i++) {
                    int mark = vm.console().text().length();
                    long before = k.jiffies();
                    AtomicReference<Long> printed = new AtomicReference<>();
                    await().atMost(Duration.ofSeconds(10)).until(() -> {
                        Matcher m = JIFFIES_LINE.matcher(vm.console().text().substring(mark));
                        if (m.find()) {
                            printed.set(Long.parseLong(m.group(1)));
                        }
                        return printed.get() != null;
                    });
                    long after = k.jiffies();
                    // The guest reads jiffies a moment before its line reaches the console: allow 2 ticks.
                    assertTrue(printed.get() >= before - 2 && printed.get() <= after,
                            before + " <= " + printed.get() + " <= " + after);
                }

                TimerView t1 = k.timers();
                await().atMost(Duration.ofSeconds(10)).until(() -> k.jiffies() > t1.jiffies() + 100);
                TimerView t2 = k.timers();
                System.out.println("timers: " + t2);
                assertEquals(2, t2.cpus().size());
                assertEquals(List.of(), t2.unavailable());
                assertEquals(250, t2.hz());
                assertTrue(t2.lastJiffiesUpdateNs() > t1.lastJiffiesUpdateNs());
                long ticks = t2.cpus().stream().mapToLong(CpuTimers::localTimerInterrupts).sum()
                        - t1.cpus().stream().mapToLong(CpuTimers::localTimerInterrupts).sum();
                assertTrue(ticks > 0, "local timer interrupts advance on a healthy guest");
                assertEquals("lapic", t2.cpus().get(0).clockevent());
                assertEquals("oneshot", t2.cpus().get(0).tickDeviceMode());

                List<TaskInfo> tasks = k.tasks();
                TaskInfo init = tasks.stream().filter(t -> t.pid() == 1).findFirst().orElseThrow();
                assertEquals("init", init.comm());
                assertFalse(init.kernelThread());
                TaskInfo kthreadd = tasks.stream().filter(t -> t.pid() == 2).findFirst().orElseThrow();
                assertEquals("kthreadd", kthreadd.comm());
                assertTrue(kthreadd.kernelThread());
                assertTrue(tasks.stream().noneMatch(TaskInfo::uninterruptible), "an idle healthy guest has no D tasks: " + tasks);
                assertTrue(tasks.size() > 20, "kernel threads and the init shell: " + tasks.size());
            }
            List<QmpEvent> stops = vm.qmp().recentEvents().stream().filter(e -> e.name().equals("STOP")).toList();
            assertEquals(List.of(), stops, "reading the guest must not pause it");
        }
    }

    @Test
    void timerStallLostGuestShowsOverdueTimersAndFrozenCounts() throws Exception {
        try (QemuVm vm = QemuVm.start(Lab.config(LabMode.TIMER_STALL_LOST, work, true, List.of()).build())) {
            assertTrue(vm.console().await(t -> t.contains(Lab.INSMOD_MARKER), Duration.ofSeconds(120)));
            try (GuestKernel k = GuestKernel.attach(vm.qmp())) {
                // Wait until jiffies stop, then watch them stay stopped for a while of host time.
                AtomicReference<TimerView> first = new AtomicReference<>(k.timers());
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(() -> {
                    TimerView now = k.timers();
                    boolean frozen = now.jiffies() == first.get().jiffies();
                    first.set(now);
                    return frozen;
                });
                TimerView a = first.get();
                long frozenSeen = System.nanoTime();
                // Guest time now is at least the last tick plus the host time jiffies have stood still;
                // the soonest hrtimer of any CPU falls behind that once it is overdue and nothing fires it.
                await().atMost(Duration.ofSeconds(15)).until(() -> {
                    TimerView v = k.timers();
                    long soonest = v.cpus().stream().mapToLong(CpuTimers::expiresNextNs).min().orElseThrow();
                    return soonest < v.lastJiffiesUpdateNs() + (System.nanoTime() - frozenSeen);
                });
                TimerView b = k.timers();
                System.out.println("stalled timers: " + b);
                assertEquals(a.jiffies(), b.jiffies(), "jiffies frozen");
                for (int cpu = 0; cpu < b.cpus().size(); cpu++) {
                    CpuTimers x = a.cpus().get(cpu);
                    CpuTimers y = b.cpus().get(cpu);
                    assertEquals(x.localTimerInterrupts(), y.localTimerInterrupts(), "CPU" + cpu + " LOC frozen");
                    assertEquals(x.expiresNextNs(), y.expiresNextNs(), "CPU" + cpu + " expires_next unchanged");
                }
                assertNotEquals(0, b.jiffies());
            }
            assertTrue(vm.qmp().queryStatus().running());
        }
    }

    @Test
    void spinningCpuIsNamedInsideTheLabModuleWithItsTask() throws Exception {
        try (QemuVm vm = QemuVm.start(Lab.config(LabMode.SPIN_ONE, work, true, List.of()).build())) {
            assertTrue(vm.console().await(t -> t.contains(Lab.INSMOD_MARKER), Duration.ofSeconds(120)));
            AtomicReference<CpuRegisters> spinner = new AtomicReference<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                // The lab spins on the last CPU that does not take the keyboard's IRQ: find it.
                for (CpuRegisters c : CpuRegisters.parseAll(vm.qmp().hmp("info registers -a"))) {
                    // In the module's text (above the image: the module area), not a moment of IF=0 elsewhere.
                    if (!c.halted() && !c.interruptsEnabled() && c.cpl() == 0
                            && Long.compareUnsigned(c.rip(), 0xffffffffc0000000L) >= 0) {
                        spinner.set(c);
                        return true;
                    }
                }
                return false;
            });
            try (GuestKernel k = GuestKernel.attach(vm.qmp())) {
                String where = k.symbolize(spinner.get().rip());
                assertTrue(where.startsWith("lab_spin_thread+0x") && where.endsWith(" [tickwatch_lab]"), where);
                assertTrue(k.modules().list().stream().anyMatch(m -> m.name().equals("tickwatch_lab")));
                CpuTimers.TaskRef current = k.currentTask(spinner.get().cpu(), new java.util.ArrayList<>());
                // The lab names its thread after the CPU it bound it to: the task tickwatch read as
                // current on the spinning CPU is that one.
                assertEquals("lab-spin/" + spinner.get().cpu(), current.comm());
                assertTrue(k.symbols().lookup(spinner.get().rip()).isEmpty(), "a module address is not a kernel symbol");
            }
        }
    }
}
