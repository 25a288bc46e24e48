package dev.tickwatch.watch;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.replay.QmpReplayServer;
import dev.tickwatch.qmp.replay.QmpScript;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Watches on replayed guests share a timer and a few sampling threads, and stop when closed. */
class WatchTest {

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

    private static Watch.Options fast() {
        return every(5);
    }

    private static Watch.Options every(long ms) {
        return new Watch.Options(Duration.ofMillis(ms), Watch.Options.DEFAULT_HISTORY, Watch.Options.defaults().thresholds());
    }

    @Test
    void manyWatchesSampleOnFewSharedThreads() throws Exception {
        int n = 20;
        List<QmpReplayServer> servers = new ArrayList<>();
        List<QmpClient> clients = new ArrayList<>();
        List<Watch> watches = new ArrayList<>();
        Set<String> threads = ConcurrentHashMap.newKeySet();
        CountDownLatch eachFiveTimes = new CountDownLatch(n * 5);
        try {
            for (int i = 0; i < n; i++) {
                QmpReplayServer s = QmpReplayServer.start(script(), dir.resolve("g" + i + ".sock"), group);
                servers.add(s);
                QmpClient q = QmpClient.connect(s.endpoint());
                clients.add(q);
                AtomicInteger mine = new AtomicInteger();
                CountDownLatch first = new CountDownLatch(1);
                Watch w = new Watch(new Probe(q, null, ProbeOptions.builder().readKernel(false).build()), every(50));
                w.onSample(smp -> {
                    threads.add(Thread.currentThread().getName());
                    first.countDown();
                    if (mine.incrementAndGet() <= 5) {
                        eachFiveTimes.countDown();
                    }
                });
                watches.add(w.start());
                // Started one after another, as guests come up in a farm: not all in one instant.
                assertTrue(first.await(30, TimeUnit.SECONDS));
            }
            assertTrue(eachFiveTimes.await(60, TimeUnit.SECONDS), "every watch sampled 5 times; left " + eachFiveTimes.getCount());
            assertTrue(threads.stream().allMatch(t -> t.startsWith("tickwatch-watch-")), threads.toString());
            // Samples never overlap within a watch, but 20 watches need not 20 threads: the pool starts at
            // a thread a core and grows only while ticks wait in its queue.
            assertTrue(threads.size() < n, "threads used: " + threads);
            for (Watch w : watches) {
                assertTrue(w.current() != null && !w.end().isDone(), "sampled and still going");
            }
        } finally {
            watches.forEach(Watch::close);
            clients.forEach(QmpClient::close);
            servers.forEach(QmpReplayServer::close);
        }
    }

    @Test
    void noSampleAfterClose() throws Exception {
        try (QmpReplayServer s = QmpReplayServer.start(script(), dir.resolve("c.sock"), group);
                QmpClient q = QmpClient.connect(s.endpoint())) {
            AtomicInteger samples = new AtomicInteger();
            CountDownLatch three = new CountDownLatch(3);
            Watch w = new Watch(new Probe(q, null, ProbeOptions.builder().readKernel(false).build()), fast());
            w.onSample(smp -> {
                samples.incrementAndGet();
                three.countDown();
            });
            w.start();
            assertTrue(three.await(30, TimeUnit.SECONDS));
            w.close();
            int atClose = samples.get();
            // The sample close() interrupted may have sent a command whose reply is still on its way.
            // The server answers in order, so once our own command is answered, so is that one.
            q.queryStatus();
            long answered = s.answered();
            // A tick still scheduled would come within a period (5 ms): give it forty.
            await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5))
                    .until(() -> s.answered() == answered);
            for (int i = 0; i < 3; i++) {
                q.queryStatus();
            }
            assertEquals(answered + 3, s.answered(), "only our own three commands reached the guest");
            assertEquals(atClose, samples.get());
        }
    }

    @Test
    void closeFromAListenerReturnsAndStops() throws Exception {
        try (QmpReplayServer s = QmpReplayServer.start(script(), dir.resolve("l.sock"), group);
                QmpClient q = QmpClient.connect(s.endpoint())) {
            AtomicInteger samples = new AtomicInteger();
            CountDownLatch closed = new CountDownLatch(1);
            Watch w = new Watch(new Probe(q, null, ProbeOptions.builder().readKernel(false).build()), fast());
            w.onSample(smp -> {
                if (samples.incrementAndGet() == 2) {
                    w.close();
                    closed.countDown();
                }
            });
            w.start();
            assertTrue(closed.await(30, TimeUnit.SECONDS), "close() from the sampling thread returned");
            long answered = s.answered();
            q.queryStatus();
            assertEquals(answered + 1, s.answered());
            assertEquals(2, samples.get());
            assertFalse(w.end().isDone(), "closing is not the guest ending");
        }
    }
}
