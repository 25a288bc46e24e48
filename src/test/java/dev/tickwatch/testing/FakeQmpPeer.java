package dev.tickwatch.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.util.Json;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A QMP server on 127.0.0.1 port 0 that replays a real QEMU transcript: the recorded greeting,
 * then, for each command, the recorded events and reply with the client's id put in. A command
 * may instead be given a {@link Fault}: what a real QEMU cannot be made to do on purpose.
 */
public final class FakeQmpPeer implements AutoCloseable {

    /** What to do instead of replaying a command's recorded answer. */
    public enum Fault {
        /** Send the first half of the reply, then close the connection. */
        CLOSE_MID_REPLY,
        /** Never answer. */
        SILENT,
        /** Answer with bytes that are not JSON. */
        GARBAGE
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Map<String, List<String>> responses;
    private final String greeting;
    private final Map<String, Fault> faults = new ConcurrentHashMap<>();
    private final List<JsonNode> received = new CopyOnWriteArrayList<>();
    private volatile String greetingOverride;
    private final Channel server;

    public FakeQmpPeer(QmpTranscript transcript) {
        this.responses = transcript.responses();
        this.greeting = transcript.greeting();
        this.server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new LineBasedFrameDecoder(1 << 20), new Session());
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    public Endpoint endpoint() {
        return new Endpoint.Tcp("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort());
    }

    public FakeQmpPeer fault(String commandKey, Fault fault) {
        faults.put(commandKey, fault);
        return this;
    }

    /** Sends {@code text} instead of the recorded greeting. */
    public FakeQmpPeer greeting(String text) {
        this.greetingOverride = text;
        return this;
    }

    /** Commands the peer received, in order. */
    public List<JsonNode> received() {
        return received;
    }

    private final class Session extends SimpleChannelInboundHandler<io.netty.buffer.ByteBuf> {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            String g = greetingOverride != null ? greetingOverride : greeting + "\r\n";
            ctx.writeAndFlush(Unpooled.copiedBuffer(g, StandardCharsets.UTF_8));
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, io.netty.buffer.ByteBuf line) {
            JsonNode cmd;
            try {
                cmd = Json.MAPPER.readTree(line.toString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            received.add(cmd);
            String key = QmpTranscript.key(cmd);
            JsonNode id = cmd.get("id");
            Fault fault = faults.get(key);
            if (fault == Fault.SILENT) {
                return;
            }
            if (fault == Fault.GARBAGE) {
                ctx.writeAndFlush(Unpooled.copiedBuffer("\u0000\u00ff<html>502 Bad Gateway</html>\r\n",
                        StandardCharsets.ISO_8859_1));
                return;
            }
            List<String> recorded = responses.get(key);
            if (recorded == null) {
                ObjectNode err = Json.object();
                err.putObject("error").put("class", "CommandNotFound")
                        .put("desc", "The command " + cmd.path("execute").asText() + " has not been found");
                err.set("id", id);
                ctx.writeAndFlush(Unpooled.copiedBuffer(Json.compact(err) + "\r\n", StandardCharsets.UTF_8));
                return;
            }
            for (String s : recorded) {
                ObjectNode msg = (ObjectNode) QmpTranscript.parse(s);
                if (msg.has("id")) {
                    msg.set("id", id);
                }
                String text = Json.compact(msg) + "\r\n";
                if (fault == Fault.CLOSE_MID_REPLY && msg.has("id")) {
                    ctx.writeAndFlush(Unpooled.copiedBuffer(text.substring(0, text.length() / 2), StandardCharsets.UTF_8))
                            .addListener(f -> ctx.close());
                    return;
                }
                ctx.write(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
            }
            ctx.flush();
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
