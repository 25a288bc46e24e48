package dev.tickwatch.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.hmp.LapicState;
import dev.tickwatch.qmp.replay.QmpReplayServer;
import dev.tickwatch.qmp.replay.QmpScript;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probe reads each vCPU's LAPIC timer only while every vCPU is halted, and for a guest that
 * was asleep at the last sample sends those reads with the registers' in one burst: the readings
 * are the recorded ones every time, and no command is spent on a guest that works.
 */
class ProbeLapicTest {

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

    private static QmpScript script(String mode) {
        return QmpScript.load(Path.of("protocols/qmp/session-7.2.txt")).withHmpFolder(Path.of("protocols/hmp", mode));
    }

    @Test
    void anIdleGuestGetsItsRecordedLapicTimersAtEverySample() throws Exception {
        LapicTimer cpu0 = LapicTimer.of(LapicState.parse(Files.readString(Path.of("protocols/hmp/timer-stall-lost/info-lapic-0.txt"))));
        LapicTimer cpu1 = LapicTimer.of(LapicState.parse(Files.readString(Path.of("protocols/hmp/timer-stall-lost/info-lapic-1.txt"))));
        try (QmpReplayServer s = QmpReplayServer.start(script("timer-stall-lost"), dir.resolve("q.sock"), group);
                QmpClient q = QmpClient.connect(s.endpoint());
                Probe p = new Probe(q, null, ProbeOptions.builder().readKernel(false).build())) {
            for (int i = 0; i < 4; i++) {
                long before = s.answered();
                Sample smp = p.sample();
                assertEquals(2, smp.cpus().size());
                assertEquals(cpu0, smp.cpus().get(0).lapic(), "sample " + i);
                assertEquals(cpu1, smp.cpus().get(1).lapic(), "sample " + i);
                if (i > 0) {
                    // registers and two LAPICs: nothing read twice, nothing wasted
                    assertEquals(3, s.answered() - before, "commands of sample " + i);
                }
            }
            assertEquals(0, s.unknown());
        }
    }

    @Test
    void aWorkingGuestCostsOneCommandASample() throws Exception {
        try (QmpReplayServer s = QmpReplayServer.start(script("spin-deadlock"), dir.resolve("q.sock"), group);
                QmpClient q = QmpClient.connect(s.endpoint());
                Probe p = new Probe(q, null, ProbeOptions.builder().readKernel(false).build())) {
            p.sample();
            for (int i = 0; i < 3; i++) {
                long before = s.answered();
                Sample smp = p.sample();
                smp.cpus().forEach(c -> assertNull(c.lapic()));
                assertEquals(1, s.answered() - before, "commands of sample " + i);
            }
        }
    }
}
