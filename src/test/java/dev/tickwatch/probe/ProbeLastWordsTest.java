package dev.tickwatch.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.replay.QmpReplayServer;
import dev.tickwatch.qmp.replay.QmpScript;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A boot loop's success marker is the guest's last words before it powers off: from the sample
 * whose console read shows it, the probe sends QEMU nothing (QEMU 7.2's exit deadlock with a
 * monitor command in flight), as it already did after the kernel's own power-off line; a probe
 * told nothing keeps sampling.
 */
class ProbeLastWordsTest {

    private static final Pattern DONE = Pattern.compile("tickwatch-init: done");
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
        return QmpScript.load(Path.of("protocols/qmp/session-7.2.txt")).withHmpFolder(Path.of("protocols/hmp", "spin-deadlock"));
    }

    /** Samples twice, prints {@code line} on the console, then samples twice more; the commands QEMU got after it. */
    private long commandsAfter(String line, Pattern lastWords) throws Exception {
        Path console = dir.resolve("console-" + System.nanoTime() + ".log");
        Files.writeString(console, "Linux version 6.1.0\r\n");
        try (QmpReplayServer s = QmpReplayServer.start(script(), dir.resolve("q" + System.nanoTime() + ".sock"), group);
                QmpClient q = QmpClient.connect(s.endpoint());
                Probe p = new Probe(q, new Console(console), ProbeOptions.builder().readKernel(false).lastWords(lastWords).build())) {
            assertEquals(2, p.sample().cpus().size());
            assertEquals(2, p.sample().cpus().size());
            Files.writeString(console, line + "\r\n", StandardOpenOption.APPEND);
            long before = s.answered();
            Sample first = p.sample();
            Sample second = p.sample();
            long after = s.answered() - before;
            if (after == 0) {
                assertEquals("shutdown", first.status());
                assertTrue(first.cpus().isEmpty() && second.cpus().isEmpty());
                assertNull(first.kernel());
            } else {
                assertEquals(2, second.cpus().size());
                assertNotNull(second.status());
            }
            return after;
        }
    }

    @Test
    void nothingGoesOutOnceTheConsoleShowsTheLastWords() throws Exception {
        assertEquals(0, commandsAfter("tickwatch-init: done 2.71", DONE));
    }

    @Test
    void theKernelsPowerOffLineStopsEveryProbe() throws Exception {
        assertEquals(0, commandsAfter("[    2.800000] reboot: Power down", null));
    }

    @Test
    void anotherLineOrNoLastWordsKeepsSampling() throws Exception {
        assertEquals(2, commandsAfter("tickwatch-init: userland 1.20", DONE));
        assertEquals(2, commandsAfter("tickwatch-init: done 2.71", null));
    }
}
