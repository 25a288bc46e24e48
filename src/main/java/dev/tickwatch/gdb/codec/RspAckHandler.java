package dev.tickwatch.gdb.codec;

import dev.tickwatch.ProtocolException;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.util.ArrayDeque;

/**
 * The acknowledgment layer (GDB manual, "Overview" and "Packet Acknowledgment"): answers every
 * received packet with {@code +}, a bad one with {@code -}; keeps what it sent until the peer's
 * {@code +}, and sends it again on {@code -}. Acks go no further up the pipeline. After
 * {@code QStartNoAckMode} succeeds, {@link #disableAcks()} turns all of this off.
 *
 * <p>Requests may be pipelined; a {@code -} is then ambiguous about order, so a NAK with more
 * than one packet unacknowledged, or more than {@code maxRetransmits} NAKs in a row, is raised
 * as a {@link ProtocolException} (the client then drops the connection) instead of guessed at.
 * Notifications are neither acknowledged nor awaited. Each {@code +} is passed up as an
 * {@link Acknowledged} user event naming the packet it confirms.
 */
public final class RspAckHandler extends ChannelDuplexHandler {

    public static final int DEFAULT_MAX_RETRANSMITS = 3;
    private static final int MAX_UNACKED = 1024;

    /**
     * A user event: the peer acknowledged {@code packet} (the same instance that was written).
     * The only proof RSP gives that a packet with no immediate reply, like {@code c}, arrived.
     */
    public record Acknowledged(RspPacket packet) {
    }

    private final int maxRetransmits;
    /** Event loop only. */
    private final ArrayDeque<RspPacket> unacked = new ArrayDeque<>();
    private volatile boolean acks = true;
    private int retransmits;

    public RspAckHandler() {
        this(DEFAULT_MAX_RETRANSMITS);
    }

    public RspAckHandler(int maxRetransmits) {
        if (maxRetransmits < 0) {
            throw new IllegalArgumentException("maxRetransmits: " + maxRetransmits + " (expected: >= 0)");
        }
        this.maxRetransmits = maxRetransmits;
    }

    /** Call once the {@code OK} to {@code QStartNoAckMode} arrived (it was acknowledged already). */
    public void disableAcks() {
        acks = false;
    }

    public boolean acksEnabled() {
        return acks;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof RspAck ack) {
            if (acks) {
                onAck(ctx, ack);
            }
            return;
        }
        if (acks) {
            if (msg instanceof RspPacket || msg instanceof RspConsole) {
                ctx.writeAndFlush(RspAck.ACK);
            } else if (msg instanceof RspInvalid bad && bad.fromPacket()) {
                ctx.writeAndFlush(RspAck.NAK);
            }
        }
        ctx.fireChannelRead(msg);
    }

    private void onAck(ChannelHandlerContext ctx, RspAck ack) {
        if (ack.ok()) {
            RspPacket p = unacked.pollFirst();
            retransmits = 0;
            if (p != null) {
                ctx.fireUserEventTriggered(new Acknowledged(p));
            }
            return;
        }
        if (unacked.size() == 1 && retransmits < maxRetransmits) {
            retransmits++;
            ctx.writeAndFlush(unacked.peekFirst());
            return;
        }
        ctx.fireExceptionCaught(new ProtocolException(unacked.isEmpty()
                ? "the peer sent '-' but nothing is waiting for an acknowledgment"
                : "the peer rejected a packet (" + unacked.size() + " unacknowledged, "
                        + retransmits + " retransmits): " + unacked.peekFirst()));
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (acks && msg instanceof RspPacket p) {
            if (unacked.size() == MAX_UNACKED) {
                // A peer that never acknowledges must not grow this without bound.
                unacked.pollFirst();
            }
            unacked.addLast(p);
        }
        ctx.write(msg, promise);
    }
}
