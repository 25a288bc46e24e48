package dev.tickwatch.gdb.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The RSP codec byte by byte, as Netty's {@code RedisDecoderTest} does it. */
class RspDecoderTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String framed(String payload) {
        byte[] p = bytes(payload);
        return "$" + payload + "#" + String.format("%02x", Rsp.checksum(p, 0, p.length));
    }

    /** Feeds one byte at a time; returns what came out. */
    private static List<Object> byteByByte(EmbeddedChannel ch, String wire) {
        List<Object> out = new ArrayList<>();
        for (byte b : bytes(wire)) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            for (Object o; (o = ch.readInbound()) != null; ) {
                out.add(o);
            }
        }
        return out;
    }

    private static String outbound(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            sb.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return sb.toString();
    }

    @Test
    void packetSplitAtEveryByte() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder());
        List<Object> out = byteByByte(ch, framed("PacketSize=1000;qXfer:features:read+;multiprocess+"));
        assertEquals(List.of(RspPacket.of("PacketSize=1000;qXfer:features:read+;multiprocess+")), out);
        assertFalse(ch.finish());
    }

    @Test
    void runLengthEncodingExpandsThePreviousByte() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder());
        // GDB manual: "0* " means "0000" (' ' is 32; 32 - 29 = 3 more).
        List<Object> out = byteByByte(ch, "$0* #" + String.format("%02x", ('0' + '*' + ' ') & 0xff));
        assertEquals(List.of(RspPacket.of("0000")), out);
        // QEMU sends long zero runs in g replies like this: 'x' is 120, 91 more zeros.
        String wire = "$0*x#" + String.format("%02x", ('0' + '*' + 'x') & 0xff);
        assertEquals(List.of(RspPacket.of("0".repeat(92))), byteByByte(ch, wire));
        assertFalse(ch.finish());
    }

    @Test
    void escapesAreUndoneAndCountInTheChecksumAsSent() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder());
        // "}]" is '}' (0x7d ^ 0x20 = 0x5d), "}\x03" is '#' (0x23).
        String body = "a}]b}\u0003c";
        String wire = "$" + body + "#" + String.format("%02x", Rsp.checksum(bytes(body), 0, body.length()));
        List<Object> out = byteByByte(ch, wire);
        assertEquals(List.of(RspPacket.of("a}b#c")), out);
    }

    @Test
    void encoderEscapesWhatTheDecoderUnescapes() {
        EmbeddedChannel enc = new EmbeddedChannel(new RspEncoder());
        enc.writeOutbound(RspPacket.of("x$y#z}w*v"));
        String wire = outbound(enc);
        assertEquals("$x}\u0004y}\u0003z}]w}\nv#", wire.substring(0, wire.length() - 2));
        EmbeddedChannel dec = new EmbeddedChannel(new RspDecoder());
        assertEquals(List.of(RspPacket.of("x$y#z}w*v")), byteByByte(dec, wire));
    }

    @Test
    void badChecksumIsAFailedFrameThenTheRetransmitDecodes() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder(), new RspEncoder(), new RspAckHandler());
        String good = framed("OK");
        String bad = good.substring(0, good.length() - 1) + (good.endsWith("0") ? "1" : "0");
        List<Object> out = byteByByte(ch, bad);
        assertEquals(1, out.size());
        RspInvalid invalid = assertInstanceOf(RspInvalid.class, out.get(0));
        assertTrue(invalid.reason().startsWith("checksum"), invalid.reason());
        assertTrue(invalid.fromPacket());
        assertEquals("-", outbound(ch));
        // The connection lives on: the stub sends the packet again.
        assertEquals(List.of(RspPacket.of("OK")), byteByByte(ch, good));
        assertEquals("+", outbound(ch));
    }

    @Test
    void acksInterleavedWithPacketsAreConsumedByTheAckLayer() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder(), new RspEncoder(), new RspAckHandler());
        ch.writeOutbound(RspPacket.of("g"));
        assertEquals(framed("g"), outbound(ch));
        List<Object> out = byteByByte(ch, "+" + framed("0011") + "++" + framed("OK"));
        assertEquals(List.of(RspPacket.of("0011"), RspPacket.of("OK")), out);
        assertEquals("++", outbound(ch));
    }

    @Test
    void aNakMakesTheAckLayerSendTheLastPacketAgain() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder(), new RspEncoder(), new RspAckHandler());
        ch.writeOutbound(RspPacket.of("qSupported"));
        assertEquals(framed("qSupported"), outbound(ch));
        byteByByte(ch, "-");
        assertEquals(framed("qSupported"), outbound(ch));
        byteByByte(ch, "+");
        assertEquals("", outbound(ch));
    }

    @Test
    void aNakWithSeveralPacketsInFlightIsAProtocolError() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder(), new RspEncoder(), new RspAckHandler());
        ch.writeOutbound(RspPacket.of("m0,1"));
        ch.writeOutbound(RspPacket.of("m1,1"));
        outbound(ch);
        // Which one to send again is a guess the handler refuses to make: the pipeline gets an error.
        assertThrows(dev.tickwatch.ProtocolException.class, () -> byteByByte(ch, "-"));
    }

    @Test
    void noAckModeSendsAndExpectsNoAcks() {
        RspAckHandler acks = new RspAckHandler();
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder(), new RspEncoder(), acks);
        ch.writeOutbound(RspPacket.of("QStartNoAckMode"));
        outbound(ch);
        assertEquals(List.of(RspPacket.of("OK")), byteByByte(ch, "+" + framed("OK")));
        assertEquals("+", outbound(ch));
        acks.disableAcks();
        ch.writeOutbound(RspPacket.of("g"));
        assertEquals(framed("g"), outbound(ch));
        assertEquals(List.of(RspPacket.of("00")), byteByByte(ch, framed("00")));
        assertEquals("", outbound(ch));
        // A bad frame in no-ack mode is still reported, but not NAKed: nobody would retransmit.
        List<Object> out = byteByByte(ch, "$00#00");
        assertInstanceOf(RspInvalid.class, out.get(0));
        assertEquals("", outbound(ch));
    }

    @Test
    void notificationsAndConsoleOutputBetweenReplies() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder(), new RspEncoder(), new RspAckHandler());
        String note = "%Stop:T05thread:p01.01;";
        byte[] np = bytes(note.substring(1));
        String wire = framed("O" + Rsp.hex("VM status: paused\n"))
                + "%" + note.substring(1) + "#" + String.format("%02x", Rsp.checksum(np, 0, np.length))
                + framed("OK");
        List<Object> out = byteByByte(ch, wire);
        assertEquals(3, out.size());
        assertEquals("VM status: paused\n", assertInstanceOf(RspConsole.class, out.get(0)).text());
        assertEquals("Stop:T05thread:p01.01;", assertInstanceOf(RspNotification.class, out.get(1)).text());
        assertEquals(RspPacket.of("OK"), out.get(2));
        // Packets are acknowledged, notifications are not.
        assertEquals("++", outbound(ch));
    }

    @Test
    void interruptByteAndNoiseBetweenFrames() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder());
        List<Object> out = byteByByte(ch, "\r\nxx\u0003" + framed("S05"));
        assertEquals(List.of(RspInterrupt.INSTANCE, RspPacket.of("S05")), out);
    }

    @Test
    void oversizedPacketIsSkippedWithBoundedMemory() {
        RspDecoder decoder = new RspDecoder(64, null);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        String big = "a".repeat(1000);
        List<Object> out = new ArrayList<>();
        for (byte b : bytes(framed(big) + framed("OK"))) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            assertTrue(decoder.bufferedBytes() <= 64 + 1, "holds " + decoder.bufferedBytes());
            for (Object o; (o = ch.readInbound()) != null; ) {
                out.add(o);
            }
        }
        assertEquals(2, out.size());
        assertTrue(assertInstanceOf(RspInvalid.class, out.get(0)).reason().contains("expected: <= 64"));
        assertEquals(RspPacket.of("OK"), out.get(1));
        // Run-length expansion counts against the limit too.
        List<Object> rle = byteByByte(ch, framed("0*~0*~0*~"));
        assertInstanceOf(RspInvalid.class, rle.get(0));
    }

    @Test
    void truncatedFrameAtEndOfStreamIsReported() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(bytes("$T05thr")));
        assertNull(ch.readInbound());
        assertTrue(ch.finish());
        assertTrue(assertInstanceOf(RspInvalid.class, ch.readInbound()).reason().contains("truncated"));
    }

    @Test
    void restartedFrameReportsTheFirstAndKeepsTheSecond() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder());
        List<Object> out = byteByByte(ch, "$abc" + framed("OK"));
        assertEquals(2, out.size());
        assertInstanceOf(RspInvalid.class, out.get(0));
        assertEquals(RspPacket.of("OK"), out.get(1));
    }

    @Test
    void limitsAreCheckedInTheConstructor() {
        assertThrows(IllegalArgumentException.class, () -> new RspDecoder(10, null));
        assertThrows(IllegalArgumentException.class, () -> new RspAckHandler(-1));
    }

    @Test
    void transcriptTapSeesFramesAsSent() {
        List<String> frames = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(new RspDecoder(RspDecoder.DEFAULT_MAX_PACKET_LENGTH, frames::add));
        byteByByte(ch, "+" + framed("0*\"") + "\u0003");
        assertEquals(List.of("+", framed("0*\""), "\\x03"), frames);
        assertEquals("0*\"", new String(Rsp.unwire(framed("0*\"")), StandardCharsets.ISO_8859_1).substring(1, 4));
    }
}
