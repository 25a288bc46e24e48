package dev.tickwatch.qmp.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpCommandException;
import dev.tickwatch.qmp.QmpCpu;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.qmp.hmp.LapicState;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replay server on the recorded session and a lab mode's recorded HMP outputs, through the real client. */
class QmpReplayServerTest {

    private static EventLoopGroup group;

    @TempDir
    Path dir;

    @BeforeAll
    static void startGroup() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stopGroup() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static QmpScript script() {
        return QmpScript.load(Path.of("protocols/qmp/session-7.2.txt"))
                .withHmpFolder(Path.of("protocols/hmp/timer-stall-lost"));
    }

    @Test
    void answersRecordedCommandsWithTheClientsId() {
        try (QmpReplayServer server = QmpReplayServer.start(script(), dir.resolve("qmp.sock"), group);
                QmpClient qmp = QmpClient.connect(server.endpoint())) {
            assertTrue(qmp.queryStatus().running());
            List<QmpCpu> cpus = qmp.queryCpusFast();
            assertEquals(List.of(5860L, 5861L), cpus.stream().map(QmpCpu::threadId).toList());
            // From protocols/hmp/timer-stall-lost, not from the session transcript.
            List<CpuRegisters> regs = CpuRegisters.parseAll(qmp.hmp("info registers -a"));
            assertEquals(2, regs.size());
            assertTrue(regs.stream().allMatch(r -> r.halted() && r.interruptsEnabled()));
            String lapic = qmp.hmp("info lapic 1");
            assertTrue(lapic.contains("\r\n"), "HMP text is sent with CRLF, as QEMU sends it");
            assertFalse(LapicState.parse(lapic).armed());
            // qmp_capabilities at connect, then the four above.
            assertEquals(5, server.answered());
            assertEquals(0, server.unknown());
        }
    }

    @Test
    void aCommandNotInTheTranscriptFailsWithItsName() {
        try (QmpReplayServer server = QmpReplayServer.start(script(), dir.resolve("qmp.sock"), group);
                QmpClient qmp = QmpClient.connect(server.endpoint())) {
            QmpCommandException e = assertThrows(QmpCommandException.class, () -> qmp.hmp("info lapic 7"));
            assertEquals(QmpReplayServer.NOT_RECORDED, e.errorClass());
            assertTrue(e.description().contains("no recorded answer for human-monitor-command {\"command-line\":\"info lapic 7\"}"),
                    e.description());
            // The session goes on after a miss.
            assertTrue(qmp.queryStatus().running());
            assertEquals(1, server.unknown());
        }
    }

    @Test
    void closeDeletesTheSocket() {
        Path sock = dir.resolve("qmp.sock");
        QmpReplayServer server = QmpReplayServer.start(script(), sock, group);
        assertTrue(Files.exists(sock));
        server.close();
        assertFalse(Files.exists(sock));
    }

    @Test
    void recordedFileNamesMapToTheirCommands() {
        assertEquals("info registers -a", QmpScript.hmpCommandFor("info-registers-a.txt"));
        assertEquals("info lapic 12", QmpScript.hmpCommandFor("info-lapic-12.txt"));
        assertEquals(null, QmpScript.hmpCommandFor("README.md"));
    }

    @Test
    void aTranscriptWithoutGreetingIsRefused() {
        TickwatchException e = assertThrows(TickwatchException.class,
                () -> QmpScript.parse(List.of("# nothing", "C: {\"execute\":\"query-status\",\"id\":1}")));
        assertTrue(e.getMessage().contains("no greeting"), e.getMessage());
    }
}
