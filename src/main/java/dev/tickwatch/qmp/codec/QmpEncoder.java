package dev.tickwatch.qmp.codec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.util.Json;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/** Writes a {@link QmpCommand} as one compact JSON object and a newline (QMP spec, 2.3). */
public final class QmpEncoder extends MessageToByteEncoder<QmpCommand> {

    private final Consumer<String> frameTap;

    public QmpEncoder() {
        this(null);
    }

    /** @param frameTap receives the text of every command sent (for transcripts), or null */
    public QmpEncoder(Consumer<String> frameTap) {
        super(QmpCommand.class);
        this.frameTap = frameTap;
    }

    public static String toJson(QmpCommand command) {
        ObjectNode node = Json.object();
        node.put("execute", command.execute());
        if (command.arguments() != null) {
            node.set("arguments", command.arguments());
        }
        if (command.id() != null) {
            node.set("id", command.id());
        }
        return Json.compact(node);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, QmpCommand command, ByteBuf out) {
        String json = toJson(command);
        if (frameTap != null) {
            frameTap.accept(json);
        }
        out.writeCharSequence(json, StandardCharsets.UTF_8);
        out.writeByte('\n');
    }
}
