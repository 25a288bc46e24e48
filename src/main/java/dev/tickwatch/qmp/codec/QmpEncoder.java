package dev.tickwatch.qmp.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.util.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import java.io.IOException;
import java.io.OutputStream;
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
    protected void encode(ChannelHandlerContext ctx, QmpCommand command, ByteBuf out) throws IOException {
        if (frameTap != null) {
            String json = toJson(command);
            frameTap.accept(json);
            out.writeCharSequence(json, StandardCharsets.UTF_8);
        } else {
            // Every sample sends a few commands: written straight into the buffer, without the
            // wrapping object and the String of toJson (the same bytes: same mapper, same order).
            try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator((OutputStream) new ByteBufOutputStream(out))) {
                g.writeStartObject();
                g.writeStringField("execute", command.execute());
                if (command.arguments() != null) {
                    g.writeFieldName("arguments");
                    Json.MAPPER.writeTree(g, command.arguments());
                }
                if (command.id() != null) {
                    g.writeFieldName("id");
                    Json.MAPPER.writeTree(g, command.id());
                }
                g.writeEndObject();
            }
        }
        out.writeByte('\n');
    }
}
