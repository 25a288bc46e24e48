package dev.tickwatch.qmp.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.testing.QmpTranscript;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Property tests of the QMP decoder on random bytes and on mutations of a real QEMU transcript:
 * nothing escapes but {@link QmpInvalid} messages, the bytes held back stay under the size limit,
 * and a well-formed stream decodes the same however it is split.
 */
class QmpDecoderFuzzTest {

    private static final int LIMIT = 8192;
    private static final byte[] REAL = QmpTranscript.load("session-7.2.txt").serverStream()
            .getBytes(StandardCharsets.UTF_8);

    /** Feeds {@code data} in chunks cut at {@code cuts}; returns the messages, checking memory as it goes. */
    private static List<QmpMessage> decode(byte[] data, List<Integer> cuts) {
        QmpDecoder decoder = new QmpDecoder(LIMIT, null);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        int[] points = cuts.stream().mapToInt(c -> Math.floorMod(c, data.length + 1)).sorted().distinct().toArray();
        int from = 0;
        List<QmpMessage> out = new ArrayList<>();
        for (int p : concat(points, data.length)) {
            if (p > from) {
                // Any exception here fails the property: the decoder must never throw.
                ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(data, from, p)));
                assertTrue(decoder.bufferedBytes() <= LIMIT + (p - from),
                        "decoder holds " + decoder.bufferedBytes() + " bytes");
                from = p;
            }
            drain(ch, out);
        }
        ch.finish();
        drain(ch, out);
        return out;
    }

    private static int[] concat(int[] a, int last) {
        int[] r = Arrays.copyOf(a, a.length + 1);
        r[a.length] = last;
        return r;
    }

    private static void drain(EmbeddedChannel ch, List<QmpMessage> out) {
        for (Object o; (o = ch.readInbound()) != null; ) {
            assertTrue(o instanceof QmpMessage, "not a QmpMessage: " + o);
            out.add((QmpMessage) o);
        }
    }

    @Property(tries = 300)
    void randomBytesGiveOnlyMessages(@ForAll @Size(max = 30000) byte[] data, @ForAll @Size(max = 20) List<Integer> cuts) {
        decode(data, cuts);
    }

    @Provide
    Arbitrary<byte[]> jsonish() {
        return Arbitraries.strings().withChars("{}[]\"\\:,  \r\nabc0123").ofMaxLength(12000)
                .map(s -> s.getBytes(StandardCharsets.UTF_8));
    }

    @Property(tries = 300)
    void jsonLikeNoiseGivesOnlyMessages(@ForAll("jsonish") byte[] data, @ForAll @Size(max = 20) List<Integer> cuts) {
        decode(data, cuts);
    }

    @Property(tries = 300)
    void mutatedTranscriptsGiveOnlyMessages(@ForAll @Size(min = 1, max = 30) List<@IntRange(min = 0, max = 1 << 20) Integer> positions,
            @ForAll @Size(min = 1, max = 30) List<Byte> values, @ForAll @Size(max = 20) List<Integer> cuts) {
        byte[] data = REAL.clone();
        for (int i = 0; i < positions.size(); i++) {
            data[positions.get(i) % data.length] = values.get(i % values.size());
        }
        List<QmpMessage> out = decode(data, cuts);
        assertTrue(!out.isEmpty());
    }

    @Property(tries = 200)
    void realStreamSurvivesAnySplit(@ForAll @Size(max = 60) List<Integer> cuts) {
        List<QmpMessage> whole = decode(REAL, List.of());
        assertEquals(whole, decode(REAL, cuts));
        assertTrue(whole.stream().noneMatch(m -> m instanceof QmpInvalid), whole.toString());
    }

    @Provide
    Arbitrary<byte[]> jsonishUnderTheLimit() {
        // Under the size limit: how much of an oversized object is left to report depends on the split.
        return Arbitraries.strings().withChars("{}[]\"\\:,  \r\nabc0123").ofMaxLength(LIMIT)
                .map(s -> s.getBytes(StandardCharsets.UTF_8));
    }

    @Property(tries = 300)
    void jsonLikeNoiseFramesTheSameWhateverTheSplit(@ForAll("jsonishUnderTheLimit") byte[] data, @ForAll @Size(max = 20) List<Integer> cuts) {
        // The string scan hops between backslashes and quotes: its state must carry across chunks.
        // (A garbage excerpt shows what had arrived by then, so excerpts may differ; nothing else.)
        assertEquals(withoutExcerpts(decode(data, List.of())), withoutExcerpts(decode(data, cuts)));
    }

    private static List<Object> withoutExcerpts(List<QmpMessage> messages) {
        return messages.stream().map(m -> m instanceof QmpInvalid i ? (Object) i.reason() : m).toList();
    }

    @Provide
    Arbitrary<List<String>> hmpTexts() {
        // What HMP replies hold: escapes, quotes, braces and brackets inside the string.
        return Arbitraries.strings().withChars("\\\"{}[]\r\n\tRIP=0f:ab ").ofMaxLength(3000).list().ofMaxSize(8);
    }

    @Property(tries = 300)
    void repliesWithEscapedStringsComeOutWhole(@ForAll("hmpTexts") List<String> texts, @ForAll @Size(max = 20) List<Integer> cuts) {
        StringBuilder stream = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            stream.append(dev.tickwatch.util.Json.compact(dev.tickwatch.util.Json.object().put("return", texts.get(i)).put("id", i)))
                    .append("\r\n");
        }
        List<QmpMessage> out = decode(stream.toString().getBytes(StandardCharsets.UTF_8), cuts);
        assertEquals(texts.size(), out.size(), out.toString());
        for (int i = 0; i < texts.size(); i++) {
            QmpReturn r = (QmpReturn) out.get(i);
            assertEquals(texts.get(i), r.value().asText());
            assertEquals(i, r.id().asInt());
        }
    }

    @Provide
    Arbitrary<List<String>> qmpLines() {
        // Lines as QEMU writes them (compact and with its ", " and ": " spacing), and every way a
        // line can be something else: pretty-printed objects, two on a line, malformed, garbage.
        Arbitrary<String> text = Arbitraries.strings().withChars("\\\"{}[]\r\n\t\b\fRIP=0f:ab /\u0001\u001f\u007f\u00e9\u20ac").ofMaxLength(400);
        Arbitrary<String> reply = Arbitraries.integers().between(0, 1000).flatMap(id -> text.map(t ->
                dev.tickwatch.util.Json.compact(dev.tickwatch.util.Json.object().put("return", t).put("id", id))));
        Arbitrary<String> spaced = reply.map(r -> r.replace("\",\"id\":", "\", \"id\": ").replace("{\"return\":", "{\"return\": "));
        Arbitrary<String> event = Arbitraries.of("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}",
                "{\"event\":\"RESUME\",\"data\":{},\"timestamp\":{\"seconds\":3,\"microseconds\":4}}");
        Arbitrary<String> pretty = reply.map(r -> r.replace("{", "{\n    ").replace(",\"id\"", ",\n    \"id\"").replace("}", "\n}"));
        Arbitrary<String> two = Arbitraries.of("{\"return\": {}, \"id\": 1}{\"return\": {}, \"id\": 2}",
                "{\"return\": {}} {\"event\": \"STOP\"}");
        Arbitrary<String> bad = Arbitraries.of("{\"return\": }", "{\"a\": 1]", "{\"return\": \"x\" garbage", "{\"return\": 1} junk",
                "}{", "{}", "{\"unknown\": 1}", "{\"return\": \"unterminated");
        // Lines that look like an HMP reply and are not quite one, or are one in a form Jackson never writes.
        Arbitrary<String> odd = Arbitraries.of("{\"return\": \"a\\/b\\u0041\\u00e9\\ud83d\\ude00\\b\\f\", \"id\": 3}",
                "{\"return\": \"\\x\", \"id\": 1}", "{\"return\": \"a\", \"id\": 01}", "{\"return\": \"a\", \"id\": 1.5}",
                "{\"return\": \"a\", \"id\": -0}", "{\"return\": \"a\", \"id\": -42}", "{\"return\": \"a\", \"id\": 2147483648}",
                "{\"return\": \"a\", \"id\": 12345678901234567890}", "{\"return\": \"a\", \"id\": 123456789012345678}",
                "{\"return\": \"a\", \"id\": \"x\"}", "{\"return\": \"a\"}", "{ \"return\" : \"a\" , \"id\" : 7 } ",
                "{\"return\": \"tab\there\", \"id\": 2}", "{\"return\": \"a\", \"id\": 1e3}", "{\"return\": \"\\u00\", \"id\": 1}",
                "{\"return\": \"a\", \"id\": 1, \"x\": 2}", "{\"return\": \"a\", \"id\": }", "{\"return\": \"\\\"}\", \"id\": 5}",
                "{\"return\": \"a\\\\\", \"id\": 6}", "{\"return\": \"a\" \"id\": 6}", "{\"id\": 1, \"return\": \"a\"}",
                "{\"return\": \"x\\b\\f\\/\\u0041\\u001f\", \"id\": 3}", "{\"return\": \"x\", \"id\": 1} junk",
                "{\"return\": \"x\"}{\"return\": \"y\"}", "{\"return\": \"x\"} {}");
        Arbitrary<String> noise = Arbitraries.strings().withChars("{}[]\"\\:, abc0123").ofMaxLength(60);
        return Arbitraries.frequencyOf(Tuple.of(6, reply), Tuple.of(4, spaced), Tuple.of(2, event), Tuple.of(1, pretty),
                Tuple.of(1, two), Tuple.of(1, bad), Tuple.of(2, odd), Tuple.of(1, noise)).list().ofMaxSize(12);
    }

    @Property(tries = 200)
    void wholeLinesFrameAsTheBraceScanDoes(@ForAll("qmpLines") List<String> lines, @ForAll @Size(max = 8) List<Integer> cuts) {
        // Fed one byte at a time no line is ever whole when its object starts, so every object
        // goes through the brace scan: whatever the line framing decides must match that.
        byte[] data = (String.join("\r\n", lines) + (lines.isEmpty() ? "" : "\r\n")).getBytes(StandardCharsets.UTF_8);
        List<Integer> everyByte = new ArrayList<>();
        for (int i = 1; i < data.length; i++) {
            everyByte.add(i);
        }
        List<Object> scanned = withoutExcerpts(decode(data, everyByte));
        assertEquals(scanned, withoutExcerpts(decode(data, List.of())));
        assertEquals(scanned, withoutExcerpts(decode(data, cuts)));
    }

    @Property(tries = 300)
    void aLineReadWithoutJacksonIsWhatJacksonReads(@ForAll("qmpLines") List<String> lines) throws java.io.IOException {
        for (String line : lines) {
            byte[] b = (line + "\r\n").getBytes(StandardCharsets.UTF_8);
            QmpReturn fast = QmpDecoder.textReturn(Unpooled.wrappedBuffer(b), 0, b.length - 1);
            if (fast != null) {
                try (com.fasterxml.jackson.core.JsonParser p = dev.tickwatch.util.Json.MAPPER.createParser(b)) {
                    com.fasterxml.jackson.databind.JsonNode node = dev.tickwatch.util.Json.MAPPER.readTree(p);
                    assertEquals(null, p.nextToken(), line + ": nothing after the object");
                    assertEquals(QmpDecoder.classify(node, b), fast, line);
                }
            }
        }
    }

    @Property(tries = 200)
    void everyHmpReplyAsQemuWritesItIsReadWithoutJackson(@ForAll("hmpTexts") List<String> texts, @ForAll @IntRange(max = 100_000) int id) {
        for (String t : texts) {
            String compact = dev.tickwatch.util.Json.compact(dev.tickwatch.util.Json.object().put("return", t).put("id", id));
            for (String line : List.of(compact, compact.replace("{\"return\":", "{\"return\": ").replace("\",\"id\":", "\", \"id\": "))) {
                byte[] b = (line + "\r\n").getBytes(StandardCharsets.UTF_8);
                QmpReturn fast = QmpDecoder.textReturn(Unpooled.wrappedBuffer(b), 0, b.length - 1);
                assertEquals(new QmpReturn(com.fasterxml.jackson.databind.node.IntNode.valueOf(id),
                        com.fasterxml.jackson.databind.node.TextNode.valueOf(t)), fast, line);
            }
        }
    }
}
