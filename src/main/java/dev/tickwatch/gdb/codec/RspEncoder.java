package dev.tickwatch.gdb.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import java.util.function.Consumer;

/**
 * Writes RSP messages (GDB manual, "Remote Protocol" &gt; "Overview"): packets as
 * {@code $data#cs} with {@code $ # } *} escaped as {@code }} and the byte xor 0x20 (never
 * run-length encoded: nothing we send repeats enough to matter), notifications with {@code %},
 * acks, and the bare {@code 0x03} interrupt byte.
 */
@ChannelHandler.Sharable
public final class RspEncoder extends MessageToByteEncoder<RspMessage> {

    private final Consumer<String> frameTap;

    public RspEncoder() {
        this(null);
    }

    /** @param frameTap receives every frame as written (see {@link Rsp#wire}), or null */
    public RspEncoder(Consumer<String> frameTap) {
        super(RspMessage.class);
        this.frameTap = frameTap;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, RspMessage msg, ByteBuf out) {
        int start = out.writerIndex();
        if (msg instanceof RspPacket p) {
            frame(out, '$', p.payload());
        } else if (msg instanceof RspNotification n) {
            frame(out, '%', n.payload());
        } else if (msg instanceof RspConsole c) {
            frame(out, '$', ("O" + Rsp.hex(c.output())).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        } else if (msg instanceof RspAck a) {
            out.writeByte(a.ok() ? '+' : '-');
        } else if (msg instanceof RspInterrupt) {
            out.writeByte(0x03);
        } else {
            throw new IllegalArgumentException("cannot send " + msg);
        }
        if (frameTap != null) {
            byte[] b = new byte[out.writerIndex() - start];
            out.getBytes(start, b);
            frameTap.accept(Rsp.wire(b, 0, b.length));
        }
    }

    /** Encodes one frame into {@code out}; public for fake peers and tests. */
    public static void frame(ByteBuf out, char start, byte[] payload) {
        out.writeByte(start);
        int sum = 0;
        for (byte x : payload) {
            int b = x & 0xff;
            if (b == '$' || b == '#' || b == '}' || b == '*') {
                out.writeByte('}');
                out.writeByte(b ^ 0x20);
                sum += '}' + (b ^ 0x20);
            } else {
                out.writeByte(b);
                sum += b;
            }
        }
        out.writeByte('#');
        sum &= 0xff;
        out.writeByte(Character.forDigit(sum >> 4, 16));
        out.writeByte(Character.forDigit(sum & 0xf, 16));
    }
}
