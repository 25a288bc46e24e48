package dev.tickwatch.gdb.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.testing.RspTranscript;
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
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Property tests of the RSP decoder on random bytes, on RSP-like noise and on mutations of a real
 * QEMU 7.2 session: nothing escapes but {@link RspMessage}s (no exception), the memory held stays
 * under the packet limit, and every well-formed frame survives any split of the stream.
 */
class RspDecoderFuzzTest {

    private static final int LIMIT = 8192;
    private static final byte[] REAL = RspTranscript.load("session-7.2.txt").stubStream();

    private static List<RspMessage> decode(byte[] data, List<Integer> cuts) {
        RspDecoder decoder = new RspDecoder(LIMIT, null);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        int[] points = cuts.stream().mapToInt(c -> Math.floorMod(c, data.length + 1)).sorted().distinct().toArray();
        int[] all = Arrays.copyOf(points, points.length + 1);
        all[points.length] = data.length;
        int from = 0;
        List<RspMessage> out = new ArrayList<>();
        for (int p : all) {
            if (p > from) {
                // Any exception here fails the property: the decoder must never throw.
                ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(data, from, p)));
                assertTrue(decoder.bufferedBytes() <= LIMIT, "decoder holds " + decoder.bufferedBytes() + " bytes");
                from = p;
            }
            drain(ch, out);
        }
        ch.finish();
        drain(ch, out);
        return out;
    }

    private static void drain(EmbeddedChannel ch, List<RspMessage> out) {
        for (Object o; (o = ch.readInbound()) != null; ) {
            assertTrue(o instanceof RspMessage, "not an RspMessage: " + o);
            out.add((RspMessage) o);
        }
    }

    @Property(tries = 300)
    void randomBytesGiveOnlyMessages(@ForAll @Size(max = 30000) byte[] data, @ForAll @Size(max = 20) List<Integer> cuts) {
        decode(data, cuts);
    }

    @Provide
    Arbitrary<byte[]> rspish() {
        return Arbitraries.strings().withChars("$#}*%+-0123abcfOKT:;\u0003 ~").ofMaxLength(20000)
                .map(s -> s.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Property(tries = 300)
    void rspLikeNoiseGivesOnlyMessages(@ForAll("rspish") byte[] data, @ForAll @Size(max = 20) List<Integer> cuts) {
        decode(data, cuts);
    }

    @Property(tries = 200)
    void mutatedRealSessionGivesOnlyMessagesAndRecovers(@ForAll @Size(min = 1, max = 30) List<@IntRange(min = 0) Integer> positions,
            @ForAll @Size(min = 1, max = 30) List<Byte> values, @ForAll @Size(max = 20) List<Integer> cuts) {
        byte[] data = REAL.clone();
        for (int i = 0; i < positions.size(); i++) {
            data[positions.get(i) % data.length] = values.get(i % values.size());
        }
        List<RspMessage> out = decode(data, cuts);
        // Mutations spoil a few frames at most; the rest of the session still decodes.
        long good = out.stream().filter(m -> m instanceof RspPacket || m instanceof RspConsole).count();
        assertTrue(good >= expectedFrames() - 3L * positions.size(), good + " of " + expectedFrames());
    }

    private static long expectedFrames() {
        return decode(REAL, List.of()).stream().filter(m -> m instanceof RspPacket || m instanceof RspConsole).count();
    }

    @Property(tries = 300)
    void everyWellFormedFrameSurvivesAnySplit(@ForAll @Size(max = 40) List<Integer> cuts) {
        List<RspMessage> whole = decode(REAL, List.of());
        assertTrue(whole.stream().noneMatch(m -> m instanceof RspInvalid), "the real session decodes cleanly");
        assertEquals(whole, decode(REAL, cuts));
    }

    @Property(tries = 300)
    void encodedPacketsDecodeToThemselves(@ForAll @Size(max = 3000) byte[] payload, @ForAll @Size(max = 10) List<Integer> cuts) {
        EmbeddedChannel enc = new EmbeddedChannel(new RspEncoder());
        enc.writeOutbound(new RspPacket(payload));
        io.netty.buffer.ByteBuf b = enc.readOutbound();
        byte[] wire = new byte[b.readableBytes()];
        b.readBytes(wire);
        b.release();
        List<RspMessage> out = decode(wire, cuts);
        assertEquals(1, out.size());
        RspMessage m = out.get(0);
        byte[] got = m instanceof RspConsole c ? ("O" + Rsp.hex(c.output())).getBytes(StandardCharsets.ISO_8859_1)
                : ((RspPacket) m).payload();
        assertTrue(Arrays.equals(payload, got) || isHexConsole(payload, got), "round trip changed the payload");
    }

    /** "O" plus hex decodes as console output; re-encoding lower-cases the hex. */
    private static boolean isHexConsole(byte[] sent, byte[] got) {
        return new String(sent, StandardCharsets.ISO_8859_1).equalsIgnoreCase(new String(got, StandardCharsets.ISO_8859_1));
    }
}
