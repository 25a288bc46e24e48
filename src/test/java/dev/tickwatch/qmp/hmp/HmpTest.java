package dev.tickwatch.qmp.hmp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.replay.QmpReplayServer;
import dev.tickwatch.qmp.replay.QmpScript;
import dev.tickwatch.testing.FakeQmpPeer;
import dev.tickwatch.testing.QmpTranscript;
import dev.tickwatch.util.Json;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The facade against replayed QEMU 7.2 answers: the recorded session (protocols/qmp) and a lab
 * mode's recorded outputs (protocols/hmp). A replay only answers a command line it has recorded,
 * so each call here also proves the facade sends the very text QEMU was asked.
 */
class HmpTest {

    private static final QmpTranscript SESSION = QmpTranscript.load("session-7.2.txt");
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

    private static String recorded(String commandLine) throws Exception {
        List<String> r = SESSION.responses().get("human-monitor-command " + commandLine);
        return Json.MAPPER.readTree(r.get(r.size() - 1)).path("return").asText();
    }

    @Test
    void registersAndLapicOfEveryCpu() {
        try (QmpReplayServer server = QmpReplayServer.start(script(), dir.resolve("qmp.sock"), group);
                QmpClient qmp = QmpClient.connect(server.endpoint())) {
            Hmp hmp = new Hmp(qmp);
            List<CpuRegisters> regs = hmp.registers();
            assertEquals(List.of(0, 1), regs.stream().map(CpuRegisters::cpu).toList());
            assertTrue(regs.stream().allMatch(r -> r.halted() && r.interruptsEnabled()));
            for (CpuRegisters r : regs) {
                LapicState l = hmp.lapic(r.cpu());
                assertEquals("one-shot", l.timerMode());
                assertEquals(0, l.initialCount());
                assertFalse(l.armed());
            }
            assertTrue(hmp.lapicText(1).contains("LVTT"));
            assertEquals(0, server.unknown(), "every line the facade sent was a recorded one");
        }
    }

    @Test
    void quadwordsSendTheRecordedLineWithoutCpuIndex() {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION); QmpClient qmp = QmpClient.connect(peer.endpoint())) {
            assertArrayEquals(new long[] {0x4801a03f51258d48L, 0x01b9fffffff23d8dL, 0x9cfe058b48c00001L, 0x000000c2c74801bfL},
                    new Hmp(qmp).quadwords(0xffffffff81000000L, 4));
            JsonNode sent = peer.received().get(peer.received().size() - 1);
            assertEquals("x /4gx 0xffffffff81000000", sent.path("arguments").path("command-line").asText());
            assertFalse(sent.path("arguments").has("cpu-index"));
        }
    }

    @Test
    void quadwordsNameTheirCpu() {
        // Not recorded: the peer answers CommandNotFound, but what was sent is what counts here.
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION); QmpClient qmp = QmpClient.connect(peer.endpoint())) {
            assertThrows(dev.tickwatch.qmp.QmpCommandException.class,
                    () -> new Hmp(qmp).physicalQuadwords(0x1000, 2, 1));
            JsonNode args = peer.received().get(peer.received().size() - 1).path("arguments");
            assertEquals("xp /2gx 0x1000", args.path("command-line").asText());
            assertEquals(1, args.path("cpu-index").asInt());
        }
    }

    @Test
    void memoryQemuCannotAccessIsARefusalWithQemusText() throws Exception {
        String unmapped = recorded("{\"command-line\":\"x /2gx 0\"}");
        try (QmpReplayServer server = QmpReplayServer.start(script().withHmp("x /2gx 0x0", unmapped),
                dir.resolve("qmp.sock"), group);
                QmpClient qmp = QmpClient.connect(server.endpoint())) {
            HmpRefusedException e = assertThrows(HmpRefusedException.class, () -> new Hmp(qmp).quadwords(0, 2));
            assertTrue(e.reply().contains("Cannot access memory"), e.reply());
            assertEquals(e.reply(), e.reply().strip());
        }
    }

    @Test
    void gpa2hvaReadsTheHostAddressOrRefuses() {
        // The reply formats of QEMU 7.2's monitor/misc.c hmp_gpa2hva.
        QmpScript s = script()
                .withHmp("gpa2hva 0x100000", "Host virtual address for 0x100000 (pc.ram) is 0x7f3a5c100000\n")
                .withHmp("gpa2hva 0xfee00000", "No memory is mapped at address 0xfee00000\n");
        try (QmpReplayServer server = QmpReplayServer.start(s, dir.resolve("qmp.sock"), group);
                QmpClient qmp = QmpClient.connect(server.endpoint())) {
            Hmp hmp = new Hmp(qmp);
            assertEquals(0x7f3a5c100000L, hmp.gpa2hva(0x100000));
            HmpRefusedException e = assertThrows(HmpRefusedException.class, () -> hmp.gpa2hva(0xfee00000L));
            assertEquals("No memory is mapped at address 0xfee00000", e.reply());
            assertTrue(e.getMessage().contains("0xfee00000"), e.getMessage());
        }
    }

    @Test
    void theRecorderAsksWhatTheSessionTranscriptAnswers() {
        for (Hmp.Line l : Hmp.RECORDED_SESSION) {
            String args = l.cpuIndex() < 0
                    ? Json.compact(Json.object().put("command-line", l.commandLine()))
                    : Json.compact(Json.object().put("command-line", l.commandLine()).put("cpu-index", l.cpuIndex()));
            assertNotNull(SESSION.responses().get("human-monitor-command " + args), l.toString());
        }
    }
}
