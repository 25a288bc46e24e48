package dev.tickwatch.qmp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.CommandTimeoutException;
import dev.tickwatch.ConnectionException;
import dev.tickwatch.ProtocolException;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.qmp.codec.QmpEvent;
import dev.tickwatch.testing.FakeQmpPeer;
import dev.tickwatch.testing.FakeQmpPeer.Fault;
import dev.tickwatch.testing.QmpTranscript;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The client against a fake peer replaying a transcript recorded from QEMU 7.2. */
class QmpClientTest {

    private static final QmpTranscript SESSION = QmpTranscript.load("session-7.2.txt");

    private static Throwable failureOf(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void replayedSessionGivesTypedResults() {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION); QmpClient qmp = QmpClient.connect(peer.endpoint())) {
            assertEquals("7.2.22", qmp.greeting().qemuVersion());
            assertEquals(new QmpStatus("running", true), qmp.queryStatus());
            List<QmpCpu> cpus = qmp.queryCpusFast();
            assertEquals(2, cpus.size());
            assertEquals(1, cpus.get(1).cpuIndex());
            assertTrue(cpus.get(0).threadId() > 0);
            assertTrue(qmp.hmp("info registers -a").contains("CPU#1"));
            // The first command the peer saw is the capability negotiation, with an id.
            assertEquals("qmp_capabilities", peer.received().get(0).path("execute").asText());
            assertTrue(peer.received().get(0).has("id"));
        }
    }

    @Test
    void errorsCarryQemusErrorClass() {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION); QmpClient qmp = QmpClient.connect(peer.endpoint())) {
            QmpCommandException e = assertThrows(QmpCommandException.class, () -> qmp.execute("no-such-command"));
            assertEquals("CommandNotFound", e.errorClass());
            assertEquals("no-such-command", e.command());
            QmpCommandException m = assertThrows(QmpCommandException.class,
                    () -> qmp.memsave(0, 4096, Path.of("/tmp/x"), -1));
            assertEquals("GenericError", m.errorClass());
            assertTrue(m.description().startsWith("Invalid addr"), m.description());
        }
    }

    @Test
    void eventBeforeItsReplyReachesListenersAndHistory() throws Exception {
        List<QmpEvent> events = new CopyOnWriteArrayList<>();
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION);
             QmpClient qmp = QmpClient.connect(peer.endpoint(), QmpOptions.builder().eventListener(events::add).build())) {
            CompletableFuture<QmpEvent> stop = qmp.nextEvent("STOP", e -> true);
            qmp.stop();
            assertEquals("STOP", stop.get(5, TimeUnit.SECONDS).name());
            assertEquals("STOP", events.get(0).name());
            assertEquals(List.of("STOP"), qmp.recentEvents().stream().map(QmpEvent::name).toList());
        }
    }

    @Test
    void peerClosingMidReplyFailsThePendingCommand() {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION).fault("query-cpus-fast", Fault.CLOSE_MID_REPLY);
             QmpClient qmp = QmpClient.connect(peer.endpoint())) {
            CompletableFuture<JsonNode> cpus = qmp.executeAsync("query-cpus-fast", null);
            Throwable t = failureOf(cpus);
            assertInstanceOf(ConnectionException.class, t);
            assertTrue(t.getMessage().contains("'query-cpus-fast'"), t.getMessage());
            await().atMost(Duration.ofSeconds(5)).until(() -> qmp.closeFuture().isDone());
            // Later commands fail at once instead of hanging.
            assertInstanceOf(ConnectionException.class, failureOf(qmp.executeAsync("query-status", null)));
        }
    }

    @Test
    void silentPeerTimesOutNamingCommandAndDuration() {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION).fault("query-status", Fault.SILENT);
             QmpClient qmp = QmpClient.connect(peer.endpoint())) {
            Throwable t = failureOf(qmp.executeAsync("query-status", null, Duration.ofMillis(300)));
            CommandTimeoutException e = assertInstanceOf(CommandTimeoutException.class, t);
            assertEquals("QMP command 'query-status' timed out after 300 ms", e.getMessage());
            // The connection is still usable after a timeout.
            assertEquals(2, qmp.queryCpusFast().size());
        }
    }

    @Test
    void garbageFailsTheCommandWithACodecError() {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION).fault("query-status", Fault.GARBAGE);
             QmpClient qmp = QmpClient.connect(peer.endpoint())) {
            Throwable t = failureOf(qmp.executeAsync("query-status", null));
            assertInstanceOf(ProtocolException.class, t);
            assertTrue(t.getMessage().startsWith("garbled QMP data from tcp:127.0.0.1:"), t.getMessage());
        }
    }

    @Test
    void peerThatIsNotQmpIsToldApart() {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION).greeting("+$T02thread:p01.01;#c5")) {
            ProtocolException e = assertThrows(ProtocolException.class, () -> QmpClient.connect(peer.endpoint()));
            assertTrue(e.getMessage().contains("does not speak QMP"), e.getMessage());
        }
    }

    @Test
    void peerThatNeverGreetsSuggestsAnotherClient() {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION).greeting("")) {
            CommandTimeoutException e = assertThrows(CommandTimeoutException.class, () -> QmpClient.connect(peer.endpoint(),
                    QmpOptions.builder().connectTimeout(Duration.ofMillis(300)).build()));
            assertTrue(e.getMessage().contains("another client"), e.getMessage());
        }
    }

    @Test
    void wrongSocketPathIsOneClearLine() {
        ConnectionException e = assertThrows(ConnectionException.class,
                () -> QmpClient.connect(Endpoint.parse("unix:/nonexistent/qmp.sock")));
        assertEquals("cannot connect to unix:/nonexistent/qmp.sock: no such socket", e.getMessage());
    }

    @Test
    void tooManyCommandsInFlightFailFast() {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION).fault("query-status", Fault.SILENT);
             QmpClient qmp = QmpClient.connect(peer.endpoint(), QmpOptions.builder().maxPending(2).build())) {
            qmp.executeAsync("query-status", null);
            qmp.executeAsync("query-status", null);
            Throwable t = failureOf(qmp.executeAsync("query-status", null));
            assertTrue(t.getMessage().startsWith("too many QMP commands in flight"), t.getMessage());
        }
    }

    @Test
    void commandsHeldBackGoOutWhenTheBurstEndsAndAreAnsweredInOrder() throws Exception {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION); QmpClient a = QmpClient.connect(peer.endpoint());
             QmpClient b = QmpClient.connect(peer.endpoint())) {
            int before = peer.received().size();
            List<CompletableFuture<String>> replies = new java.util.ArrayList<>();
            dev.tickwatch.net.Transports.held(() -> {
                replies.add(a.hmpAsync("info registers -a", -1));
                replies.add(b.hmpAsync("info registers -a", -1));
                replies.add(a.hmpAsync("info lapic", 0));
                // Waiting here would wait for good: the commands leave only when the burst ends.
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.hmp("info lapic", 0));
                assertTrue(e.getMessage().contains("held back"), e.getMessage());
                // The peer answers whatever reaches it: had anything gone out, its reply would be here soon.
                await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2))
                        .until(() -> peer.received().size() == before && replies.stream().noneMatch(CompletableFuture::isDone));
            });
            for (CompletableFuture<String> r : replies) {
                r.get(10, TimeUnit.SECONDS);
            }
            assertTrue(replies.get(0).get().contains("CPU#1"));
            assertTrue(replies.get(1).get().contains("CPU#1"));
            assertTrue(replies.get(2).get().contains("LVT0"), replies.get(2).get());
            assertEquals(before + 3, peer.received().size(), "the three held commands, nothing else");
            // Outside a burst, commands go at once again.
            assertTrue(a.hmp("info registers -a").contains("CPU#0"));
        }
    }
}
