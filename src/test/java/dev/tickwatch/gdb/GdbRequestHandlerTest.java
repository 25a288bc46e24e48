package dev.tickwatch.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.CommandTimeoutException;
import dev.tickwatch.ConnectionException;
import dev.tickwatch.ProtocolException;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.gdb.codec.Rsp;
import dev.tickwatch.gdb.codec.RspAck;
import dev.tickwatch.gdb.codec.RspAckHandler;
import dev.tickwatch.gdb.codec.RspConsole;
import dev.tickwatch.gdb.codec.RspInvalid;
import dev.tickwatch.gdb.codec.RspNotification;
import dev.tickwatch.gdb.codec.RspPacket;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The request/reply matching alone, on an {@link EmbeddedChannel}: the messages are what the codec hands up. */
class GdbRequestHandlerTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final List<String> stops = new ArrayList<>();
    private final RspAckHandler acks = new RspAckHandler();

    private EmbeddedChannel channel(int maxPending) {
        EmbeddedChannel ch = new EmbeddedChannel(acks, new GdbRequestHandler("fake:stub", acks, maxPending,
                (reply, asked) -> stops.add((asked ? "asked " : "unsolicited ") + reply)));
        ch.freezeTime();
        return ch;
    }

    private static GdbRequest send(EmbeddedChannel ch, String command, GdbRequest.Kind kind) {
        GdbRequest r = new GdbRequest(command, kind, TIMEOUT);
        ch.writeAndFlush(r);
        return r;
    }

    private static Throwable failure(GdbRequest r) {
        assertTrue(r.future.isCompletedExceptionally(), r + " failed");
        try {
            r.future.join();
            throw new AssertionError("not failed");
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    private static String text(GdbRequest r) {
        return new String(r.future.join(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void theRequestsPacketGoesDownAndTheNextReplyAnswersIt() {
        EmbeddedChannel ch = channel(8);
        GdbRequest g = send(ch, "g", GdbRequest.Kind.REPLY);
        assertEquals(RspPacket.of("g"), ch.readOutbound());
        assertFalse(g.accepted.isDone());
        ch.writeInbound(RspAck.ACK);
        assertTrue(g.accepted.isDone(), "the stub's '+' is the proof it took the packet");
        assertFalse(g.future.isDone(), "an ack never answers");
        ch.writeInbound(RspPacket.of("0102"));
        assertEquals("0102", text(g));
        assertEquals(RspAck.ACK, ch.readOutbound(), "our ack for the reply");
    }

    @Test
    void unsolicitedPacketsNeverAnswerARequest() {
        EmbeddedChannel ch = channel(8);
        GdbRequest g = send(ch, "g", GdbRequest.Kind.REPLY);
        ch.writeInbound(RspPacket.of("T02thread:01;"));
        ch.writeInbound(new RspConsole("chatter\n".getBytes(StandardCharsets.UTF_8)));
        ch.writeInbound(new RspNotification("Stop:T05thread:p01.01;".getBytes(StandardCharsets.ISO_8859_1)));
        ch.writeInbound(RspAck.ACK);
        assertFalse(g.future.isDone(), "stop reply, console, notification and ack are not the answer to g");
        assertEquals(List.of("unsolicited T02thread:01;"), stops);
        ch.writeInbound(RspPacket.of("40ad"));
        assertEquals("40ad", text(g));
        // Nothing waits: a late packet is dropped, not kept for the next request.
        ch.writeInbound(RspPacket.of("OK"));
        GdbRequest next = send(ch, "Hgp01.01", GdbRequest.Kind.REPLY);
        assertFalse(next.future.isDone());
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() {
        EmbeddedChannel ch = channel(8);
        GdbRequest a = send(ch, "m0,1", GdbRequest.Kind.REPLY);
        GdbRequest b = send(ch, "m1,1", GdbRequest.Kind.REPLY);
        GdbRequest c = send(ch, "m2,1", GdbRequest.Kind.REPLY);
        ch.writeInbound(RspPacket.of("aa"), RspPacket.of("E14"), RspPacket.of(""));
        assertEquals("aa", text(a));
        GdbErrorException e = assertInstanceOf(GdbErrorException.class, failure(b));
        assertEquals(0x14, e.code());
        assertInstanceOf(GdbUnsupportedException.class, failure(c));
    }

    @Test
    void stopRepliesAnswerOnlyWhatAsksForOne() {
        EmbeddedChannel ch = channel(8);
        List<String> answers = new ArrayList<>();
        GdbRequest[] self = new GdbRequest[1];
        GdbRequest run = new GdbRequest("vCont;c", GdbRequest.Kind.RUN, TIMEOUT, reply -> answers.add(
                new String(reply, StandardCharsets.ISO_8859_1) + (self[0].future.isDone() ? " after" : " before")));
        self[0] = run;
        ch.writeAndFlush(run);
        ch.advanceTimeBy(1, TimeUnit.HOURS);
        ch.runScheduledPendingTasks();
        assertFalse(run.future.isDone(), "a continue has no timeout: its answer is the next stop");
        assertTrue(ch.isOpen());
        ch.writeInbound(RspPacket.of("T02thread:p01.01;"));
        assertEquals("T02thread:p01.01;", text(run));
        assertEquals(List.of("T02thread:p01.01; before"), answers, "the run state is updated before the waiter wakes");

        GdbRequest query = send(ch, "?", GdbRequest.Kind.STOP_QUERY);
        ch.writeInbound(RspPacket.of("T05thread:p01.01;"));
        assertEquals("T05thread:p01.01;", text(query));
        assertEquals(List.of("asked T02thread:p01.01;", "asked T05thread:p01.01;"), stops);
    }

    @Test
    void monitorOutputIsCollectedFromConsolePacketsUntilOk() {
        EmbeddedChannel ch = channel(8);
        GdbRequest mon = send(ch, "qRcmd," + Rsp.hex("info status"), GdbRequest.Kind.MONITOR);
        ch.writeInbound(new RspConsole("VM status: ".getBytes(StandardCharsets.UTF_8)));
        ch.writeInbound(RspPacket.of("T02thread:p01.01;"));
        ch.writeInbound(new RspConsole("paused\r\n".getBytes(StandardCharsets.UTF_8)));
        assertFalse(mon.future.isDone());
        ch.writeInbound(RspPacket.of("OK"));
        assertEquals("VM status: paused\r\n", text(mon));
        assertEquals(List.of("unsolicited T02thread:p01.01;"), stops);
    }

    @Test
    void aDisconnectFailsEveryPendingRequest() {
        EmbeddedChannel ch = channel(8);
        GdbRequest a = send(ch, "g", GdbRequest.Kind.REPLY);
        GdbRequest b = send(ch, "m0,10", GdbRequest.Kind.REPLY);
        GdbRequest run = send(ch, "vCont;c", GdbRequest.Kind.RUN);
        ch.close();
        for (GdbRequest r : List.of(a, b, run)) {
            ConnectionException e = assertInstanceOf(ConnectionException.class, failure(r));
            assertEquals("connection to fake:stub lost while waiting for the reply to '" + r.command + "'", e.getMessage());
        }
    }

    @Test
    void aCloseOfOursSaysClosed() {
        GdbRequestHandler handler = new GdbRequestHandler("fake:stub", acks, 8, (r, a) -> { });
        EmbeddedChannel ch = new EmbeddedChannel(acks, handler);
        GdbRequest a = send(ch, "D;1", GdbRequest.Kind.REPLY);
        handler.closing();
        ch.close();
        assertTrue(failure(a).getMessage().contains(" closed while waiting for the reply to 'D;1'"), failure(a).getMessage());
    }

    @Test
    void theQueueIsBounded() {
        EmbeddedChannel ch = channel(2);
        GdbRequest a = send(ch, "g", GdbRequest.Kind.REPLY);
        GdbRequest b = send(ch, "g", GdbRequest.Kind.REPLY);
        GdbRequest c = new GdbRequest("g", GdbRequest.Kind.REPLY, TIMEOUT);
        ChannelFuture written = ch.writeAndFlush(c);
        Throwable e = failure(c);
        assertInstanceOf(TickwatchException.class, e);
        assertEquals("too many GDB requests in flight: 2", e.getMessage());
        assertFalse(written.isSuccess(), "its packet was not sent");
        ch.writeInbound(RspPacket.of("01"), RspPacket.of("02"));
        assertEquals("01", text(a));
        assertEquals("02", text(b));
        assertTrue(ch.isOpen());
    }

    @Test
    void aTimedOutRequestClosesTheConnectionSoThatALateReplyAnswersNothing() {
        EmbeddedChannel ch = channel(8);
        GdbRequest g = new GdbRequest("g", GdbRequest.Kind.REPLY, Duration.ofMillis(300));
        GdbRequest next = send(ch, "Hgp01.02", GdbRequest.Kind.REPLY);
        ch.writeInbound(RspPacket.of("OK"));
        ch.writeAndFlush(g);
        ch.advanceTimeBy(299, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertFalse(g.future.isDone());
        assertEquals("OK", text(next));
        ch.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        CommandTimeoutException e = assertInstanceOf(CommandTimeoutException.class, failure(g));
        assertEquals("g", e.command());
        assertEquals("GDB command 'g' timed out after 300 ms", e.getMessage());
        assertFalse(ch.isOpen());
    }

    @Test
    void anAnsweredRequestsTimerIsCancelled() {
        EmbeddedChannel ch = channel(8);
        GdbRequest g = new GdbRequest("g", GdbRequest.Kind.REPLY, Duration.ofMillis(300));
        ch.writeAndFlush(g);
        ch.writeInbound(RspPacket.of("00"));
        ch.advanceTimeBy(1, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertEquals("00", text(g));
        assertTrue(ch.isOpen(), "no timeout fired for an answered request");
    }

    @Test
    void garbageWithoutAcksFailsTheOldestRequest() {
        acks.disableAcks();
        EmbeddedChannel ch = channel(8);
        GdbRequest g = send(ch, "g", GdbRequest.Kind.REPLY);
        assertTrue(g.accepted.isDone(), "without acks a written packet counts as taken");
        GdbRequest p = send(ch, "p10", GdbRequest.Kind.REPLY);
        ch.writeInbound(new RspInvalid("bad checksum", "40ad", true));
        ProtocolException e = assertInstanceOf(ProtocolException.class, failure(g));
        assertTrue(e.getMessage().contains("bad checksum"), e.getMessage());
        assertFalse(p.future.isDone());
        ch.writeInbound(RspPacket.of("0b7a"));
        assertEquals("0b7a", text(p));
        assertNull(ch.readInbound(), "nothing passes the handler");
    }

    @Test
    void aBadPacketWithAcksIsAskedForAgainAndAnswersNothing() {
        EmbeddedChannel ch = channel(8);
        GdbRequest g = send(ch, "g", GdbRequest.Kind.REPLY);
        ch.writeInbound(new RspInvalid("bad checksum", "40ad", true));
        assertFalse(g.future.isDone());
        ch.writeInbound(RspPacket.of("40ad"));
        assertEquals("40ad", text(g));
    }
}
