package dev.tickwatch.qmp.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.util.Json;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The encoder's direct path writes exactly the bytes of {@link QmpEncoder#toJson}, which transcripts keep. */
class QmpEncoderTest {

    private static String wire(QmpEncoder encoder, QmpCommand c) {
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        ch.writeOutbound(c);
        StringBuilder sb = new StringBuilder();
        for (ByteBuf b; (b = ch.readOutbound()) != null; b.release()) {
            sb.append(b.toString(StandardCharsets.UTF_8));
        }
        ch.finishAndReleaseAll();
        return sb.toString();
    }

    @Test
    void sameBytesWithAndWithoutATap() {
        ObjectNode hmp = Json.object().put("command-line", "info lapic 1").put("cpu-index", 1);
        ObjectNode odd = Json.object().put("filename", "/tmp/ä \"q\" \\ \n\u0001").put("val", 0xffffffff81000000L);
        odd.putArray("keys").add(Json.object().put("type", "qcode").put("data", "ctrl"));
        List<QmpCommand> commands = List.of(new QmpCommand("query-status", null, LongNode.valueOf(7)),
                new QmpCommand("human-monitor-command", hmp, LongNode.valueOf(Long.MAX_VALUE)),
                new QmpCommand("memsave", odd, null), new QmpCommand("qmp_capabilities", null, null),
                new QmpCommand("x", Json.object(), Json.MAPPER.getNodeFactory().textNode("abc")));
        for (QmpCommand c : commands) {
            List<String> tapped = new ArrayList<>();
            String withTap = wire(new QmpEncoder(tapped::add), c);
            String direct = wire(new QmpEncoder(), c);
            assertEquals(QmpEncoder.toJson(c) + "\n", direct);
            assertEquals(withTap, direct);
            assertEquals(List.of(QmpEncoder.toJson(c)), tapped);
        }
    }
}
