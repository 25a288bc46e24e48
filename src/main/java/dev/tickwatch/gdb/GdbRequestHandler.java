package dev.tickwatch.gdb;

import dev.tickwatch.CommandTimeoutException;
import dev.tickwatch.ConnectionException;
import dev.tickwatch.ProtocolException;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.gdb.codec.Rsp;
import dev.tickwatch.gdb.codec.RspAckHandler;
import dev.tickwatch.gdb.codec.RspConsole;
import dev.tickwatch.gdb.codec.RspInvalid;
import dev.tickwatch.gdb.codec.RspNotification;
import dev.tickwatch.gdb.codec.RspPacket;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Matches RSP replies to {@link GdbRequest}s, as Lettuce's {@code CommandHandler} does for Redis:
 * a written request joins a bounded queue and its packet goes on down the pipeline; each reply
 * completes the oldest request. RSP replies carry no id, so what cannot be an answer is told apart
 * first (GDB manual, "Stop Reply Packets", "Notification Packets"): {@code O} console packets
 * (collected for a pending {@code qRcmd}), {@code %} notifications, and a stop reply while the
 * oldest request does not expect one (QEMU's unsolicited {@code T02} on attach) never complete a
 * request; acks were taken out below by {@link RspAckHandler}. Every request has a timeout
 * (a {@link GdbRequest.Kind#RUN} has none: its answer is the next stop); a timed-out request
 * closes the channel, because a late reply would answer the next request. When the channel
 * closes, every pending request fails with a {@link ConnectionException}.
 *
 * <p>Everything here runs on the channel's event loop.
 */
final class GdbRequestHandler extends ChannelDuplexHandler {

    /** Told of every stop reply: {@code asked} when it answered a request, else unsolicited. */
    @FunctionalInterface
    interface StopListener {
        void onStop(String reply, boolean asked);
    }

    static final int DEFAULT_MAX_PENDING = 1024;
    static final int MAX_MONITOR_OUTPUT = 1 << 20;
    private static final System.Logger LOG = System.getLogger(GdbRequestHandler.class.getName());

    private final String peer;
    private final RspAckHandler acks;
    private final int maxPending;
    private final StopListener stops;
    private final ArrayDeque<GdbRequest> pending = new ArrayDeque<>();
    private volatile boolean closing;

    /**
     * @param peer       the stub's address, for messages
     * @param acks       the pipeline's ack layer: without acks a written packet counts as accepted
     * @param maxPending requests in flight at most; more fail at once
     * @param stops      told of every stop reply; not null
     */
    GdbRequestHandler(String peer, RspAckHandler acks, int maxPending, StopListener stops) {
        if (maxPending < 1) {
            throw new IllegalArgumentException("maxPending: " + maxPending + " (expected: >= 1)");
        }
        this.peer = peer;
        this.acks = acks;
        this.maxPending = maxPending;
        this.stops = stops;
    }

    /** We close the connection ourselves from now on: pending requests then fail as "closed", not "lost". */
    void closing() {
        closing = true;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // The close future fires before channelInactive: callers woken by its listeners find
        // every pending request failed already.
        ctx.channel().closeFuture().addListener(f -> failAll());
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof GdbRequest r)) {
            ctx.write(msg, promise);
            return;
        }
        if (!ctx.channel().isActive()) {
            fail(r, promise, new ConnectionException("connection to " + peer + " lost (cannot send '" + r.command + "')"));
            return;
        }
        if (pending.size() >= maxPending) {
            fail(r, promise, new TickwatchException("too many GDB requests in flight: " + pending.size()));
            return;
        }
        if (r.kind != GdbRequest.Kind.RUN) {
            r.timer = ctx.executor().schedule(() -> {
                if (pending.remove(r)) {
                    // Closed before the caller hears of it, so that nothing more is sent on it.
                    ctx.channel().close();
                    r.future.completeExceptionally(new CommandTimeoutException("GDB", r.command, r.timeout));
                }
            }, r.timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
        pending.addLast(r);
        promise.addListener(w -> {
            if (w.isSuccess() && !acks.acksEnabled()) {
                r.accepted.complete(null);
            }
            if (!w.isSuccess() && pending.remove(r)) {
                r.fail(new ConnectionException("cannot send '" + r.command + "' to " + peer + ": " + w.cause(), w.cause()));
                ctx.channel().close();
            }
        });
        ctx.write(r.packet, promise);
    }

    private static void fail(GdbRequest r, ChannelPromise promise, TickwatchException cause) {
        r.fail(cause);
        promise.tryFailure(cause);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof RspPacket p) {
            onPacket(p.payload());
        } else if (msg instanceof RspConsole c) {
            GdbRequest head = pending.peekFirst();
            if (head != null && head.kind == GdbRequest.Kind.MONITOR && head.console.size() < MAX_MONITOR_OUTPUT) {
                head.console.write(c.output(), 0, c.output().length);
            } else {
                LOG.log(System.Logger.Level.DEBUG, "gdbstub console: {0}", c.text());
            }
        } else if (msg instanceof RspNotification n) {
            LOG.log(System.Logger.Level.DEBUG, "gdbstub notification ignored: {0}", n.text());
        } else if (msg instanceof RspInvalid bad) {
            if (acks.acksEnabled() && bad.fromPacket()) {
                // We answered '-': the stub sends the packet again.
                LOG.log(System.Logger.Level.DEBUG, "bad packet from {0}, asked again: {1}", peer, bad.reason());
            } else {
                GdbRequest head = pending.pollFirst();
                if (head != null) {
                    head.fail(new ProtocolException("garbled RSP data from " + peer + ": " + bad.reason()
                            + " near '" + bad.excerpt() + "'"));
                }
            }
        } else {
            LOG.log(System.Logger.Level.DEBUG, "ignored from {0}: {1}", peer, msg);
        }
    }

    private void onPacket(byte[] payload) {
        boolean stop = payload.length > 0 && (payload[0] == 'T' || payload[0] == 'S' || payload[0] == 'W'
                || payload[0] == 'X');
        GdbRequest head = pending.peekFirst();
        if (stop && (head == null || head.kind == GdbRequest.Kind.REPLY || head.kind == GdbRequest.Kind.MONITOR)) {
            // Nobody asked: QEMU's announcement that the attach (or someone else) stopped the VM.
            LOG.log(System.Logger.Level.DEBUG, "unsolicited stop reply {0}", text(payload));
            stops.onStop(text(payload), false);
            return;
        }
        if (head == null) {
            LOG.log(System.Logger.Level.DEBUG, "reply with no request ignored: {0}", text(payload));
            return;
        }
        pending.pollFirst();
        head.cancelTimer();
        if (stop) {
            stops.onStop(text(payload), true);
        }
        if (head.onAnswer != null) {
            head.onAnswer.accept(payload);
        }
        if (payload.length == 0) {
            head.future.completeExceptionally(new GdbUnsupportedException(head.command));
        } else if (payload.length == 3 && payload[0] == 'E' && Rsp.hexValue(payload[1]) >= 0
                && Rsp.hexValue(payload[2]) >= 0) {
            head.future.completeExceptionally(new GdbErrorException(head.command,
                    Rsp.hexValue(payload[1]) << 4 | Rsp.hexValue(payload[2])));
        } else if (head.kind == GdbRequest.Kind.MONITOR) {
            head.future.complete(head.console.toByteArray());
        } else {
            head.future.complete(payload);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof RspAckHandler.Acknowledged a) {
            for (GdbRequest r : pending) {
                if (r.packet == a.packet()) {
                    r.accepted.complete(null);
                    break;
                }
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, "GDB connection error on " + peer, cause);
        GdbRequest head = pending.pollFirst();
        if (head != null) {
            head.fail(cause instanceof TickwatchException te ? te
                    : new ConnectionException("GDB connection error on " + peer + ": " + cause, cause));
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        failAll();
        ctx.fireChannelInactive();
    }

    private void failAll() {
        String why = closing ? "closed" : "lost";
        for (GdbRequest r : pending) {
            r.fail(new ConnectionException("connection to " + peer + " " + why
                    + " while waiting for the reply to '" + r.command + "'"));
        }
        pending.clear();
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
