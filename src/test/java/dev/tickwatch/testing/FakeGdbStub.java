package dev.tickwatch.testing;

import dev.tickwatch.gdb.codec.Rsp;
import dev.tickwatch.gdb.codec.RspAck;
import dev.tickwatch.gdb.codec.RspDecoder;
import dev.tickwatch.gdb.codec.RspEncoder;
import dev.tickwatch.gdb.codec.RspInterrupt;
import dev.tickwatch.gdb.codec.RspInvalid;
import dev.tickwatch.gdb.codec.RspMessage;
import dev.tickwatch.gdb.codec.RspPacket;
import dev.tickwatch.net.Endpoint;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * A gdbstub on 127.0.0.1 port 0 that replays a real QEMU transcript: it acknowledges every
 * packet, answers each request with the frames QEMU sent after it (in the order recorded, the
 * last answer repeated when the recording runs out), an unknown request with the empty packet,
 * and sends its last frame again on {@code -}. {@link #rewrite} changes answers before they are
 * sent: what real QEMU cannot be made to do (bad checksums, run-length encoding, notifications).
 * Two pseudo-frames: {@code CORRUPT:<frame>} sends the frame with a wrong checksum (and the
 * intact frame on {@code -}); {@code CLOSE} closes the connection. With {@link #serveMemory} it
 * answers every {@code m} as QEMU 7.2 does from the bytes given: hex bytes, {@code E22} for more
 * than 2048 bytes, {@code E14} when any byte is outside them.
 */
public final class FakeGdbStub implements AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Map<String, ArrayDeque<List<String>>> responses;
    private final Map<String, List<String>> last = new ConcurrentHashMap<>();
    private final Map<String, UnaryOperator<List<String>>> rewrites = new ConcurrentHashMap<>();
    private final List<String> received = new CopyOnWriteArrayList<>();
    /** QEMU 7.2 answers E22 to an {@code m} of more than this many bytes. */
    public static final int QEMU_MAX_M = 2048;
    private volatile String offerNoAck;
    private volatile long memoryAddress;
    private volatile byte[] memory;
    private volatile boolean noAck;
    private final Channel server;

    public FakeGdbStub(RspTranscript transcript) {
        this.responses = new ConcurrentHashMap<>(transcript.responses());
        this.server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new RspDecoder(), new RspEncoder(), new Session());
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    public Endpoint endpoint() {
        return new Endpoint.Tcp("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort());
    }

    /** Changes the wire frames answering {@code key} (a request payload, or {@code \x03}) from now on. */
    public FakeGdbStub rewrite(String key, UnaryOperator<List<String>> change) {
        rewrites.put(key, change);
        return this;
    }

    /** Adds {@code QStartNoAckMode+} to the qSupported answer and honours it. */
    public FakeGdbStub offerNoAckMode() {
        offerNoAck = "yes";
        return this;
    }

    /** Serves {@code m} reads of {@code bytes} at {@code address} from now on, instead of the recording. */
    public FakeGdbStub serveMemory(long address, byte[] bytes) {
        memoryAddress = address;
        memory = bytes.clone();
        return this;
    }

    /** What the client sent, in order: packet payloads, and "+", "-", "\x03". */
    public List<String> received() {
        return received;
    }

    private List<String> answer(String key) {
        ArrayDeque<List<String>> q = responses.get(key);
        List<String> frames;
        if (memory != null && key.startsWith("m")) {
            frames = List.of(frame(readMemory(key)));
        } else if (q != null && !q.isEmpty()) {
            frames = q.pollFirst();
            last.put(key, frames);
        } else {
            frames = last.getOrDefault(key, List.of("$#00"));
        }
        if (key.startsWith("qSupported") && offerNoAck != null) {
            List<String> changed = new ArrayList<>();
            for (String f : frames) {
                String k = RspTranscript.key(f);
                changed.add(k.startsWith("PacketSize") ? frame(k + ";QStartNoAckMode+") : f);
            }
            frames = changed;
        }
        if (key.equals("QStartNoAckMode") && offerNoAck != null) {
            frames = List.of(frame("OK"));
        }
        UnaryOperator<List<String>> r = rewrites.get(key);
        return r == null ? frames : r.apply(frames);
    }

    private String readMemory(String request) {
        String[] parts = request.substring(1).split(",");
        long address = Long.parseUnsignedLong(parts[0], 16);
        int length = Integer.parseInt(parts[1], 16);
        if (length > QEMU_MAX_M) {
            return "E22";
        }
        byte[] m = memory;
        long offset = address - memoryAddress;
        if (Long.compareUnsigned(offset, m.length) > 0 || offset + length > m.length) {
            return "E14";
        }
        return Rsp.hex(java.util.Arrays.copyOfRange(m, (int) offset, (int) offset + length));
    }

    /** A well-formed wire frame for {@code payload}. */
    public static String frame(String payload) {
        ByteBuf b = Unpooled.buffer();
        RspEncoder.frame(b, '$', payload.getBytes(StandardCharsets.ISO_8859_1));
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        b.release();
        return Rsp.wire(bytes, 0, bytes.length);
    }

    private final class Session extends SimpleChannelInboundHandler<RspMessage> {
        private byte[] lastSent;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RspMessage msg) {
            String key;
            if (msg instanceof RspAck a) {
                received.add(a.ok() ? "+" : "-");
                if (!a.ok() && lastSent != null) {
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(lastSent));
                }
                return;
            } else if (msg instanceof RspInterrupt) {
                key = "\\x03";
            } else if (msg instanceof RspPacket p) {
                key = p.text();
                if (!noAck) {
                    ctx.write(Unpooled.wrappedBuffer(new byte[] {'+'}));
                }
            } else if (msg instanceof RspInvalid) {
                ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'-'}));
                return;
            } else {
                return;
            }
            received.add(key);
            for (String f : answer(key)) {
                if (f.equals("CLOSE")) {
                    ctx.flush();
                    ctx.close();
                    return;
                }
                if (f.startsWith("CORRUPT:")) {
                    // Line noise: the checksum arrives wrong; a retransmit sends the frame intact.
                    lastSent = Rsp.unwire(f.substring("CORRUPT:".length()));
                    byte[] bad = lastSent.clone();
                    bad[bad.length - 1] = (byte) (bad[bad.length - 1] == '0' ? '1' : '0');
                    ctx.write(Unpooled.wrappedBuffer(bad));
                    continue;
                }
                lastSent = Rsp.unwire(f);
                ctx.write(Unpooled.wrappedBuffer(lastSent));
            }
            ctx.flush();
            if (key.equals("QStartNoAckMode") && offerNoAck != null) {
                noAck = true;
            }
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
