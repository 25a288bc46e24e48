package dev.tickwatch.boot;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.QemuException;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpCpu;
import dev.tickwatch.qmp.QmpOptions;
import dev.tickwatch.qmp.codec.QmpEvent;
import dev.tickwatch.testing.Guests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Boots Debian's cloud kernel with our initramfs under TCG and talks QMP to it. */
class QemuVmIT {

    private static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path work;

    private final List<Path> vmDirs = new ArrayList<>();

    @AfterEach
    void nothingLeftBehind() {
        for (Path d : vmDirs) {
            assertFalse(Files.exists(d), "temp folder left behind: " + d);
            assertEquals(List.of(), Guests.qemuProcessesUsing(d), "QEMU left running for " + d);
        }
    }

    private QemuVm start(QemuConfig config, QmpOptions options) {
        QemuVm vm = QemuVm.start(config, options);
        vmDirs.add(vm.dir());
        return vm;
    }

    @Test
    void runningGuestAnswersQmpAndHasItsCpusAndMemory() throws Exception {
        QemuConfig config = Guests.appliance(work, "sleep 600").smp(2).build();
        try (QemuVm vm = start(config, QmpOptions.defaults())) {
            QmpClient qmp = vm.qmp();
            assertTrue(Files.exists(vm.dir().resolve("qmp.sock")));
            assertTrue(Files.exists(vm.dir().resolve("gdb.sock")));
            assertEquals("running", qmp.queryStatus().status());
            assertTrue(qmp.greeting().qemuVersion().startsWith("7."), qmp.greeting().qemuVersion());

            List<QmpCpu> cpus = qmp.queryCpusFast();
            assertEquals(2, cpus.size());
            for (QmpCpu cpu : cpus) {
                // The thread id is a real host thread of this QEMU process.
                assertTrue(Files.isDirectory(Path.of("/proc", Long.toString(vm.pid()), "task",
                        Long.toString(cpu.threadId()))), "no host thread " + cpu.threadId());
            }

            await().atMost(BOOT).until(() -> vm.console().text().contains(Milestone.USERLAND.marker()));
            String regs = qmp.hmp("info registers -a");
            assertTrue(regs.contains("CPU#0") && regs.contains("CPU#1"), regs);
            Matcher rip = Pattern.compile("RIP=(ffffffff[0-9a-f]{8})").matcher(regs);
            assertTrue(rip.find(), "no kernel RIP in: " + regs);

            // nokaslr: the kernel text starts at 0xffffffff81000000; QMP wants it as a signed integer.
            Path dump = work.resolve("text.bin");
            qmp.memsave(0xffffffff81000000L, 4096, dump, 0);
            byte[] text = Files.readAllBytes(dump);
            assertEquals(4096, text.length);
            String viaHmp = qmp.hmp("x /2gx 0xffffffff81000000");
            long first = java.nio.ByteBuffer.wrap(text).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
            assertTrue(viaHmp.contains(String.format("0x%016x", first)), viaHmp + " vs " + Long.toHexString(first));
        }
    }

    @Test
    void guestPowerOffSendsShutdownAndQemuExits() {
        List<QmpEvent> events = new CopyOnWriteArrayList<>();
        QemuConfig config = Guests.appliance(work).smp(1).build();
        try (QemuVm vm = start(config, QmpOptions.builder().eventListener(events::add).build())) {
            await().atMost(BOOT).until(() -> events.stream().anyMatch(e -> e.name().equals("SHUTDOWN")));
            QmpEvent shutdown = events.stream().filter(e -> e.name().equals("SHUTDOWN")).findFirst().orElseThrow();
            assertTrue(shutdown.data().path("guest").asBoolean(), shutdown.toString());
            assertTrue(vm.waitForExit(Duration.ofSeconds(30)), "QEMU did not exit after poweroff");
            String console = vm.console().text();
            assertTrue(console.contains(Milestone.KERNEL.marker()), console);
            assertEquals(Milestone.DONE, Milestone.last(console));
        }
    }

    @Test
    void badQemuArgumentsFailWithQemusOwnWords() {
        QemuConfig config = Guests.appliance(work).extraArg("-no-such-option").build();
        QemuException e = assertThrows(QemuException.class, () -> start(config, QmpOptions.defaults()));
        assertTrue(e.getMessage().contains("-no-such-option"), e.getMessage());
        assertEquals(List.of(), Guests.qemuProcessesUsing(work));
    }
}
