package dev.tickwatch.qmp.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.ConnectionException;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.util.Json;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.handler.codec.json.JsonObjectDecoder;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-in for a QEMU QMP monitor on a unix socket (QMP spec, qmp-spec.rst section 2), for
 * benchmarks that need many guests without many QEMUs: sends the recorded greeting, then answers
 * each command with what the {@link QmpScript} recorded for it (events first, the reply with the
 * client's {@code id} put in). It models no state: {@code stop} does not pause anything and
 * commands work before {@code qmp_capabilities}. A command the script has no answer for gets a
 * {@code GenericError} naming the command, so a client fails clearly instead of waiting.
 */
public final class QmpReplayServer implements AutoCloseable {

    /** The error class of the reply to a command the script does not know. */
    public static final String NOT_RECORDED = "GenericError";
    private static final int MAX_COMMAND_LENGTH = 1 << 20;

    private final QmpScript script;
    private final Path socket;
    private final Channel server;
    private final ChannelGroup sessions = new DefaultChannelGroup(ImmediateEventExecutor.INSTANCE);
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong unknown = new AtomicLong();

    private QmpReplayServer(QmpScript script, Path socket, EventLoopGroup group) {
        this.script = script;
        this.socket = socket;
        var f = new ServerBootstrap().group(group).channel(NioServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        sessions.add(ch);
                        ch.pipeline().addLast(new JsonObjectDecoder(MAX_COMMAND_LENGTH), new Session());
                    }
                }).bind(new Endpoint.Unix(socket).socketAddress()).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new ConnectionException("cannot listen on unix:" + socket + ": " + f.cause().getMessage(), f.cause());
        }
        this.server = f.channel();
    }

    /**
     * Listens on a new unix socket at {@code socket} (which must not exist) on {@code group}'s
     * threads; many servers may share one group.
     */
    public static QmpReplayServer start(QmpScript script, Path socket, EventLoopGroup group) {
        return new QmpReplayServer(script, socket, group);
    }

    public Endpoint.Unix endpoint() {
        return new Endpoint.Unix(socket);
    }

    /** Commands answered from the script so far. */
    public long answered() {
        return answered.get();
    }

    /** Commands the script had no answer for so far. */
    public long unknown() {
        return unknown.get();
    }

    private final class Session extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(frame(script.greeting()));
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf in) {
            JsonNode cmd;
            try {
                cmd = Json.MAPPER.readTree(in.toString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // QEMU answers a parse error without an id and keeps the session.
                ctx.writeAndFlush(frame(error(null, "GenericError", "JSON parse error")));
                return;
            }
            JsonNode id = cmd.get("id");
            String key = QmpScript.key(cmd);
            List<String> recorded = script.answer(key);
            if (recorded == null) {
                unknown.incrementAndGet();
                ctx.writeAndFlush(frame(error(id, NOT_RECORDED, "qmp replay: no recorded answer for " + key)));
                return;
            }
            answered.incrementAndGet();
            for (String s : recorded) {
                ObjectNode msg = (ObjectNode) QmpScript.parseJson(s);
                // Only the reply carries an id; events keep their recorded form.
                if (msg.has("id")) {
                    if (id == null) {
                        msg.remove("id");
                    } else {
                        msg.set("id", id);
                    }
                }
                ctx.write(frame(Json.compact(msg)));
            }
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // A command over the size limit or a broken stream: the decoder cannot resync, so close.
            ctx.close();
        }
    }

    private static String error(JsonNode id, String errorClass, String desc) {
        ObjectNode err = Json.object();
        err.putObject("error").put("class", errorClass).put("desc", desc);
        if (id != null) {
            err.set("id", id);
        }
        return Json.compact(err);
    }

    private static ByteBuf frame(String json) {
        // QEMU ends every frame with CRLF.
        return Unpooled.copiedBuffer(json + "\r\n", StandardCharsets.UTF_8);
    }

    /** Stops listening, closes every session and deletes the socket file. */
    @Override
    public void close() {
        server.close().syncUninterruptibly();
        sessions.close().awaitUninterruptibly();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            throw new ConnectionException("cannot delete " + socket + ": " + e.getMessage(), e);
        }
    }
}
