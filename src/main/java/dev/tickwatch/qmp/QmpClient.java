package dev.tickwatch.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.CommandTimeoutException;
import dev.tickwatch.ConnectionException;
import dev.tickwatch.ProtocolException;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.net.Transports;
import dev.tickwatch.qmp.codec.QmpCommand;
import dev.tickwatch.qmp.codec.QmpDecoder;
import dev.tickwatch.qmp.codec.QmpEncoder;
import dev.tickwatch.qmp.codec.QmpError;
import dev.tickwatch.qmp.codec.QmpEvent;
import dev.tickwatch.qmp.codec.QmpGreeting;
import dev.tickwatch.qmp.codec.QmpInvalid;
import dev.tickwatch.qmp.codec.QmpMessage;
import dev.tickwatch.qmp.codec.QmpReturn;
import dev.tickwatch.util.Futures;
import dev.tickwatch.util.Json;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A QMP client over one connection (QMP spec, qemu/docs/interop/qmp-spec.rst): reads the
 * greeting, negotiates capabilities, then runs commands tagged with an {@code id} and matched
 * on it, while events go to listeners at any time, also during negotiation.
 *
 * <p>Like Lettuce's {@code CommandHandler}: pending commands live in one map touched only on
 * the channel's event loop; every pending command fails when the connection drops; each has
 * its own timeout, cancelled when the reply arrives. Replies without an id (QEMU sends none
 * when it could not parse a request) and frames the decoder rejected go to the oldest pending
 * command, since QEMU answers in order when out-of-band execution is not used (we never use it).
 *
 * <p>Blocking methods must not be called from an event-loop thread.
 */
public final class QmpClient implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(QmpClient.class.getName());

    private final Endpoint endpoint;
    private final QmpOptions options;
    private final AtomicLong ids = new AtomicLong();
    private final List<Consumer<QmpEvent>> listeners = new CopyOnWriteArrayList<>();
    private final ArrayDeque<QmpEvent> history = new ArrayDeque<>();
    private final CompletableFuture<QmpGreeting> greeting = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    /** Event loop only. */
    private final Map<Long, Pending> pending = new LinkedHashMap<>();
    private volatile Channel channel;
    private volatile boolean closing;

    private record Pending(String command, CompletableFuture<JsonNode> future, ScheduledFuture<?> timeout) {
    }

    private QmpClient(Endpoint endpoint, QmpOptions options) {
        this.endpoint = endpoint;
        this.options = options;
        if (options.eventListener() != null) {
            listeners.add(options.eventListener());
        }
    }

    /** Connects with default options. */
    public static QmpClient connect(Endpoint endpoint) {
        return connect(endpoint, QmpOptions.defaults());
    }

    /**
     * Connects, reads the greeting and negotiates capabilities (none are enabled).
     *
     * @throws ConnectionException       when the socket cannot be reached or closes early
     * @throws CommandTimeoutException   when no greeting arrives (another client may hold the monitor)
     * @throws ProtocolException         when the peer does not speak QMP
     */
    public static QmpClient connect(Endpoint endpoint, QmpOptions options) {
        QmpClient client = new QmpClient(endpoint, options);
        client.channel = Transports.connect(endpoint, client.initializer(), options.connectTimeout(),
                "is QEMU running with -qmp " + endpoint + ",server=on?");
        client.channel.closeFuture().addListener(f -> client.onClosed());
        try {
            long deadline = System.nanoTime() + options.connectTimeout().toNanos();
            try {
                client.greeting.get(options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // QEMU queues a second client instead of refusing it: silence is what a taken socket looks like.
                throw new CommandTimeoutException("greeting", options.connectTimeout(),
                        "the QMP socket " + endpoint + " is held by another client (libvirt?): QEMU serves one at a time;"
                        + " use a second -qmp socket (no greeting within " + options.connectTimeout().toMillis()
                        + " ms; or it is not a QMP socket)");
            }
            Duration left = Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1_000_000));
            Futures.await(client.executeAsync("qmp_capabilities", null, left));
            return client;
        } catch (ExecutionException e) {
            client.close();
            throw Futures.unwrap(e.getCause());
        } catch (InterruptedException e) {
            client.close();
            Thread.currentThread().interrupt();
            throw new ConnectionException("interrupted while connecting to " + endpoint, e);
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    private ChannelInitializer<Channel> initializer() {
        var tap = options.transcript();
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                // Reads of at least 8 KB: an info registers -a reply (4.2 KB for two vCPUs) then
                // arrives in one read and frames as one line (QmpDecoder.wholeLine). Netty's
                // default starts at 2 KB and shrinks after a few small replies (LAPIC reads):
                // the reply came in two or three reads, and went through the brace scan.
                ch.config().setRecvByteBufAllocator(new AdaptiveRecvByteBufAllocator(8192, 16384, 65536));
                ch.pipeline().addLast("qmp-decoder", new QmpDecoder(options.maxObjectLength(),
                        tap == null ? null : f -> tap.accept("S", f)));
                ch.pipeline().addLast("qmp-encoder", new QmpEncoder(tap == null ? null : f -> tap.accept("C", f)));
                ch.pipeline().addLast("qmp-client", new Handler());
            }
        };
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    /** The server's greeting; available once {@link #connect} returned. */
    public QmpGreeting greeting() {
        return greeting.getNow(null);
    }

    public boolean isOpen() {
        Channel ch = channel;
        return ch != null && ch.isActive();
    }

    /** Completes when the connection is gone, for whatever reason. */
    public CompletableFuture<Void> closeFuture() {
        return closed;
    }

    /**
     * Adds a listener for every event from now on. Listeners run on the I/O thread: keep them
     * short and never block in them.
     *
     * @return closing it removes the listener
     */
    public AutoCloseable addEventListener(Consumer<QmpEvent> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** The last events received, oldest first, at most {@link QmpOptions#eventHistory()}. */
    public List<QmpEvent> recentEvents() {
        synchronized (history) {
            return List.copyOf(history);
        }
    }

    /**
     * A future for the next event named {@code name} that matches {@code filter}. Register it
     * before sending the command that causes the event: QEMU may send the event before the reply.
     */
    public CompletableFuture<QmpEvent> nextEvent(String name, Predicate<QmpEvent> filter) {
        CompletableFuture<QmpEvent> f = new CompletableFuture<>();
        Consumer<QmpEvent> l = new Consumer<>() {
            @Override
            public void accept(QmpEvent e) {
                if (e.name().equals(name) && filter.test(e) && f.complete(e)) {
                    listeners.remove(this);
                }
            }
        };
        listeners.add(l);
        closed.whenComplete((v, t) -> {
            listeners.remove(l);
            f.completeExceptionally(new ConnectionException("connection to " + endpoint
                    + " closed while waiting for event " + name));
        });
        return f;
    }

    /** Runs a command with the default timeout. */
    public CompletableFuture<JsonNode> executeAsync(String command, JsonNode arguments) {
        return executeAsync(command, arguments, options.commandTimeout());
    }

    /**
     * Sends {@code command} and returns its reply's value. The future fails with
     * {@link QmpCommandException} (QEMU's error), {@link CommandTimeoutException},
     * {@link ConnectionException} or {@link ProtocolException}.
     */
    public CompletableFuture<JsonNode> executeAsync(String command, JsonNode arguments, Duration timeout) {
        CompletableFuture<JsonNode> future = new CompletableFuture<>();
        Channel ch = channel;
        if (ch == null || !ch.isActive()) {
            future.completeExceptionally(new ConnectionException("not connected to " + endpoint
                    + " (cannot run '" + command + "')"));
            return future;
        }
        long id = ids.incrementAndGet();
        Transports.execute(ch.eventLoop(), () -> {
            if (!ch.isActive()) {
                future.completeExceptionally(new ConnectionException("connection to " + endpoint
                        + " lost before '" + command + "' was sent"));
                return;
            }
            if (pending.size() >= options.maxPending()) {
                future.completeExceptionally(new TickwatchException("too many QMP commands in flight: "
                        + pending.size() + " (limit " + options.maxPending() + ")"));
                return;
            }
            ScheduledFuture<?> t = ch.eventLoop().schedule(() -> {
                Pending p = pending.remove(id);
                if (p != null) {
                    p.future.completeExceptionally(new CommandTimeoutException("QMP", command, timeout));
                }
            }, timeout.toNanos(), TimeUnit.NANOSECONDS);
            pending.put(id, new Pending(command, future, t));
            Transports.write(ch, new QmpCommand(command, arguments, LongNode.valueOf(id))).addListener(w -> {
                if (!w.isSuccess()) {
                    Pending p = pending.remove(id);
                    if (p != null) {
                        p.timeout.cancel(false);
                        p.future.completeExceptionally(new ConnectionException("cannot send '" + command
                                + "' to " + endpoint + ": " + w.cause(), w.cause()));
                    }
                }
            });
        });
        return future;
    }

    /** Runs a command and waits for its reply (default timeout). */
    public JsonNode execute(String command) {
        return execute(command, null);
    }

    public JsonNode execute(String command, JsonNode arguments) {
        notHolding();
        return Futures.await(executeAsync(command, arguments));
    }

    public JsonNode execute(String command, JsonNode arguments, Duration timeout) {
        notHolding();
        return Futures.await(executeAsync(command, arguments, timeout));
    }

    /** A command waited for inside {@link Transports#held} would wait for good: it goes out only after. */
    private static void notHolding() {
        if (Transports.holding()) {
            throw new IllegalStateException("a QMP reply waited for while commands are held back (Transports.held)");
        }
    }

    // ---- typed helpers for what tickwatch needs ----

    /** {@code query-status}. */
    public QmpStatus queryStatus() {
        return QmpStatus.from(execute("query-status"));
    }

    /** {@code query-cpus-fast}: one entry per vCPU with its host thread id. */
    public List<QmpCpu> queryCpusFast() {
        List<QmpCpu> cpus = new ArrayList<>();
        for (JsonNode n : execute("query-cpus-fast")) {
            cpus.add(QmpCpu.from(n));
        }
        return List.copyOf(cpus);
    }

    public void stop() {
        execute("stop");
    }

    public void cont() {
        execute("cont");
    }

    /**
     * {@code cont} without waiting: what a gdbstub client hands in as its fallback resume (it runs
     * on the stub connection's event loop, which must not block).
     */
    public CompletableFuture<JsonNode> contAsync() {
        return executeAsync("cont", null);
    }

    /** Runs an HMP command line through {@code human-monitor-command}; returns its text output. */
    public String hmp(String commandLine) {
        return hmp(commandLine, -1);
    }

    /**
     * @param cpuIndex the CPU the command runs on (matters for {@code x}, {@code info lapic}),
     *                 or -1 for QEMU's default (CPU 0)
     */
    public String hmp(String commandLine, int cpuIndex) {
        notHolding();
        return Futures.await(hmpAsync(commandLine, cpuIndex));
    }

    /**
     * An HMP command line without waiting: several sent back to back share one wake-up of the
     * event loop and reach QEMU in one burst, which answers them in order.
     */
    public CompletableFuture<String> hmpAsync(String commandLine, int cpuIndex) {
        ObjectNode args = Json.object().put("command-line", commandLine);
        if (cpuIndex >= 0) {
            args.put("cpu-index", cpuIndex);
        }
        return executeAsync("human-monitor-command", args).thenApply(JsonNode::asText);
    }

    /**
     * {@code memsave}: QEMU writes {@code size} bytes of guest virtual memory at {@code address},
     * as seen by vCPU {@code cpuIndex}, to {@code file} (a path on QEMU's host).
     * Kernel addresses are sent as signed 64-bit integers, as QEMU requires.
     */
    public void memsave(long address, long size, Path file, int cpuIndex) {
        ObjectNode args = Json.object().put("val", address).put("size", size)
                .put("filename", file.toString());
        if (cpuIndex >= 0) {
            args.put("cpu-index", cpuIndex);
        }
        execute("memsave", args);
    }

    /** {@code pmemsave}: like {@link #memsave} for guest physical memory. */
    public void pmemsave(long physicalAddress, long size, Path file) {
        execute("pmemsave", Json.object().put("val", physicalAddress).put("size", size)
                .put("filename", file.toString()));
    }

    /**
     * {@code dump-guest-memory} with {@code detach}: returns at once; the future completes with
     * the {@code DUMP_COMPLETED} event, or fails if the event reports an error. The VM is paused
     * by QEMU while the dump runs.
     *
     * @param format {@code elf}, {@code kdump-zlib}, {@code kdump-lzo}, {@code kdump-snappy}, {@code win-dmp}
     */
    public CompletableFuture<QmpEvent> dumpGuestMemory(Path file, String format, boolean paging) {
        CompletableFuture<QmpEvent> done = nextEvent("DUMP_COMPLETED", e -> true);
        ObjectNode args = Json.object().put("paging", paging).put("protocol", "file:" + file)
                .put("detach", true).put("format", format);
        try {
            execute("dump-guest-memory", args);
        } catch (RuntimeException e) {
            done.cancel(false);
            throw e;
        }
        return done.thenApply(e -> {
            if (e.data().hasNonNull("error")) {
                throw new QmpCommandException("dump-guest-memory", "DumpError", e.data().get("error").asText());
            }
            return e;
        });
    }

    public void injectNmi() {
        execute("inject-nmi");
    }

    /** {@code send-key} with QEMU key codes ("qcodes"), e.g. {@code "ctrl", "alt", "delete"}. */
    public void sendKey(String... qcodes) {
        ArrayNode keys = Json.MAPPER.createArrayNode();
        for (String k : qcodes) {
            keys.add(Json.object().put("type", "qcode").put("data", k));
        }
        execute("send-key", Json.object().set("keys", keys));
    }

    /** {@code quit}: QEMU exits. A connection lost right after sending it counts as success. */
    public void quit() {
        try {
            execute("quit");
        } catch (ConnectionException e) {
            LOG.log(System.Logger.Level.DEBUG, "connection closed by quit: {0}", e.getMessage());
        }
    }

    @Override
    public void close() {
        closing = true;
        Channel ch = channel;
        if (ch != null) {
            ch.close().syncUninterruptibly();
        } else {
            onClosed();
        }
    }

    // ---- event loop side ----

    private final class Handler extends SimpleChannelInboundHandler<QmpMessage> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, QmpMessage msg) {
            if (msg instanceof QmpEvent e) {
                deliver(e);
            } else if (msg instanceof QmpReturn r) {
                complete(r.id(), p -> p.future.complete(r.value()));
            } else if (msg instanceof QmpError e) {
                complete(e.id(), p -> p.future.completeExceptionally(
                        new QmpCommandException(p.command, e.errorClass(), e.description())));
            } else if (msg instanceof QmpGreeting g) {
                greeting.complete(g);
            } else if (msg instanceof QmpInvalid bad) {
                onInvalid(bad);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.DEBUG, "QMP connection error on " + endpoint, cause);
            ctx.close();
        }
    }

    private void deliver(QmpEvent e) {
        synchronized (history) {
            if (options.eventHistory() > 0) {
                if (history.size() == options.eventHistory()) {
                    history.removeFirst();
                }
                history.addLast(e);
            }
        }
        for (Consumer<QmpEvent> l : listeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ex) {
                LOG.log(System.Logger.Level.WARNING, "QMP event listener failed on " + e.name(), ex);
            }
        }
    }

    private void complete(JsonNode id, Consumer<Pending> action) {
        Pending p = null;
        if (id == null) {
            p = removeOldest();
        } else if (id.canConvertToLong()) {
            p = pending.remove(id.asLong());
        }
        if (p == null) {
            LOG.log(System.Logger.Level.DEBUG, "QMP reply for unknown id {0} ignored", id);
            return;
        }
        p.timeout.cancel(false);
        action.accept(p);
    }

    private void onInvalid(QmpInvalid bad) {
        Channel ch = channel;
        if (ch != null && !ch.isActive()) {
            // A frame cut short by the peer closing: onClosed reports it as the connection loss it is.
            return;
        }
        ProtocolException ex = new ProtocolException("garbled QMP data from " + endpoint + ": "
                + bad.reason() + " near '" + bad.excerpt() + "'");
        if (!greeting.isDone()) {
            greeting.completeExceptionally(new ProtocolException(endpoint + " does not speak QMP: "
                    + bad.reason() + " near '" + bad.excerpt() + "'"));
            return;
        }
        Pending p = removeOldest();
        if (p != null) {
            p.timeout.cancel(false);
            p.future.completeExceptionally(ex);
        } else {
            LOG.log(System.Logger.Level.WARNING, ex.getMessage());
        }
    }

    private Pending removeOldest() {
        Iterator<Pending> it = pending.values().iterator();
        if (!it.hasNext()) {
            return null;
        }
        Pending p = it.next();
        it.remove();
        return p;
    }

    private void onClosed() {
        Runnable fail = () -> {
            String why = closing ? "closed" : "lost";
            greeting.completeExceptionally(new ConnectionException("connection to " + endpoint + " " + why
                    + " before the QMP greeting"));
            for (Pending p : pending.values()) {
                p.timeout.cancel(false);
                p.future.completeExceptionally(new ConnectionException("connection to " + endpoint + " "
                        + why + " while waiting for the reply to '" + p.command + "'"));
            }
            pending.clear();
            closed.complete(null);
        };
        Channel ch = channel;
        if (ch != null && !ch.eventLoop().inEventLoop()) {
            ch.eventLoop().execute(fail);
        } else {
            fail.run();
        }
    }
}
