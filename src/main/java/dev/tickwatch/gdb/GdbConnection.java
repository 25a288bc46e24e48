package dev.tickwatch.gdb;

import dev.tickwatch.CommandTimeoutException;
import dev.tickwatch.ConnectionException;
import dev.tickwatch.util.Futures;
import dev.tickwatch.gdb.codec.RspAckHandler;
import dev.tickwatch.gdb.codec.RspDecoder;
import dev.tickwatch.gdb.codec.RspEncoder;
import dev.tickwatch.gdb.codec.RspInterrupt;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.net.Transports;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One connection to a gdbstub: the Netty pipeline (decoder, encoder, {@link RspAckHandler},
 * {@link GdbRequestHandler}), the opening negotiation (GDB manual, "General Query Packets":
 * {@code qSupported}; "Packet Acknowledgment": {@code QStartNoAckMode} when offered), and blocking
 * requests on top of the handler's matching. It knows nothing of the VM's run state; it records
 * whether the attach stopped a running VM (QEMU's unsolicited stop reply before our first answer)
 * and tells {@code whenGone} once the channel is closed, whatever closed it.
 *
 * <p>Blocking methods must not be called from an event-loop thread.
 */
final class GdbConnection {

    private final Endpoint endpoint;
    private final GdbOptions options;
    private final RspAckHandler acks = new RspAckHandler();
    private final GdbRequestHandler handler;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile Channel channel;
    private volatile boolean attaching = true;
    private volatile boolean attachStopped;
    private volatile String lastStop;

    private Map<String, String> features = Map.of();
    private int packetSize = 4096;
    private boolean multiprocess;

    GdbConnection(Endpoint endpoint, GdbOptions options) {
        this.endpoint = endpoint;
        this.options = options;
        this.handler = new GdbRequestHandler(endpoint.toString(), acks, GdbRequestHandler.DEFAULT_MAX_PENDING,
                this::onStop);
    }

    /**
     * Connects and negotiates. {@code whenGone} runs on the event loop once the channel is closed,
     * after every pending request failed and before {@link #closeFuture()} completes.
     *
     * @throws ConnectionException     when the socket cannot be reached or closes early
     * @throws CommandTimeoutException when the stub does not answer (another client may hold it:
     *                                 QEMU queues a second client until the first leaves)
     */
    void open(Runnable whenGone) {
        var tap = options.transcript();
        channel = Transports.connect(endpoint, new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("rsp-decoder", new RspDecoder(options.maxPacketLength(),
                        tap == null ? null : f -> tap.accept("S", f)));
                ch.pipeline().addLast("rsp-encoder", new RspEncoder(tap == null ? null : f -> tap.accept("C", f)));
                ch.pipeline().addLast("rsp-acks", acks);
                ch.pipeline().addLast("gdb-requests", handler);
            }
        }, options.connectTimeout());
        channel.closeFuture().addListener(f -> {
            try {
                whenGone.run();
            } finally {
                closed.complete(null);
            }
        });
        negotiate();
    }

    private void negotiate() {
        Duration t = options.connectTimeout();
        String supported;
        try {
            supported = text(send("qSupported:multiprocess+;vContSupported+", GdbRequest.Kind.REPLY, t, null)
                    .future.get(t.toMillis() + 500, TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            throw new CommandTimeoutException("qSupported", t, "no answer from the gdbstub at " + endpoint
                    + " within " + t.toMillis() + " ms: is another debugger attached? QEMU serves one gdb client at a time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionException("interrupted while connecting to " + endpoint, e);
        } catch (ExecutionException e) {
            throw Futures.unwrap(e.getCause());
        }
        features = parseFeatures(supported);
        String ps = features.get("PacketSize");
        if (ps != null) {
            packetSize = (int) Math.min(Long.parseLong(ps, 16), options.maxPacketLength());
        }
        multiprocess = "+".equals(features.get("multiprocess"));
        if ("+".equals(features.get("QStartNoAckMode"))) {
            // The OK is acknowledged before we switch (GDB manual, "Packet Acknowledgment").
            request("QStartNoAckMode");
            acks.disableAcks();
        }
    }

    static Map<String, String> parseFeatures(String reply) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String f : reply.split(";")) {
            if (f.isEmpty()) {
                continue;
            }
            int eq = f.indexOf('=');
            if (eq > 0) {
                m.put(f.substring(0, eq), f.substring(eq + 1));
            } else if (f.endsWith("+") || f.endsWith("-") || f.endsWith("?")) {
                m.put(f.substring(0, f.length() - 1), f.substring(f.length() - 1));
            }
        }
        return Map.copyOf(m);
    }

    private void onStop(String reply, boolean asked) {
        lastStop = reply;
        if (!asked && attaching) {
            attachStopped = true;
        }
    }

    /** Ends the attach: from now on an unsolicited stop reply no longer means the attach stopped the VM. */
    boolean endAttach() {
        attaching = false;
        return attachStopped;
    }

    Endpoint endpoint() {
        return endpoint;
    }

    GdbOptions options() {
        return options;
    }

    Map<String, String> features() {
        return features;
    }

    int packetSize() {
        return packetSize;
    }

    boolean multiprocess() {
        return multiprocess;
    }

    boolean attachStopped() {
        return attachStopped;
    }

    String lastStop() {
        return lastStop;
    }

    boolean isOpen() {
        Channel ch = channel;
        return ch != null && ch.isActive();
    }

    CompletableFuture<Void> closeFuture() {
        return closed;
    }

    // ---- requests ----

    /**
     * Sends a request; its futures complete on the event loop. Never throws: a request that cannot
     * be sent (not connected, longer than the stub's PacketSize) comes back failed.
     */
    GdbRequest send(String command, GdbRequest.Kind kind, Duration timeout, Consumer<byte[]> onAnswer) {
        return send(new GdbRequest(command, kind, timeout, onAnswer));
    }

    /** {@link #send(String, GdbRequest.Kind, Duration, Consumer)} for a request the caller made (and noted) first. */
    GdbRequest send(GdbRequest r) {
        String command = r.command;
        Channel ch = channel;
        if (ch == null || !ch.isActive()) {
            r.fail(new ConnectionException("not connected to " + endpoint + " (cannot send '" + command + "')"));
            return r;
        }
        int length = command.getBytes(StandardCharsets.ISO_8859_1).length;
        if (length > packetSize) {
            r.fail(new IllegalArgumentException("packet length: " + length + " (expected: <= " + packetSize
                    + ", the stub's PacketSize)"));
            return r;
        }
        ch.writeAndFlush(r).addListener(w -> {
            if (!w.isSuccess()) {
                r.fail(new ConnectionException("connection to " + endpoint + " lost (cannot send '" + command + "')",
                        w.cause()));
            }
        });
        return r;
    }

    CompletableFuture<byte[]> requestAsync(String command, GdbRequest.Kind kind) {
        return send(command, kind, options.requestTimeout(), null).future;
    }

    /** Sends {@code command} and waits for its reply payload. */
    byte[] requestBytes(String command, GdbRequest.Kind kind) {
        return Futures.await(requestAsync(command, kind));
    }

    String request(String command) {
        return text(requestBytes(command, GdbRequest.Kind.REPLY));
    }

    /** The lone {@code 0x03} (GDB manual, "Interrupts"); its answer is the stop reply to the pending {@code c}. */
    void writeInterrupt() {
        Channel ch = channel;
        if (ch != null) {
            ch.writeAndFlush(RspInterrupt.INSTANCE);
        }
    }

    /** Closes the channel without waiting: after a timeout nothing more may be sent on it. */
    void abort() {
        Channel ch = channel;
        if (ch != null) {
            ch.close();
        }
    }

    /** Closes the channel and waits until {@code whenGone} has run. */
    void close() {
        handler.closing();
        Channel ch = channel;
        if (ch != null) {
            ch.close().syncUninterruptibly();
            closed.join();
        } else {
            closed.complete(null);
        }
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
