package dev.tickwatch.gdb;

import dev.tickwatch.CommandTimeoutException;
import dev.tickwatch.ConnectionException;
import dev.tickwatch.ProtocolException;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.gdb.codec.Rsp;
import dev.tickwatch.gdb.codec.RspAckHandler;
import dev.tickwatch.gdb.codec.RspConsole;
import dev.tickwatch.gdb.codec.RspDecoder;
import dev.tickwatch.gdb.codec.RspEncoder;
import dev.tickwatch.gdb.codec.RspInterrupt;
import dev.tickwatch.gdb.codec.RspInvalid;
import dev.tickwatch.gdb.codec.RspMessage;
import dev.tickwatch.gdb.codec.RspNotification;
import dev.tickwatch.gdb.codec.RspPacket;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.net.Transports;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpStatus;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A GDB remote protocol client for QEMU's gdbstub (GDB manual, "Remote Protocol": "Packets",
 * "Stop Reply Packets", "General Query Packets" for {@code qSupported}, {@code qfThreadInfo},
 * {@code qXfer:features:read}, {@code qRcmd}; "Interrupts"; "Packet Acknowledgment").
 *
 * <p>Requests are matched to replies in order, as in Lettuce's {@code CommandHandler}: one queue of
 * pending requests, touched only on the channel's event loop, each with its own timeout; stop
 * replies that nobody asked for, {@code O} console packets and {@code %} notifications are told
 * apart first and never answer a request. RSP replies carry no id, so a timed-out request ends
 * the connection: a late reply would otherwise answer the next request.
 *
 * <p><b>Pause safety.</b> QEMU 7.2 pauses the whole VM when a client connects, resumes it on
 * {@code D}, and leaves it paused when a client just goes away. This client keeps the connection
 * open while the VM runs and pauses it again with {@code 0x03}, rather than connecting for each
 * pause: a dropped connection then costs nothing while the VM runs (QEMU does nothing on close),
 * only a pause is a risk window, and repeated pauses cost a round trip instead of a handshake
 * (QEMU forgets the target description on every connect, so {@code p} would need it re-read).
 * {@link #connect} therefore resumes a VM that was running before the attach (QEMU announced the
 * attach stop with an unsolicited {@code T02}; an already-paused VM gets none), and pausing is
 * scoped by {@link #pause()}. Whatever ends a pause we took (scope exit, exception, timeout, lost
 * connection, JVM shutdown) resumes the VM: by {@code vCont;c} or {@code D} while the stub is
 * reachable, else by QMP {@code cont} when {@link GdbOptions#qmp()} is given. A VM that was
 * paused before we attached is left paused: we leave it by closing without {@code D}, because
 * QEMU's {@code D} resumes the VM whoever paused it.
 *
 * <p>Blocking methods must not be called from an event-loop thread.
 */
public final class GdbClient implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(GdbClient.class.getName());
    /** QEMU 7.2 answers E22 to an {@code m} of more than this many bytes. */
    public static final int QEMU_MAX_MEMORY_READ = 2048;
    private static final int MAX_PENDING = 1024;
    private static final int MAX_MONITOR_OUTPUT = 1 << 20;

    private enum Kind {
        /** An ordinary request: the next packet that is not a stop reply answers it. */
        REPLY,
        /** {@code ?}: answered by a stop reply. */
        STOP_QUERY,
        /** {@code c}/{@code vCont;c}: answered by the stop reply of the next stop, however late. */
        RUN,
        /** {@code qRcmd}: {@code O} packets, then {@code OK} or {@code E NN}. */
        MONITOR
    }

    private static final class Pending {
        final String command;
        final Kind kind;
        final CompletableFuture<byte[]> future = new CompletableFuture<>();
        /** The stub took the packet: its '+' arrived (or, without acks, the write succeeded). */
        final CompletableFuture<Void> accepted = new CompletableFuture<>();
        RspPacket sent;
        ScheduledFuture<?> timeout;
        ByteArrayOutputStream console;

        Pending(String command, Kind kind) {
            this.command = command;
            this.kind = kind;
        }
    }

    private final Endpoint endpoint;
    private final GdbOptions options;
    private final RspAckHandler acks = new RspAckHandler();
    /** Event loop only. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile Channel channel;
    private volatile boolean attaching = true;
    private volatile boolean attachStopped;
    /** A {@code c} is in flight: the VM runs. */
    private volatile boolean running;
    /** The VM is stopped because of us (the attach, an interrupt we sent): we owe it a resume. */
    private volatile boolean stoppedByUs;
    /** The next stop reply to our {@code c} is one we caused. */
    private volatile boolean interruptSent;
    private volatile boolean closing;
    private volatile String lastStop;
    private volatile CompletableFuture<?> fallbackResume;
    private GdbPause activePause;
    private Thread hook;

    private Map<String, String> features = Map.of();
    private int packetSize = 4096;
    private boolean multiprocess;
    private boolean vContContinue;
    private TargetDescription target;
    private List<GdbThread> threads = List.of();

    private GdbClient(Endpoint endpoint, GdbOptions options) {
        this.endpoint = endpoint;
        this.options = options;
    }

    public static GdbClient connect(Endpoint endpoint) {
        return connect(endpoint, GdbOptions.defaults());
    }

    /**
     * Connects, negotiates ({@code qSupported}, {@code QStartNoAckMode} when offered), reads the
     * target description and the thread list, then resumes the VM if the attach paused it.
     *
     * @throws ConnectionException     when the socket cannot be reached or closes early
     * @throws CommandTimeoutException when the stub does not answer (another client may hold it:
     *                                 QEMU queues a second client until the first leaves)
     * @throws ProtocolException       when the peer does not speak RSP
     */
    public static GdbClient connect(Endpoint endpoint, GdbOptions options) {
        GdbClient c = new GdbClient(endpoint, options);
        c.channel = Transports.connect(endpoint, c.initializer(), options.connectTimeout());
        c.channel.closeFuture().addListener(f -> c.onClosed());
        try {
            c.handshake();
            if (options.shutdownHook()) {
                c.hook = new Thread(c::emergencyRelease, "tickwatch-gdb-release");
                Runtime.getRuntime().addShutdownHook(c.hook);
            }
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private ChannelInitializer<Channel> initializer() {
        var tap = options.transcript();
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("rsp-decoder", new RspDecoder(options.maxPacketLength(),
                        tap == null ? null : f -> tap.accept("S", f)));
                ch.pipeline().addLast("rsp-encoder", new RspEncoder(tap == null ? null : f -> tap.accept("C", f)));
                ch.pipeline().addLast("rsp-acks", acks);
                ch.pipeline().addLast("gdb-client", new Handler());
            }
        };
    }

    private void handshake() {
        String supported;
        try {
            supported = text(requestAsync("qSupported:multiprocess+;vContSupported+", Kind.REPLY,
                    options.connectTimeout()).get(options.connectTimeout().toMillis() + 500, TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            throw new CommandTimeoutException("qSupported", options.connectTimeout(), "no answer from the gdbstub at "
                    + endpoint + " within " + options.connectTimeout().toMillis() + " ms: is another debugger"
                    + " attached? QEMU serves one gdb client at a time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionException("interrupted while connecting to " + endpoint, e);
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
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
        if ("+".equals(features.get("qXfer:features:read"))) {
            target = TargetDescription.read(annex -> readXfer("features", annex));
        }
        threads = queryThreads();
        try {
            vContContinue = request("vCont?").contains(";c");
        } catch (GdbUnsupportedException e) {
            vContContinue = false;
        }
        attaching = false;
        // An unsolicited stop reply before the first answer: the attach stopped a running VM.
        stoppedByUs = attachStopped;
        if (stoppedByUs) {
            resume();
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

    // ---- what the client knows ----

    public Endpoint endpoint() {
        return endpoint;
    }

    /** The stub's {@code qSupported} features: {@code PacketSize -> 1000}, {@code multiprocess -> +}. */
    public Map<String, String> features() {
        return features;
    }

    /** The packet size the stub announced, in bytes. */
    public int packetSize() {
        return packetSize;
    }

    public boolean multiprocess() {
        return multiprocess;
    }

    /** The target description, or null when the stub offers none. */
    public TargetDescription target() {
        return target;
    }

    /** The threads (vCPUs) as of the attach. */
    public List<GdbThread> threads() {
        return threads;
    }

    /** Whether the attach stopped a running VM (QEMU sent an unsolicited stop reply). */
    public boolean wasRunningAtAttach() {
        return attachStopped;
    }

    /** Whether the VM is stopped and we are the ones who stopped it. */
    public boolean pausedByUs() {
        return stoppedByUs;
    }

    public boolean isRunning() {
        return running;
    }

    public boolean isOpen() {
        Channel ch = channel;
        return ch != null && ch.isActive();
    }

    /** The last stop reply seen, e.g. {@code T02thread:p01.01;}, or null. */
    public String lastStop() {
        return lastStop;
    }

    /** Completes when the connection is gone, for whatever reason. */
    public CompletableFuture<Void> closeFuture() {
        return closed;
    }

    /**
     * The QMP {@code cont} sent after losing the connection during one of our pauses, or null
     * when none was needed. Completes when QEMU answered.
     */
    public CompletableFuture<?> fallbackResume() {
        return fallbackResume;
    }

    /** QMP {@code query-status}, when a QMP client was given; else null. */
    public QmpStatus vmStatus() {
        QmpClient q = options.qmp();
        return q == null ? null : q.queryStatus();
    }

    // ---- pause safety ----

    /**
     * Pauses the VM (sends {@code 0x03} and waits for the stop) unless it is stopped already,
     * and returns the scope that resumes it. Pauses do not nest.
     */
    public GdbPause pause() {
        synchronized (this) {
            if (activePause != null) {
                throw new IllegalStateException("already paused: pauses do not nest");
            }
            requireOpen("pause");
            boolean ours;
            if (running) {
                interrupt();
                ours = true;
            } else {
                ours = stoppedByUs;
            }
            activePause = new GdbPause(this, ours);
            return activePause;
        }
    }

    void release(GdbPause p) {
        synchronized (this) {
            if (activePause == p) {
                activePause = null;
            }
            if (!p.ours() || !stoppedByUs) {
                return;
            }
            if (isOpen()) {
                try {
                    resume();
                } catch (TickwatchException e) {
                    // The connection went while resuming: onClosed resumes through QMP.
                    LOG.log(System.Logger.Level.WARNING, "cannot resume through the gdbstub: {0}", e.getMessage());
                }
            }
        }
    }

    /**
     * Sends {@code 0x03} while the VM runs and waits for the stop reply (GDB manual, "Interrupts").
     * Does nothing when the VM is stopped.
     */
    public void interrupt() {
        Pending run = runPending();
        if (run == null) {
            return;
        }
        interruptSent = true;
        channel.writeAndFlush(RspInterrupt.INSTANCE);
        try {
            run.future.get(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            channel.close();
            throw new CommandTimeoutException("GDB", "interrupt (0x03)", options.requestTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TickwatchException("interrupted", e);
        } catch (ExecutionException e) {
            // A stop reply that is an error still stopped nothing we know of: report it.
            throw unwrap(e.getCause());
        }
    }

    private Pending runPending() {
        Channel ch = channel;
        if (ch == null) {
            return null;
        }
        CompletableFuture<Pending> f = new CompletableFuture<>();
        ch.eventLoop().execute(() -> {
            Pending r = null;
            for (Pending p : pending) {
                if (p.kind == Kind.RUN) {
                    r = p;
                }
            }
            f.complete(r);
        });
        return f.join();
    }

    /** Continues every vCPU ({@code vCont;c}, or {@code c}); the VM runs until the next pause. */
    public void resume() {
        requireOpen("continue");
        if (running) {
            return;
        }
        String cmd = vContContinue ? "vCont;c" : "c";
        Pending run = requestPending(cmd, Kind.RUN, options.requestTimeout());
        running = true;
        try {
            // No reply comes until the next stop; the stub's '+' is the proof that it took the packet.
            CompletableFuture.anyOf(run.accepted, run.future).get(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            channel.close();
            throw new CommandTimeoutException("GDB", cmd + " (acknowledgment)", options.requestTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TickwatchException("interrupted", e);
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        }
        if (run.future.isCompletedExceptionally() && !run.accepted.isDone()) {
            await(run.future);
        }
        stoppedByUs = false;
    }

    // ---- requests ----

    /** Sends {@code command} and waits for its reply, as text. */
    public String request(String command) {
        return text(await(requestAsync(command, Kind.REPLY, options.requestTimeout())));
    }

    /** {@code ?}: the reason the target stopped, a stop reply such as {@code T05thread:p01.01;}. */
    public String stopReason() {
        requireStopped("?");
        return text(await(requestAsync("?", Kind.STOP_QUERY, options.requestTimeout())));
    }

    /** {@code qfThreadInfo}/{@code qsThreadInfo}: every thread; in QEMU one per vCPU. */
    public List<GdbThread> queryThreads() {
        List<GdbThread> out = new ArrayList<>();
        String reply = request("qfThreadInfo");
        while (reply.startsWith("m")) {
            for (String id : reply.substring(1).split(",")) {
                if (!id.isEmpty()) {
                    out.add(GdbThread.parse(id));
                }
            }
            reply = request("qsThreadInfo");
        }
        if (!reply.startsWith("l")) {
            throw new ProtocolException("unexpected thread list reply '" + reply + "'");
        }
        return List.copyOf(out);
    }

    /** {@code Hg} then {@code g}: one thread's registers, named from the target description. */
    public Registers registers(GdbThread thread) {
        requireStopped("g");
        if (target == null) {
            throw new GdbUnsupportedException("qXfer:features:read");
        }
        request("Hg" + thread.id());
        byte[] g = await(requestAsync("g", Kind.REPLY, options.requestTimeout()));
        Map<String, byte[]> values = new LinkedHashMap<>();
        for (Map.Entry<TargetDescription.Register, Integer> e : target.gLayout(g.length / 2).entrySet()) {
            int from = e.getValue() * 2;
            int to = from + e.getKey().byteSize() * 2;
            if (g[from] == 'x') {
                continue; // unavailable
            }
            values.put(e.getKey().name(), Rsp.unhex(g, from, to));
        }
        return new Registers(thread, values);
    }

    /** {@code Hg}: the thread (vCPU) whose view later {@code g}, {@code p} and {@code m} requests take. */
    public void selectThread(GdbThread thread) {
        requireStopped("Hg");
        request("Hg" + thread.id());
    }

    /** Registers of every thread (vCPU), in thread order. */
    public List<Registers> registersOfAll() {
        List<Registers> out = new ArrayList<>();
        for (GdbThread t : threads) {
            out.add(registers(t));
        }
        return out;
    }

    /** {@code p}: one register of the selected thread ({@code Hg}); little-endian bytes. */
    public byte[] register(GdbThread thread, String name) {
        requireStopped("p");
        TargetDescription.Register r = target == null ? null : target.register(name);
        if (r == null) {
            throw new IllegalArgumentException("no register '" + name + "' in the target description");
        }
        request("Hg" + thread.id());
        String reply = request("p" + Integer.toHexString(r.regnum()));
        return Rsp.unhex(reply);
    }

    /** The largest {@code m} read: the packet size (two hex digits a byte) and QEMU's 2048 bytes. */
    public int memoryChunk() {
        return Math.min(QEMU_MAX_MEMORY_READ, packetSize / 2);
    }

    /**
     * {@code m}: {@code length} bytes of guest virtual memory at {@code address} as the selected
     * vCPU sees it, in chunks of {@link #memoryChunk()}, up to {@link GdbOptions#readWindow()} in flight.
     *
     * @throws GdbErrorException with code 0x0e when part of the range is not mapped
     */
    public byte[] readMemory(long address, int length) {
        requireStopped("m");
        if (length < 0) {
            throw new IllegalArgumentException("length: " + length + " (expected: >= 0)");
        }
        byte[] out = new byte[length];
        int chunk = memoryChunk();
        Semaphore window = new Semaphore(options.readWindow());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<CompletableFuture<byte[]>> all = new ArrayList<>();
        for (int off = 0; off < length && failure.get() == null; off += chunk) {
            window.acquireUninterruptibly();
            int at = off;
            int n = Math.min(chunk, length - off);
            String cmd = "m" + Long.toHexString(address + at) + "," + Integer.toHexString(n);
            CompletableFuture<byte[]> f = requestAsync(cmd, Kind.REPLY, options.requestTimeout());
            // Wait on the future whenComplete returns, not on f: f.get() can return before this
            // action has copied the bytes, and the caller would see zeros (seen in snapshot stacks).
            all.add(f.whenComplete((reply, t) -> {
                try {
                    if (t == null) {
                        if (reply.length != 2 * n) {
                            throw new ProtocolException("'" + cmd + "' returned " + reply.length / 2
                                    + " bytes (expected: " + n + ")");
                        }
                        byte[] bytes = Rsp.unhex(reply, 0, reply.length);
                        System.arraycopy(bytes, 0, out, at, n);
                    } else {
                        failure.compareAndSet(null, t);
                    }
                } catch (RuntimeException e) {
                    failure.compareAndSet(null, e);
                } finally {
                    window.release();
                }
            }));
        }
        for (CompletableFuture<byte[]> f : all) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TickwatchException("interrupted", e);
            } catch (ExecutionException e) {
                failure.compareAndSet(null, e.getCause());
            }
        }
        if (failure.get() != null) {
            throw unwrap(failure.get());
        }
        return out;
    }

    /** {@code qRcmd}: runs a monitor (HMP) command in QEMU; returns its output from the {@code O} packets. */
    public String monitor(String commandLine) {
        requireStopped("qRcmd");
        byte[] out = await(requestAsync("qRcmd," + Rsp.hex(commandLine), Kind.MONITOR, options.requestTimeout()));
        return new String(out, StandardCharsets.UTF_8);
    }

    /** {@code qXfer:OBJECT:read:ANNEX}, all of it, in chunks that fit the packet size. */
    public String readXfer(String object, String annex) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int chunk = Math.max(256, packetSize - 16);
        for (int offset = 0; ; ) {
            byte[] r = await(requestAsync("qXfer:" + object + ":read:" + annex + ":" + Integer.toHexString(offset)
                    + "," + Integer.toHexString(chunk), Kind.REPLY, options.requestTimeout()));
            if (r[0] != 'l' && r[0] != 'm') {
                throw new ProtocolException("qXfer reply starts with '" + (char) r[0] + "' (expected: m or l)");
            }
            out.write(r, 1, r.length - 1);
            if (r[0] == 'l') {
                return out.toString(StandardCharsets.UTF_8);
            }
            if (r.length == 1 || out.size() > 16 * 1024 * 1024) {
                throw new ProtocolException("qXfer of " + annex + " does not end");
            }
            offset += r.length - 1;
        }
    }

    /**
     * {@code D} ({@code D;pid} in multiprocess mode, as QEMU 7.2 requires): QEMU resumes the VM.
     * The connection stays open for nothing afterwards; {@link #close()} follows.
     */
    public void detach() {
        if (running) {
            // QEMU 7.2 eats the first byte it reads while the VM runs (it only stops the VM),
            // so a packet sent now would lose its '$': stop first, then detach.
            interrupt();
        }
        String cmd = multiprocess ? "D;" + Long.toHexString(threads.isEmpty() ? 1 : threads.get(0).pid()) : "D";
        await(requestAsync(cmd, Kind.REPLY, options.requestTimeout()));
        stoppedByUs = false;
        running = false;
    }

    /**
     * Ends the session leaving the VM as we found it: resumes a pause of ours, detaches with
     * {@code D} when the VM runs or we paused it, and closes without {@code D} when it was paused
     * before we came (QEMU's {@code D} would resume it). Falls back to QMP {@code cont} when the
     * stub cannot be reached and we hold the VM paused.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            activePause = null;
        }
        try {
            if (isOpen() && (running || stoppedByUs)) {
                detach();
            }
        } catch (TickwatchException e) {
            LOG.log(System.Logger.Level.WARNING, "detach from " + endpoint + " failed: " + e.getMessage());
        } finally {
            Channel ch = channel;
            if (ch != null) {
                ch.close().syncUninterruptibly();
                // onClosed runs on the event loop; wait for it so that a fallback has been started.
                closed.join();
            } else {
                onClosed();
            }
            removeHook();
        }
    }

    private void removeHook() {
        Thread h = hook;
        if (h != null && Thread.currentThread() != h) {
            try {
                Runtime.getRuntime().removeShutdownHook(h);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs anyway and finds nothing to do
            }
        }
    }

    /** The shutdown hook: resume what we paused, by D while the stub answers, else QMP. */
    void emergencyRelease() {
        if (!stoppedByUs || !isOpen()) {
            return;
        }
        try {
            String cmd = multiprocess ? "D;" + Long.toHexString(threads.isEmpty() ? 1 : threads.get(0).pid()) : "D";
            requestAsync(cmd, Kind.REPLY, Duration.ofSeconds(1)).get(1500, TimeUnit.MILLISECONDS);
            stoppedByUs = false;
        } catch (Exception e) {
            channel.close().syncUninterruptibly();
        }
    }

    // ---- plumbing ----

    private void requireOpen(String what) {
        if (closing || !isOpen()) {
            throw new ConnectionException("not connected to " + endpoint + " (cannot " + what + ")");
        }
    }

    private void requireStopped(String what) {
        if (running) {
            throw new IllegalStateException("the VM is running: pause() before '" + what + "'");
        }
    }

    private CompletableFuture<byte[]> requestAsync(String command, Kind kind, Duration timeout) {
        return requestPending(command, kind, timeout).future;
    }

    private Pending requestPending(String command, Kind kind, Duration timeout) {
        Pending p = new Pending(command, kind);
        Channel ch = channel;
        if (ch == null || !ch.isActive()) {
            p.future.completeExceptionally(new ConnectionException("not connected to " + endpoint
                    + " (cannot send '" + command + "')"));
            return p;
        }
        byte[] payload = command.getBytes(StandardCharsets.ISO_8859_1);
        if (payload.length > packetSize) {
            p.future.completeExceptionally(new IllegalArgumentException("packet length: " + payload.length
                    + " (expected: <= " + packetSize + ", the stub's PacketSize)"));
            return p;
        }
        ch.eventLoop().execute(() -> {
            if (!ch.isActive()) {
                p.future.completeExceptionally(new ConnectionException("connection to " + endpoint
                        + " lost (cannot send '" + command + "')"));
                return;
            }
            if (pending.size() >= MAX_PENDING) {
                p.future.completeExceptionally(new TickwatchException("too many GDB requests in flight: "
                        + pending.size()));
                return;
            }
            if (kind != Kind.RUN) {
                p.timeout = ch.eventLoop().schedule(() -> {
                    if (pending.remove(p)) {
                        // Replies have no id: the connection cannot be trusted after a missing one.
                        // Closed before the caller hears of it, so that nothing more is sent on it.
                        ch.close();
                        p.future.completeExceptionally(new CommandTimeoutException("GDB", command, timeout));
                    }
                }, timeout.toNanos(), TimeUnit.NANOSECONDS);
            }
            if (kind == Kind.MONITOR) {
                p.console = new ByteArrayOutputStream();
            }
            pending.addLast(p);
            p.sent = new RspPacket(payload);
            ch.writeAndFlush(p.sent).addListener(w -> {
                if (w.isSuccess() && !acks.acksEnabled()) {
                    p.accepted.complete(null);
                }
                if (!w.isSuccess() && pending.remove(p)) {
                    cancel(p);
                    p.future.completeExceptionally(new ConnectionException("cannot send '" + command + "' to "
                            + endpoint + ": " + w.cause(), w.cause()));
                    ch.close();
                }
            });
        });
        return p;
    }

    private static void cancel(Pending p) {
        if (p.timeout != null) {
            p.timeout.cancel(false);
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<RspMessage> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RspMessage msg) {
            if (msg instanceof RspPacket p) {
                onPacket(p.payload());
            } else if (msg instanceof RspConsole c) {
                Pending head = pending.peekFirst();
                if (head != null && head.kind == Kind.MONITOR && head.console.size() < MAX_MONITOR_OUTPUT) {
                    head.console.write(c.output(), 0, c.output().length);
                } else {
                    LOG.log(System.Logger.Level.DEBUG, "gdbstub console: {0}", c.text());
                }
            } else if (msg instanceof RspNotification n) {
                LOG.log(System.Logger.Level.DEBUG, "gdbstub notification ignored: {0}", n.text());
            } else if (msg instanceof RspInvalid bad) {
                if (acks.acksEnabled() && bad.fromPacket()) {
                    // We answered '-': the stub sends the packet again.
                    LOG.log(System.Logger.Level.DEBUG, "bad packet from {0}, asked again: {1}", endpoint, bad.reason());
                } else {
                    Pending head = pending.pollFirst();
                    ProtocolException ex = new ProtocolException("garbled RSP data from " + endpoint + ": "
                            + bad.reason() + " near '" + bad.excerpt() + "'");
                    if (head != null) {
                        cancel(head);
                        head.future.completeExceptionally(ex);
                    }
                }
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof RspAckHandler.Acknowledged a) {
                for (Pending p : pending) {
                    if (p.sent == a.packet()) {
                        p.accepted.complete(null);
                        break;
                    }
                }
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.DEBUG, "GDB connection error on " + endpoint, cause);
            Pending head = pending.pollFirst();
            if (head != null) {
                cancel(head);
                head.future.completeExceptionally(cause instanceof TickwatchException te ? te
                        : new ConnectionException("GDB connection error on " + endpoint + ": " + cause, cause));
            }
            ctx.close();
        }
    }

    private void onPacket(byte[] payload) {
        boolean stop = payload.length > 0 && (payload[0] == 'T' || payload[0] == 'S' || payload[0] == 'W'
                || payload[0] == 'X');
        Pending head = pending.peekFirst();
        if (stop && (head == null || head.kind == Kind.REPLY || head.kind == Kind.MONITOR)) {
            // Nobody asked: QEMU's announcement that the attach (or someone else) stopped the VM.
            lastStop = text(payload);
            if (attaching) {
                attachStopped = true;
            }
            LOG.log(System.Logger.Level.DEBUG, "unsolicited stop reply {0}", lastStop);
            return;
        }
        if (head == null) {
            LOG.log(System.Logger.Level.DEBUG, "reply with no request ignored: {0}", text(payload));
            return;
        }
        pending.pollFirst();
        cancel(head);
        if (stop) {
            lastStop = text(payload);
        }
        if (head.kind == Kind.RUN) {
            running = false;
            stoppedByUs = interruptSent;
            interruptSent = false;
        }
        if (payload.length == 0) {
            head.future.completeExceptionally(new GdbUnsupportedException(head.command));
        } else if (payload.length == 3 && payload[0] == 'E' && Rsp.hexValue(payload[1]) >= 0
                && Rsp.hexValue(payload[2]) >= 0) {
            head.future.completeExceptionally(new GdbErrorException(head.command,
                    Rsp.hexValue(payload[1]) << 4 | Rsp.hexValue(payload[2])));
        } else if (head.kind == Kind.MONITOR) {
            head.future.complete(head.console.toByteArray());
        } else {
            head.future.complete(payload);
        }
    }

    private void onClosed() {
        Runnable fail = () -> {
            String why = closing ? "closed" : "lost";
            for (Pending p : pending) {
                cancel(p);
                p.future.completeExceptionally(new ConnectionException("connection to " + endpoint + " " + why
                        + " while waiting for the reply to '" + p.command + "'"));
            }
            pending.clear();
            if (stoppedByUs) {
                fallbackResume = resumeThroughQmp();
            }
            closed.complete(null);
        };
        Channel ch = channel;
        if (ch != null && !ch.eventLoop().inEventLoop()) {
            ch.eventLoop().execute(fail);
        } else {
            fail.run();
        }
    }

    /** The stub is gone while the VM is paused because of us: resume it through QMP, if we can. */
    private CompletableFuture<?> resumeThroughQmp() {
        QmpClient q = options.qmp();
        if (q == null || !q.isOpen()) {
            LOG.log(System.Logger.Level.WARNING, "lost the gdbstub at " + endpoint + " while the VM was paused"
                    + " by us, and no QMP connection to resume it: run QMP 'cont'");
            return CompletableFuture.failedFuture(new ConnectionException("no QMP client to resume the VM"));
        }
        LOG.log(System.Logger.Level.INFO, "lost the gdbstub at {0} during our pause: resuming through QMP", endpoint);
        stoppedByUs = false;
        return q.executeAsync("cont", null).whenComplete((r, t) -> {
            if (t != null) {
                LOG.log(System.Logger.Level.WARNING, "QMP cont after losing the gdbstub failed: " + t);
            }
        });
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TickwatchException("interrupted", e);
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        }
    }

    private static RuntimeException unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof RuntimeException re ? re : new TickwatchException(t.toString(), t);
    }
}
