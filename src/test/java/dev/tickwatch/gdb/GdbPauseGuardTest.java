package dev.tickwatch.gdb;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.CommandTimeoutException;
import dev.tickwatch.ConnectionException;
import dev.tickwatch.testing.FakeGdbStub;
import dev.tickwatch.testing.RspTranscript;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Every way out of a pause against the fake QEMU 7.2 stub: the VM is resumed exactly once, by
 * {@code vCont;c}, by the one {@code D;1}, or, when the stub is gone, by the fallback; a VM found
 * paused is left alone. Counted from what the stub received and how often the fallback ran.
 */
class GdbPauseGuardTest {

    private static final RspTranscript SESSION = RspTranscript.load("session-7.2.txt");
    private static final String QSUPPORTED = "qSupported:multiprocess+;vContSupported+";

    private final AtomicInteger fallbacks = new AtomicInteger();

    private GdbOptions.Builder options() {
        return GdbOptions.builder().shutdownHook(false).fallbackResume(() -> {
            fallbacks.incrementAndGet();
            return CompletableFuture.completedFuture(null);
        });
    }

    private static long count(FakeGdbStub stub, String packet) {
        return stub.received().stream().filter(packet::equals).count();
    }

    @Test
    void theScopeResumesAndCloseDetachesOnce() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), options().build())) {
                try (GdbPause p = gdb.pause()) {
                    assertTrue(p.ours());
                    assertTrue(gdb.pausedByUs());
                }
                assertTrue(gdb.isRunning(), "the scope resumed");
            }
            assertEquals(2, count(stub, "vCont;c"), "after the attach and at the end of the scope: " + stub.received());
            assertEquals(1, count(stub, "D;1"), stub.received().toString());
            List<String> sent = stub.received();
            int d = sent.indexOf("D;1");
            assertEquals(List.of("\\x03", "+"), sent.subList(d - 2, d),
                    "stopped (and acked the stop) before D: a packet sent while the VM runs would be eaten");
            assertEquals(0, fallbacks.get());
        }
    }

    @Test
    void anExceptionInsideThePauseResumesAndCloseDetachesOnce() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), options().build())) {
                assertThrows(IllegalStateException.class, () -> {
                    try (GdbPause p = gdb.pause()) {
                        throw new IllegalStateException("boom");
                    }
                });
                assertTrue(gdb.isRunning());
            }
            assertEquals(1, count(stub, "D;1"));
            assertEquals(0, fallbacks.get());
        }
    }

    @Test
    void closingInsideThePauseDetachesOnceAndTheScopeAfterwardsSendsNothing() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            GdbClient gdb = GdbClient.connect(stub.endpoint(), options().build());
            GdbPause p = gdb.pause();
            gdb.close();
            p.close();
            gdb.close();
            assertEquals(1, count(stub, "D;1"), stub.received().toString());
            assertEquals(1, count(stub, "vCont;c"), "only the resume after the attach: " + stub.received());
            assertEquals(1, count(stub, "\\x03"), "only the pause's: " + stub.received());
            assertFalse(gdb.isOpen());
            assertEquals(0, fallbacks.get());
        }
    }

    @Test
    void theShutdownHookDetachesOnceAndCloseAfterItDoesNotDetachAgain() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), options().build()); GdbPause p = gdb.pause()) {
                gdb.emergencyRelease();
                assertFalse(gdb.pausedByUs());
                gdb.emergencyRelease();
            }
            assertEquals(1, count(stub, "D;1"), stub.received().toString());
            assertEquals(1, count(stub, "vCont;c"), "the scope's end finds the VM resumed by D");
            assertEquals(1, count(stub, "\\x03"), "only the pause's: " + stub.received());
            assertEquals(0, fallbacks.get());
        }
    }

    @Test
    void aCutConnectionRunsTheFallbackOnceInsteadOfD() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            stub.rewrite("g", frames -> List.of("CLOSE"));
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), options().build()); GdbPause p = gdb.pause()) {
                assertThrows(ConnectionException.class, () -> gdb.registers(gdb.threads().get(0)));
                await().atMost(Duration.ofSeconds(5)).until(() -> gdb.fallbackResume() != null);
                assertTrue(gdb.fallbackResume().isDone() && !gdb.fallbackResume().isCompletedExceptionally());
                assertFalse(gdb.pausedByUs(), "resumed by the fallback");
            }
            assertEquals(1, fallbacks.get());
            assertEquals(0, count(stub, "D;1"));
        }
    }

    @Test
    void aTimeoutRunsTheFallbackBeforeTheCallerHearsOfIt() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            stub.rewrite("g", frames -> List.of());
            GdbOptions o = options().requestTimeout(Duration.ofMillis(300)).build();
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), o); GdbPause p = gdb.pause()) {
                assertThrows(CommandTimeoutException.class, () -> gdb.registers(gdb.threads().get(0)));
                assertEquals(1, fallbacks.get());
                assertFalse(gdb.isOpen());
            }
            assertEquals(1, fallbacks.get());
            assertEquals(0, count(stub, "D;1"));
        }
    }

    @Test
    void aFailedDetachInTheShutdownHookRunsTheFallback() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            stub.rewrite("D;1", frames -> List.of("CLOSE"));
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), options().build()); GdbPause p = gdb.pause()) {
                gdb.emergencyRelease();
                assertEquals(1, fallbacks.get(), "the hook waited for it");
                assertFalse(gdb.isOpen());
            }
            assertEquals(1, count(stub, "D;1"));
            assertEquals(1, fallbacks.get());
        }
    }

    @Test
    void aFallbackThatThrowsIsReportedInItsFuture() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            stub.rewrite("g", frames -> List.of("CLOSE"));
            GdbOptions o = options().fallbackResume(() -> {
                throw new IllegalStateException("QMP is gone too");
            }).build();
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), o); GdbPause p = gdb.pause()) {
                assertThrows(ConnectionException.class, () -> gdb.registers(gdb.threads().get(0)));
                await().atMost(Duration.ofSeconds(5)).until(() -> gdb.fallbackResume() != null);
                assertTrue(gdb.fallbackResume().isCompletedExceptionally());
            }
        }
    }

    @Test
    void losingTheConnectionWhileTheVmRunsNeedsNoFallback() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            stub.rewrite("vCont;c", frames -> List.of("CLOSE"));
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), options().build())) {
                await().atMost(Duration.ofSeconds(5)).until(() -> gdb.closeFuture().isDone());
                assertNull(gdb.fallbackResume());
                assertThrows(ConnectionException.class, gdb::pause);
            }
            assertEquals(0, fallbacks.get());
            assertEquals(0, count(stub, "D;1"));
        }
    }

    @Test
    void aVmPausedBeforeTheAttachIsNeitherResumedNorDetached() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            // No unsolicited T02 before the first answer: QEMU's sign that the VM was paused already.
            stub.rewrite(QSUPPORTED, frames -> frames.stream().filter(f -> !RspTranscript.key(f).startsWith("T")).toList());
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), options().build())) {
                assertFalse(gdb.wasRunningAtAttach());
                assertFalse(gdb.isRunning());
                try (GdbPause p = gdb.pause()) {
                    assertFalse(p.ours());
                    assertEquals(2, gdb.registersOfAll().size());
                }
            }
            List<String> sent = stub.received();
            assertEquals(0, count(stub, "vCont;c"), sent.toString());
            assertEquals(0, count(stub, "\\x03"), sent.toString());
            assertTrue(sent.stream().noneMatch(s -> s.startsWith("D")), sent.toString());
            assertEquals(0, fallbacks.get());
        }
    }
}
