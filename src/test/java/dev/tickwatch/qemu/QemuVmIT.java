package dev.tickwatch.qemu;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.QemuException;
import dev.tickwatch.probe.Milestone;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpCpu;
import dev.tickwatch.qmp.QmpOptions;
import dev.tickwatch.qmp.codec.QmpEvent;
import dev.tickwatch.testing.Guests;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
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

            // Physical memory: nokaslr loads the kernel at 16 MiB, the same bytes as its virtual start.
            Path phys = work.resolve("phys.bin");
            qmp.pmemsave(0x1000000L, 4096, phys);
            assertArrayEquals(text, Files.readAllBytes(phys));

            // A detached dump ends with DUMP_COMPLETED; QEMU writes a kdump-compressed file.
            Path core = work.resolve("vmcore");
            QmpEvent done = qmp.dumpGuestMemory(core, "kdump-zlib", false).get(60, TimeUnit.SECONDS);
            assertEquals("DUMP_COMPLETED", done.name());
            // QEMU 7.2 writes kdump in makedumpfile's flattened form: its signature, then the
            // kdump header ("KDUMP   ") inside the first data block.
            byte[] all = Files.readAllBytes(core);
            assertEquals("makedumpfile", new String(all, 0, 12, StandardCharsets.US_ASCII));
            String head = new String(Arrays.copyOf(all, 65536), StandardCharsets.ISO_8859_1);
            assertTrue(head.contains("KDUMP   "), "no kdump header");
            await().atMost(Duration.ofSeconds(10)).until(() -> qmp.queryStatus().running());
        }
    }

    @Test
    void autoAcceleratorPicksOneThatBoots() {
        List<QmpEvent> events = new CopyOnWriteArrayList<>();
        QemuConfig config = Guests.appliance(work).accel(Accel.AUTO).smp(1).build();
        try (QemuVm vm = start(config, QmpOptions.builder().eventListener(events::add).build())) {
            assertTrue(vm.accel() == Accel.TCG || vm.accel() == Accel.KVM, vm.accel().name());
            assertTrue(vm.command().contains(vm.accel().qemuName()), vm.command().toString());
            assertTrue(vm.waitForExit(BOOT), "no poweroff with " + vm.accel());
            assertEquals(Milestone.DONE, Milestone.last(vm.console().text()));
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
