package dev.tickwatch.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.boot.QemuVm;
import dev.tickwatch.lab.Lab;
import dev.tickwatch.lab.LabMode;
import dev.tickwatch.monitor.Watch;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.testing.Guests;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every lab mode gets its verdict from a live watch on a real guest (KASLR on), and a healthy
 * appliance stays PROGRESSING through its whole boot and a minute of idle userland, with the host
 * idle and with both host cores busy.
 */
class VerdictIT {

    @TempDir
    Path work;

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "TIMER_STALL_LOST, TIMER_STALL, lost-timer, 60",
        "TIMER_STALL_STORM, TIMER_STALL, tick-storm, 60",
        "SPIN_DEADLOCK, SPIN_LOCKUP, , 60",
        "SPIN_ONE, SPIN_LOCKUP, , 60",
        "SOFT_LOCKUP, SOFT_LOCKUP, , 60",
        "SLEEP_DEADLOCK, SLEEP_DEADLOCK, , 90",
        "PANIC, PANICKED, , 60"})
    void eachLabModeGetsItsVerdict(LabMode mode, Verdict expected, String flavour, int limitS) throws Exception {
        List<Decision> changes = Collections.synchronizedList(new ArrayList<>());
        try (QemuVm vm = QemuVm.start(Lab.config(mode, work, true, List.of()).build());
                Watch watch = new Watch(new Probe(vm.qmp(), vm.console(), ProbeOptions.defaults()), Watch.Options.defaults())) {
            java.util.concurrent.CompletableFuture<Decision> hang = new java.util.concurrent.CompletableFuture<>();
            watch.onChange(d -> {
                changes.add(d);
                if (d.verdict().isHang()) {
                    hang.complete(d);
                }
            }).start();
            assertTrue(vm.console().await(t -> t.contains(Lab.INSMOD_MARKER), Duration.ofSeconds(60)), "lab module loaded");
            long injected = System.nanoTime();
            Decision d;
            try {
                d = hang.get(limitS, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError(mode + ": no hang verdict in " + limitS + " s; decisions: " + changes
                        + "; last: " + watch.current() + "; kernel view: " + watch.probe().kernelProblem(), e);
            }
            System.out.printf("%s: %s %s %.2f s after insmod was seen; %s%n", mode, d.verdict(), d.flavour(),
                    (d.decidedNs() - injected) / 1e9, d.evidence());
            assertEquals(expected, d.verdict(), changes.toString());
            assertEquals(flavour, d.flavour());
            assertTrue(changes.stream().filter(c -> c.verdict().isHang()).allMatch(c -> c.verdict() == expected), changes.toString());
            assertTrue(vm.qmp().queryStatus().running() || mode == LabMode.PANIC, "the watch never pauses the guest");
            assertTrue(vm.qmp().recentEvents().stream().noneMatch(e -> e.name().equals("STOP")));
        }
    }

    @ParameterizedTest(name = "{0} vCPUs")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 4})
    void timerStallWithOneAndFourVcpus(int smp) throws Exception {
        try (QemuVm vm = QemuVm.start(Lab.config(LabMode.TIMER_STALL_LOST, work, true, List.of()).smp(smp).build());
                Watch watch = new Watch(new Probe(vm.qmp(), vm.console(), ProbeOptions.defaults()), Watch.Options.defaults())) {
            java.util.concurrent.CompletableFuture<Decision> hang = new java.util.concurrent.CompletableFuture<>();
            watch.onChange(d -> {
                if (d.verdict().isHang()) {
                    hang.complete(d);
                }
            }).start();
            Decision d = hang.get(90, TimeUnit.SECONDS);
            assertEquals(Verdict.TIMER_STALL, d.verdict(), d.toString());
            assertEquals("lost-timer", d.flavour());
            assertTrue(d.evidence().get(0).startsWith((smp == 1 ? "the only vCPU" : "all " + smp + " vCPUs")
                    + " in HLT with IF=1"), d.evidence().toString());
        }
    }

    @Test
    void healthyApplianceStaysProgressingThroughBootAndAMinuteOfIdleUserland() throws Exception {
        healthyRun(false);
    }

    @Test
    void healthyApplianceStaysProgressingWhileBothHostCoresAreBusy() throws Exception {
        healthyRun(true);
    }

    private void healthyRun(boolean load) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> burners = new ArrayList<>();
        if (load) {
            for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
                Thread t = new Thread(() -> {
                    long x = 0;
                    while (!stop.get()) {
                        x += System.nanoTime() % 7;
                    }
                    if (x == 42) {
                        System.out.print("");
                    }
                }, "burner-" + i);
                t.setDaemon(true);
                t.start();
                burners.add(t);
            }
        }
        List<Decision> changes = Collections.synchronizedList(new ArrayList<>());
        try (QemuVm vm = QemuVm.start(Guests.appliance(work, "sleep 60").append("console=ttyS0 panic=-1").build());
                Watch watch = new Watch(new Probe(vm.qmp(), vm.console(), ProbeOptions.defaults()), Watch.Options.defaults())) {
            watch.onChange(changes::add).start();
            Decision end = watch.end().get(150, TimeUnit.SECONDS);
            System.out.println((load ? "loaded" : "idle") + " host, healthy appliance: " + changes);
            assertEquals(Verdict.SHUTDOWN, end.verdict());
            assertTrue(vm.console().text().contains("tickwatch-init: done"), "the boot finished");
            assertTrue(changes.stream().noneMatch(d -> d.verdict() != Verdict.PROGRESSING && d.verdict() != Verdict.SHUTDOWN),
                    "only PROGRESSING then SHUTDOWN: " + changes);
            assertTrue(watch.history().size() > 100, "sampled the idle minute: " + watch.history().size());
        } finally {
            stop.set(true);
            for (Thread t : burners) {
                t.join();
            }
        }
    }
}
