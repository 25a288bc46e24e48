package dev.tickwatch.qmp.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QmpDecoderTest {

    private static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, "
            + "\"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7+deb12u18\"}, \"capabilities\": [\"oob\"]}}\r\n";

    private static List<QmpMessage> feedByteByByte(EmbeddedChannel ch, String text) {
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        List<QmpMessage> out = new ArrayList<>();
        for (Object o; (o = ch.readInbound()) != null; ) {
            out.add((QmpMessage) o);
        }
        return out;
    }

    @Test
    void greetingOneByteAtATime() {
        EmbeddedChannel ch = new EmbeddedChannel(new QmpDecoder());
        List<QmpMessage> msgs = feedByteByByte(ch, GREETING);
        assertEquals(1, msgs.size());
        QmpGreeting g = assertInstanceOf(QmpGreeting.class, msgs.get(0));
        assertEquals("7.2.22", g.qemuVersion());
        assertEquals(List.of("oob"), g.capabilities());
        assertFalse(ch.finish());
    }

    @Test
    void eventsInterleavedWithRepliesKeepTheirOrder() {
        EmbeddedChannel ch = new EmbeddedChannel(new QmpDecoder());
        String stream = "{\"timestamp\": {\"seconds\": 1764215000, \"microseconds\": 123456}, \"event\": \"STOP\"}\r\n"
                + "{\"return\": {}, \"id\": 7}\r\n"
                + "{\"timestamp\": {\"seconds\": 1764215001, \"microseconds\": 5}, \"event\": \"RESUME\"}\r\n"
                + "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}, \"id\": 8}\r\n";
        List<QmpMessage> msgs = feedByteByByte(ch, stream);
        assertEquals(4, msgs.size());
        QmpEvent stop = assertInstanceOf(QmpEvent.class, msgs.get(0));
        assertEquals("STOP", stop.name());
        assertEquals(1764215000_123456L, stop.timestampMicros());
        assertEquals(7, assertInstanceOf(QmpReturn.class, msgs.get(1)).id().asInt());
        assertEquals("RESUME", assertInstanceOf(QmpEvent.class, msgs.get(2)).name());
        assertTrue(assertInstanceOf(QmpReturn.class, msgs.get(3)).value().path("running").asBoolean());
        assertFalse(ch.finish());
    }

    @Test
    void bracesAndQuotesInsideStringsDoNotEndTheObject() {
        EmbeddedChannel ch = new EmbeddedChannel(new QmpDecoder());
        String hmp = "{\"return\": \"CPU#0\\r\\nRIP=ffffffff81a17a0b RFL=00000246 [---Z-P-] } { \\\"x\\\" ]\\r\\n\", \"id\": 3}";
        List<QmpMessage> msgs = feedByteByByte(ch, hmp);
        QmpReturn r = assertInstanceOf(QmpReturn.class, msgs.get(0));
        assertTrue(r.value().asText().contains("} { \"x\" ]"));
        assertFalse(ch.finish());
    }

    @Test
    void errorCarriesClassDescriptionAndMissingId() {
        EmbeddedChannel ch = new EmbeddedChannel(new QmpDecoder());
        List<QmpMessage> msgs = feedByteByByte(ch,
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, expecting value\"}}\r\n"
                + "{\"id\": \"x\", \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not been found\"}}");
        QmpError e1 = assertInstanceOf(QmpError.class, msgs.get(0));
        assertNull(e1.id());
        assertEquals("GenericError", e1.errorClass());
        QmpError e2 = assertInstanceOf(QmpError.class, msgs.get(1));
        assertEquals("x", e2.id().asText());
        assertEquals("CommandNotFound", e2.errorClass());
        assertFalse(ch.finish());
    }

    @Test
    void truncatedObjectAtCloseIsReported() {
        EmbeddedChannel ch = new EmbeddedChannel(new QmpDecoder());
        ch.writeInbound(Unpooled.copiedBuffer("{\"return\": {}, \"id\": 1}\r\n{\"return\": {\"sta", StandardCharsets.UTF_8));
        assertInstanceOf(QmpReturn.class, ch.readInbound());
        assertNull(ch.readInbound());
        assertTrue(ch.finish());
        QmpInvalid bad = assertInstanceOf(QmpInvalid.class, ch.readInbound());
        assertTrue(bad.reason().startsWith("truncated object at end of stream"), bad.reason());
        assertTrue(bad.excerpt().startsWith("{\"return\""), bad.excerpt());
    }

    @Test
    void oversizedObjectIsSkippedAndTheStreamStaysInSync() {
        EmbeddedChannel ch = new EmbeddedChannel(new QmpDecoder(100, null));
        String big = "{\"return\": \"" + "A".repeat(500) + "{}}\", \"id\": 1}\r\n";
        List<QmpMessage> msgs = feedByteByByte(ch, big + "{\"return\": {}, \"id\": 2}\r\n");
        assertEquals(2, msgs.size(), msgs.toString());
        QmpInvalid bad = assertInstanceOf(QmpInvalid.class, msgs.get(0));
        assertTrue(bad.reason().contains("(expected: <= 100)"), bad.reason());
        assertEquals(2, assertInstanceOf(QmpReturn.class, msgs.get(1)).id().asInt());
        assertFalse(ch.finish());
    }

    @Test
    void oversizedObjectInOneChunkIsAlsoSkipped() {
        EmbeddedChannel ch = new EmbeddedChannel(new QmpDecoder(100, null));
        ch.writeInbound(Unpooled.copiedBuffer("{\"return\": \"" + "B".repeat(300) + "\", \"id\": 1}{\"return\": 5, \"id\": 2}",
                StandardCharsets.UTF_8));
        assertInstanceOf(QmpInvalid.class, ch.readInbound());
        assertEquals(5, ((QmpReturn) ch.readInbound()).value().asInt());
        assertFalse(ch.finish());
    }

    @Test
    void garbageBetweenObjectsBecomesOneInvalidMessage() {
        EmbeddedChannel ch = new EmbeddedChannel(new QmpDecoder());
        List<QmpMessage> msgs = feedByteByByte(ch, "$T02thread:p01.01;#c5 hello{\"return\": {}, \"id\": 4}");
        assertEquals(2, msgs.size(), msgs.toString());
        QmpInvalid bad = assertInstanceOf(QmpInvalid.class, msgs.get(0));
        assertTrue(bad.reason().startsWith("garbage between messages"), bad.reason());
        assertTrue(bad.excerpt().startsWith("$"), bad.excerpt());
        assertEquals(4, assertInstanceOf(QmpReturn.class, msgs.get(1)).id().asInt());
        assertFalse(ch.finish());
    }

    @Test
    void malformedJsonAndNonQmpObjectsAreInvalidNotFatal() {
        EmbeddedChannel ch = new EmbeddedChannel(new QmpDecoder());
        List<QmpMessage> msgs = feedByteByByte(ch, "{\"return\": tru}{\"hello\": 1}{\"return\": true, \"id\": 9}");
        assertEquals(3, msgs.size());
        assertTrue(assertInstanceOf(QmpInvalid.class, msgs.get(0)).reason().startsWith("malformed JSON"));
        assertTrue(assertInstanceOf(QmpInvalid.class, msgs.get(1)).reason().contains("[hello]"));
        assertTrue(assertInstanceOf(QmpReturn.class, msgs.get(2)).value().asBoolean());
        assertFalse(ch.finish());
    }

    @Test
    void encoderWritesOneCompactLineWithId() {
        EmbeddedChannel ch = new EmbeddedChannel(new QmpEncoder());
        ch.writeOutbound(new QmpCommand("memsave", dev.tickwatch.util.Json.object()
                .put("val", 0xffffffff81000000L).put("size", 4096), com.fasterxml.jackson.databind.node.LongNode.valueOf(5)));
        io.netty.buffer.ByteBuf b = ch.readOutbound();
        String s = b.toString(StandardCharsets.UTF_8);
        b.release();
        // Kernel addresses go out as signed 64-bit integers: QEMU refuses anything above 2^63-1.
        assertEquals("{\"execute\":\"memsave\",\"arguments\":{\"val\":-2130706432,\"size\":4096},\"id\":5}\n"
                .replace("-2130706432", Long.toString(0xffffffff81000000L)), s);
        assertFalse(ch.finish());
    }
}
