package dev.tickwatch.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.ConnectionException;
import dev.tickwatch.testing.FakeGdbStub;
import dev.tickwatch.testing.RspTranscript;
import dev.tickwatch.util.Futures;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The connection alone against the fake QEMU 7.2 stub: negotiation, what cannot be sent, and the order of the end. */
class GdbConnectionTest {

    private static final RspTranscript SESSION = RspTranscript.load("session-7.2.txt");
    private static final GdbOptions OPTIONS = GdbOptions.builder().shutdownHook(false).build();

    @Test
    void negotiationReadsTheFeaturesAndSeesTheAttachStop() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            GdbConnection conn = new GdbConnection(stub.endpoint(), OPTIONS);
            conn.open(() -> { });
            try {
                assertEquals(4096, conn.packetSize());
                assertTrue(conn.multiprocess());
                assertEquals("+", conn.features().get("qXfer:features:read"));
                assertEquals("T02thread:01;", conn.lastStop(), "QEMU's unsolicited stop on attach");
                assertTrue(conn.endAttach());
                assertEquals("OK", conn.request("Hgp01.01"));
            } finally {
                conn.close();
            }
        }
    }

    @Test
    void aPacketLongerThanThePacketSizeIsRefusedUnsent() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            GdbConnection conn = new GdbConnection(stub.endpoint(), OPTIONS);
            conn.open(() -> { });
            try {
                String huge = "X" + "0".repeat(conn.packetSize());
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> conn.request(huge));
                assertEquals("packet length: 4097 (expected: <= 4096, the stub's PacketSize)", e.getMessage());
                assertFalse(stub.received().contains(huge));
            } finally {
                conn.close();
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void whenTheStubGoesAwayPendingRequestsFailThenWhenGoneRunsThenTheCloseFutureCompletes() {
        List<String> order = new CopyOnWriteArrayList<>();
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            stub.rewrite("g", frames -> List.of()).rewrite("qC", frames -> List.of("CLOSE"));
            GdbConnection conn = new GdbConnection(stub.endpoint(), OPTIONS);
            CompletableFuture<byte[]>[] pending = new CompletableFuture[1];
            conn.open(() -> order.add("whenGone, pending failed: " + pending[0].isCompletedExceptionally()));
            conn.closeFuture().thenRun(() -> order.add("closed"));
            pending[0] = conn.requestAsync("g", GdbRequest.Kind.REPLY);
            CompletableFuture<byte[]> cut = conn.requestAsync("qC", GdbRequest.Kind.REPLY);
            ConnectionException e = assertThrows(ConnectionException.class, () -> Futures.await(pending[0]));
            assertTrue(e.getMessage().contains(" lost while waiting for the reply to 'g'"), e.getMessage());
            assertThrows(ConnectionException.class, () -> Futures.await(cut));
            conn.closeFuture().join();
            assertEquals(List.of("whenGone, pending failed: true", "closed"), order);
            ConnectionException late = assertThrows(ConnectionException.class, () -> conn.request("?"));
            assertTrue(late.getMessage().startsWith("not connected to "), late.getMessage());
            conn.close();
            assertEquals(2, order.size(), "whenGone runs once");
        }
    }
}
