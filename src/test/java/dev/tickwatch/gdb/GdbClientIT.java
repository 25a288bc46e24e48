package dev.tickwatch.gdb;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.CommandTimeoutException;
import dev.tickwatch.ConnectionException;
import dev.tickwatch.probe.Milestone;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.gdb.codec.Rsp;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.testing.Guests;
import dev.tickwatch.testing.RspProxy;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The GDB client against QEMU 7.2's gdbstub, one 2-vCPU appliance guest for the whole class
 * (booting is the expensive part). Every test leaves the VM running and the stub free, and
 * checks the run state through QMP {@code query-status}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GdbClientIT {

    private static final long TEXT = 0xffffffff81000000L;
    private static final Duration SETTLE = Duration.ofSeconds(10);

    private Path work;
    private QemuVm vm;
    private QmpClient qmp;

    @BeforeAll
    void boot() {
        work = Guests.tempDir("gdb-it-");
        vm = QemuVm.start(Guests.appliance(work, "sleep 600").smp(2).build());
        qmp = vm.qmp();
        await().atMost(Duration.ofSeconds(120)).until(() -> vm.console().text().contains(Milestone.USERLAND.marker()));
    }

    @AfterAll
    void shutdown() throws Exception {
        Path dir = vm.dir();
        vm.close();
        assertFalse(Files.exists(dir));
        assertEquals(List.of(), Guests.qemuProcessesUsing(dir));
        dev.tickwatch.util.FileTrees.deleteTree(work);
    }

    private GdbOptions.Builder options() {
        return GdbOptions.builder().fallbackResume(qmp::contAsync).shutdownHook(false);
    }

    private void awaitRunning() {
        await().atMost(SETTLE).until(() -> qmp.queryStatus().running());
    }

    @Test
    void registersOfEveryVcpuMatchQmpForTheSamePause() {
        awaitRunning();
        try (GdbClient gdb = GdbClient.connect(vm.gdbEndpoint(), options().build())) {
            assertTrue(gdb.wasRunningAtAttach());
            assertEquals(2, gdb.threads().size(), gdb.threads().toString());
            assertEquals("i386:x86-64", gdb.target().architecture());
            assertTrue(gdb.target().files().size() >= 2, gdb.target().files().toString());
            try (GdbPause paused = gdb.pause()) {
                assertTrue(paused.ours());
                assertFalse(qmp.queryStatus().running());
                List<CpuRegisters> viaQmp = CpuRegisters.parseAll(qmp.hmp("info registers -a"));
                List<Registers> viaGdb = gdb.registersOfAll();
                assertEquals(viaQmp.size(), viaGdb.size());
                for (int i = 0; i < viaGdb.size(); i++) {
                    Registers g = viaGdb.get(i);
                    CpuRegisters q = viaQmp.get(g.thread().cpuIndex());
                    assertEquals(q.rip(), g.get("rip"), "rip of CPU " + i);
                    assertEquals(q.rflags(), g.get("eflags"), "rflags of CPU " + i);
                    assertEquals(q.rsp(), g.get("rsp"), "rsp of CPU " + i);
                    assertEquals(q.cr3(), g.get("cr3"), "cr3 of CPU " + i);
                }
                // p works once the target description was read (QEMU resets that per connect).
                byte[] rip = gdb.register(gdb.threads().get(0), "rip");
                assertEquals(viaGdb.get(0).hex("rip"), Registers.hex(rip));
                assertTrue(gdb.stopReason().startsWith("T"));
            }
            awaitRunning();
        }
        awaitRunning();
    }

    @Test
    void fourMebibytesOfKernelTextEqualQmpMemsave() throws Exception {
        int size = 4 << 20;
        try (GdbClient gdb = GdbClient.connect(vm.gdbEndpoint(), options().build());
                GdbPause paused = gdb.pause()) {
            byte[] viaGdb = gdb.readMemory(TEXT, size);
            Path file = work.resolve("text.bin");
            qmp.memsave(TEXT, size, file, 0);
            assertArrayEquals(Files.readAllBytes(file), viaGdb);
            GdbErrorException e = assertThrows(GdbErrorException.class, () -> gdb.readMemory(0, 16));
            assertEquals(0x14, e.code()); // QEMU's "E14": EFAULT in decimal digits
        }
        awaitRunning();
    }

    @Test
    void monitorCommandOutputComesFromConsolePackets() {
        try (GdbClient gdb = GdbClient.connect(vm.gdbEndpoint(), options().build());
                GdbPause paused = gdb.pause()) {
            String out = gdb.monitor("info status");
            assertTrue(out.contains("paused"), out);
            assertThrows(GdbUnsupportedException.class, () -> gdb.request("qNoSuchThing"));
        }
        awaitRunning();
    }

    @Test
    void closingInsideThePauseResumes() {
        GdbClient gdb = GdbClient.connect(vm.gdbEndpoint(), options().build());
        GdbPause paused = gdb.pause();
        assertFalse(qmp.queryStatus().running());
        gdb.close();
        awaitRunning();
        paused.close();
        assertTrue(qmp.queryStatus().running());
    }

    @Test
    void anExceptionInsideThePauseResumes() {
        try (GdbClient gdb = GdbClient.connect(vm.gdbEndpoint(), options().build())) {
            assertThrows(IllegalStateException.class, () -> {
                try (GdbPause paused = gdb.pause()) {
                    assertFalse(qmp.queryStatus().running());
                    throw new IllegalStateException("boom");
                }
            });
            awaitRunning();
            // The connection stays usable after the resume: pause again with 0x03.
            try (GdbPause again = gdb.pause()) {
                assertTrue(again.ours());
                assertFalse(qmp.queryStatus().running());
            }
            awaitRunning();
        }
        awaitRunning();
    }

    @Test
    void losingTheStubDuringThePauseResumesThroughQmp() throws Exception {
        try (RspProxy proxy = new RspProxy(vm.gdbEndpoint());
                GdbClient gdb = GdbClient.connect(proxy.endpoint(), options().build())) {
            try (GdbPause paused = gdb.pause()) {
                assertFalse(qmp.queryStatus().running());
                proxy.cut();
                await().atMost(SETTLE).until(() -> !gdb.isOpen());
                assertThrows(ConnectionException.class, () -> gdb.readMemory(TEXT, 64));
            }
            awaitRunning();
            assertTrue(gdb.fallbackResume() != null);
        }
        awaitRunning();
    }

    @Test
    void aTimedOutRequestResumes() throws Exception {
        try (RspProxy proxy = new RspProxy(vm.gdbEndpoint());
                GdbClient gdb = GdbClient.connect(proxy.endpoint(), options()
                        .requestTimeout(Duration.ofMillis(500)).build())) {
            try (GdbPause paused = gdb.pause()) {
                assertFalse(qmp.queryStatus().running());
                proxy.swallow();
                CommandTimeoutException e = assertThrows(CommandTimeoutException.class,
                        () -> gdb.registers(gdb.threads().get(0)));
                assertTrue(e.getMessage().contains("timed out after 500 ms"), e.getMessage());
            }
            awaitRunning();
        }
        awaitRunning();
    }

    @Test
    void jvmShutdownInsideThePauseResumes() throws Exception {
        awaitRunning();
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.tickwatch.testing.PauseAndWait",
                vm.gdbEndpoint().toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream()))) {
            assertEquals("paused", lines.readLine());
            assertFalse(qmp.queryStatus().running());
            child.destroy(); // SIGTERM: shutdown hooks run
            assertTrue(child.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        awaitRunning();
    }

    @Test
    void attachingToAPausedVmLeavesItPaused() {
        qmp.stop();
        try {
            try (GdbClient gdb = GdbClient.connect(vm.gdbEndpoint(), options().build())) {
                assertFalse(gdb.wasRunningAtAttach());
                try (GdbPause paused = gdb.pause()) {
                    assertFalse(paused.ours());
                    assertEquals(2, gdb.registersOfAll().size());
                }
                assertFalse(qmp.queryStatus().running());
            }
            assertFalse(qmp.queryStatus().running());
            assertEquals("paused", qmp.queryStatus().status());
            // The stub is free again: a new client gets served.
            try (GdbClient again = GdbClient.connect(vm.gdbEndpoint(), options().build())) {
                assertFalse(again.wasRunningAtAttach());
            }
            assertFalse(qmp.queryStatus().running());
        } finally {
            qmp.cont();
        }
        awaitRunning();
    }

    /**
     * Measured QEMU 7.2 behaviour the design rests on: {@code D} resumes the VM even when it was
     * paused before the attach, and closing without {@code D} leaves it paused.
     */
    @Test
    void qemuDetachResumesEvenAPausedVm() throws Exception {
        qmp.stop();
        try (SocketChannel s = SocketChannel.open(vm.gdbEndpoint().socketAddress())) {
            OutputStream out = Channels.newOutputStream(s);
            InputStream in = Channels.newInputStream(s);
            send(out, "qSupported:multiprocess+");
            String reply = readPacket(in);
            assertTrue(reply.contains("multiprocess+"), reply);
            send(out, "D;1");
            assertEquals("OK", readPacket(in));
        }
        try {
            awaitRunning();
        } finally {
            if (!qmp.queryStatus().running()) {
                qmp.cont();
            }
        }
    }

    private static void send(OutputStream out, String payload) throws Exception {
        byte[] p = payload.getBytes(StandardCharsets.ISO_8859_1);
        out.write(("$" + payload + "#" + String.format("%02x", Rsp.checksum(p, 0, p.length)))
                .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static String readPacket(InputStream in) throws Exception {
        int c;
        while ((c = in.read()) != '$') {
            assertTrue(c >= 0, "EOF");
        }
        StringBuilder sb = new StringBuilder();
        while ((c = in.read()) != '#') {
            sb.append((char) c);
        }
        in.read();
        in.read();
        return sb.toString();
    }
}
