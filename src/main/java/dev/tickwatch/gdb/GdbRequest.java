package dev.tickwatch.gdb;

import dev.tickwatch.gdb.codec.RspPacket;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One request on its way through {@link GdbRequestHandler}, like a Lettuce {@code Command}: the
 * packet, how its answer is recognised ({@link Kind}), its timeout, and the futures the caller
 * waits on. Written to the channel as it is; the handler queues it and sends its packet.
 */
final class GdbRequest {

    enum Kind {
        /** An ordinary request: the next packet that is not a stop reply answers it. */
        REPLY,
        /** {@code ?}: answered by a stop reply. */
        STOP_QUERY,
        /** {@code c}/{@code vCont;c}: answered by the stop reply of the next stop, however late; no timeout. */
        RUN,
        /** {@code qRcmd}: {@code O} packets, then {@code OK} or {@code E NN}. */
        MONITOR
    }

    final String command;
    final Kind kind;
    final Duration timeout;
    final RspPacket packet;
    /** The reply payload; for {@link Kind#MONITOR} the collected console output. */
    final CompletableFuture<byte[]> future = new CompletableFuture<>();
    /** The stub took the packet: its '+' arrived (or, without acks, the write succeeded). */
    final CompletableFuture<Void> accepted = new CompletableFuture<>();
    /** Runs on the event loop with the answering payload before {@link #future} completes; or null. */
    final Consumer<byte[]> onAnswer;
    /** Event loop only. */
    ScheduledFuture<?> timer;
    /** Event loop only; {@link Kind#MONITOR} only. */
    ByteArrayOutputStream console;

    GdbRequest(String command, Kind kind, Duration timeout, Consumer<byte[]> onAnswer) {
        this.command = command;
        this.kind = kind;
        this.timeout = timeout;
        this.onAnswer = onAnswer;
        this.packet = new RspPacket(command.getBytes(StandardCharsets.ISO_8859_1));
        if (kind == Kind.MONITOR) {
            console = new ByteArrayOutputStream();
        }
    }

    GdbRequest(String command, Kind kind, Duration timeout) {
        this(command, kind, timeout, null);
    }

    /** Fails the request and stops its timer; a request already done stays as it is. */
    void fail(Throwable cause) {
        cancelTimer();
        future.completeExceptionally(cause);
    }

    void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    @Override
    public String toString() {
        return "GdbRequest[" + command + ", " + kind + "]";
    }
}
