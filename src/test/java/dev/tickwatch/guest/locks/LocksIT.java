package dev.tickwatch.guest.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.cli.Main;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.lab.Lab;
import dev.tickwatch.lab.LabMode;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.qmp.hmp.Hmp;
import dev.tickwatch.testing.Kernels;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Decision;
import dev.tickwatch.verdict.Verdict;
import dev.tickwatch.watch.Watch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The lab's sleep-deadlock (two kthreads ABBA on lab_mutex_a and lab_mutex_b, then insmod on
 * lab_mutex_a) on Debian's cloud 6.1, 6.12 and PREEMPT_RT 6.1: a watch started on the deadlocked
 * guest decides SLEEP_DEADLOCK from the lock cycle, within 3 s of its start (printed); then
 * {@code tickwatch guest locks --json} names the cycle with the module's lock names and owners,
 * and insmod's chain into it. Boots real guests: the lead runs it.
 */
class LocksIT {

    /** Latency goal from the watch's start (attach included) to the verdict. */
    static final double GOAL_S = 3.0;

    @TempDir
    Path work;

    static Stream<String> kernels() {
        return Stream.of(Kernels.find("6.1.0", "-cloud-"), Kernels.find("6.12"), Kernels.find("6.1.0", "-rt-"))
                .distinct();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void theLabsAbbaIsACycleTheWatchDecidesAtOnce(String kernelName) throws Exception {
        var config = Lab.config(LabMode.SLEEP_DEADLOCK, work, true, List.of(), Kernels.kernel(kernelName)).userMonitor(true);
        try (QemuVm vm = QemuVm.start(config.build())) {
            assertTrue(vm.console().await(t -> t.contains("inducing sleep-deadlock"), Duration.ofSeconds(120)),
                    "the lab module induced the deadlock");
            // The kthreads block on each other within moments of that line, insmod right after:
            // then every vCPU idles. Wait for that without attaching (the watch's attach is measured).
            assertTrue(allIdle(vm, Duration.ofSeconds(30)), "every vCPU idle once the deadlock formed");

            // A fresh watch on the deadlocked guest: from its start to the verdict.
            long start;
            Decision d;
            try (Watch watch = new Watch(new Probe(vm.qmp(), vm.console(), ProbeOptions.defaults()),
                    Watch.Options.defaults())) {
                CompletableFuture<Decision> hang = new CompletableFuture<>();
                watch.onChange(x -> {
                    if (x.verdict().isHang()) {
                        hang.complete(x);
                    }
                });
                start = System.nanoTime();
                watch.start();
                d = hang.get(60, TimeUnit.SECONDS);
            }
            double latency = (d.decidedNs() - start) / 1e9;
            System.out.printf(Locale.ROOT, "LocksIT %s: SLEEP_DEADLOCK %.2f s after the watch started (goal < %.1f s)%n",
                    kernelName, latency, GOAL_S);
            assertEquals(Verdict.SLEEP_DEADLOCK, d.verdict(), d.toString());
            String evidence = String.join("\n", d.evidence());
            assertTrue(d.evidence().get(0).startsWith("a lock cycle in the wait-for graph"), evidence);
            assertTrue(evidence.matches("(?s).*lab-mutex-ab\\S* \\(pid \\d+\\) waits for (rt_)?mutex lab_mutex_b"
                    + " \\[tickwatch_lab\\] at 0x[0-9a-f]+ held by lab-mutex-ba\\S* \\(pid \\d+\\).*"), evidence);
            assertTrue(evidence.matches("(?s).*lab-mutex-ba\\S* \\(pid \\d+\\) waits for (rt_)?mutex lab_mutex_a"
                    + " \\[tickwatch_lab\\] at 0x[0-9a-f]+ held by lab-mutex-ab\\S* \\(pid \\d+\\).*"), evidence);
            assertTrue(latency < GOAL_S, String.format(Locale.ROOT, "%.2f s from the watch's start", latency));

            // The command, through the second monitor.
            JsonNode g = Json.MAPPER.readTree(run("guest", "--qmp", vm.userQmpEndpoint().toString(), "locks", "--json"));
            Map<String, JsonNode> byComm = new HashMap<>();
            g.path("tasks").forEach(t -> byComm.put(t.path("comm").asText().replaceAll("/\\d+$", ""), t));
            JsonNode ab = byComm.get("lab-mutex-ab");
            JsonNode ba = byComm.get("lab-mutex-ba");
            JsonNode insmod = byComm.get("insmod");
            assertNotNull(ab, g.toString());
            assertNotNull(ba, g.toString());
            assertNotNull(insmod, g.toString());
            // On PREEMPT_RT the kind is mutex when mutex_lock's frame is on the stack (not a tail call),
            // else the rt_mutex it is built on: the names and owners are what identify the locks.
            String kind = ab.path("waits_on").path("kind").asText();
            assertTrue(kind.equals("mutex") || (Kernels.isRt(kernelName) && kind.equals("rt_mutex")), ab.toString());
            assertEquals("lab_mutex_b [tickwatch_lab]", ab.path("waits_on").path("name").asText(), ab.toString());
            assertEquals(ba.path("pid").asInt(), ab.path("waits_on").path("owner_pid").asInt(), ab.toString());
            assertEquals("lab_mutex_a [tickwatch_lab]", ba.path("waits_on").path("name").asText(), ba.toString());
            assertEquals(ab.path("pid").asInt(), ba.path("waits_on").path("owner_pid").asInt(), ba.toString());
            assertEquals("lab_mutex_a [tickwatch_lab]", insmod.path("waits_on").path("name").asText(), insmod.toString());
            assertEquals(ab.path("pid").asInt(), insmod.path("waits_on").path("owner_pid").asInt(), insmod.toString());
            assertEquals(1, g.path("cycles").size(), g.toString());
            assertEquals(2, g.path("cycles").get(0).path("pids").size(), g.toString());
            assertTrue(g.path("chains").toString().contains("insmod"), g.toString());
            String foundBy = Kernels.isRt(kernelName) ? "task_struct.pi_blocked_on" : "mutex_waiter on its stack at 0x";
            assertTrue(ab.path("waits_on").path("found_by").asText().startsWith(foundBy), ab.toString());

            // And the reader on its own, over the VM's monitor.
            try (GuestKernel k = GuestKernel.attach(vm.qmp())) {
                LockGraph graph = LockReader.of(k).read(k.tasks());
                System.out.println("LocksIT " + kernelName + ":\n  " + String.join("\n  ", graph.lines()));
                assertEquals(1, graph.cycles().size(), graph.lines().toString());
            }
        }
    }

    /** Whether every vCPU is in HLT in two readings of the registers in a row, within {@code limit}. */
    private static boolean allIdle(QemuVm vm, Duration limit) throws InterruptedException {
        Hmp hmp = new Hmp(vm.qmp());
        long end = System.nanoTime() + limit.toNanos();
        int inARow = 0;
        while (System.nanoTime() < end) {
            inARow = hmp.registers().stream().allMatch(CpuRegisters::halted) ? inARow + 1 : 0;
            if (inARow == 2) {
                return true;
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        return false;
    }

    private static String run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        assertEquals(0, code, "tickwatch " + String.join(" ", args) + ": " + err);
        return out.toString().strip();
    }
}
