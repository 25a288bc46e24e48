package dev.tickwatch.gdb;

import dev.tickwatch.CommandTimeoutException;
import dev.tickwatch.ConnectionException;
import dev.tickwatch.ProtocolException;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.gdb.codec.Rsp;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.util.Futures;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A GDB remote protocol client for QEMU's gdbstub (GDB manual, "Remote Protocol": "Packets",
 * "Stop Reply Packets", "General Query Packets" for {@code qSupported}, {@code qfThreadInfo},
 * {@code qXfer:features:read}, {@code qRcmd}; "Interrupts"; "Packet Acknowledgment"): the
 * operations (registers, memory, monitor commands, threads) over three parts, each with one job:
 * {@link GdbConnection} (pipeline, negotiation, blocking requests), {@link GdbRequestHandler}
 * (replies matched to requests in order, as in Lettuce's {@code CommandHandler}; timeouts) and
 * {@link GdbPauseGuard} (the VM's run state; every way out of a pause of ours resumes it).
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
 * reachable, else by {@link GdbOptions#fallbackResume()} (QMP {@code cont}) when one is given.
 * A VM that was paused before we attached is left paused: we leave it by closing without
 * {@code D}, because QEMU's {@code D} resumes the VM whoever paused it.
 *
 * <p>Blocking methods must not be called from an event-loop thread.
 */
public final class GdbClient implements AutoCloseable {

    /** QEMU 7.2 answers E22 to an {@code m} of more than this many bytes. */
    public static final int QEMU_MAX_MEMORY_READ = 2048;

    private final GdbConnection conn;
    private final GdbPauseGuard guard;
    private TargetDescription target;
    private List<GdbThread> threads = List.of();

    private GdbClient(GdbConnection conn, GdbPauseGuard guard) {
        this.conn = conn;
        this.guard = guard;
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
        GdbConnection conn = new GdbConnection(endpoint, options);
        GdbPauseGuard guard = new GdbPauseGuard(conn);
        GdbClient c = new GdbClient(conn, guard);
        conn.open(guard::connectionGone);
        try {
            c.describe();
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private void describe() {
        if ("+".equals(conn.features().get("qXfer:features:read"))) {
            target = TargetDescription.read(annex -> readXfer("features", annex));
        }
        threads = queryThreads();
        boolean vContContinue;
        try {
            vContContinue = request("vCont?").contains(";c");
        } catch (GdbUnsupportedException e) {
            vContContinue = false;
        }
        String detach = conn.multiprocess()
                ? "D;" + Long.toHexString(threads.isEmpty() ? 1 : threads.get(0).pid()) : "D";
        // An unsolicited stop reply before the first answer: the attach stopped a running VM.
        guard.attached(conn.endAttach(), vContContinue ? "vCont;c" : "c", detach);
    }

    // ---- what the client knows ----

    public Endpoint endpoint() {
        return conn.endpoint();
    }

    /** The stub's {@code qSupported} features: {@code PacketSize -> 1000}, {@code multiprocess -> +}. */
    public Map<String, String> features() {
        return conn.features();
    }

    /** The packet size the stub announced, in bytes. */
    public int packetSize() {
        return conn.packetSize();
    }

    public boolean multiprocess() {
        return conn.multiprocess();
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
        return conn.attachStopped();
    }

    /** Whether the VM is stopped and we are the ones who stopped it. */
    public boolean pausedByUs() {
        return guard.pausedByUs();
    }

    public boolean isRunning() {
        return guard.isRunning();
    }

    public boolean isOpen() {
        return conn.isOpen();
    }

    /** The last stop reply seen, e.g. {@code T02thread:p01.01;}, or null. */
    public String lastStop() {
        return conn.lastStop();
    }

    /** Completes when the connection is gone, for whatever reason. */
    public CompletableFuture<Void> closeFuture() {
        return conn.closeFuture();
    }

    /**
     * What {@link GdbOptions#fallbackResume()} returned after losing the connection during one of
     * our pauses (failed when none was given), or null when none was needed.
     */
    public CompletableFuture<?> fallbackResume() {
        return guard.fallbackResume();
    }

    // ---- pause safety ----

    /**
     * Pauses the VM (sends {@code 0x03} and waits for the stop) unless it is stopped already,
     * and returns the scope that resumes it. Pauses do not nest.
     */
    public GdbPause pause() {
        return guard.pause();
    }

    /**
     * Sends {@code 0x03} while the VM runs and waits for the stop reply (GDB manual, "Interrupts").
     * Does nothing when the VM is stopped.
     */
    public void interrupt() {
        guard.interrupt();
    }

    /** Continues every vCPU ({@code vCont;c}, or {@code c}); the VM runs until the next pause. */
    public void resume() {
        guard.resume();
    }

    // ---- requests ----

    /** Sends {@code command} and waits for its reply, as text. */
    public String request(String command) {
        return conn.request(command);
    }

    /** {@code ?}: the reason the target stopped, a stop reply such as {@code T05thread:p01.01;}. */
    public String stopReason() {
        guard.requireStopped("?");
        return text(conn.requestBytes("?", GdbRequest.Kind.STOP_QUERY));
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
        guard.requireStopped("g");
        if (target == null) {
            throw new GdbUnsupportedException("qXfer:features:read");
        }
        request("Hg" + thread.id());
        byte[] g = conn.requestBytes("g", GdbRequest.Kind.REPLY);
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
        guard.requireStopped("Hg");
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
        guard.requireStopped("p");
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
        return Math.min(QEMU_MAX_MEMORY_READ, conn.packetSize() / 2);
    }

    /**
     * {@code m}: {@code length} bytes of guest virtual memory at {@code address} as the selected
     * vCPU sees it, in chunks of {@link #memoryChunk()}, up to {@link GdbOptions#readWindow()} in flight.
     *
     * @throws GdbErrorException with code 0x0e when part of the range is not mapped
     */
    public byte[] readMemory(long address, int length) {
        guard.requireStopped("m");
        if (length < 0) {
            throw new IllegalArgumentException("length: " + length + " (expected: >= 0)");
        }
        byte[] out = new byte[length];
        int chunk = memoryChunk();
        Semaphore window = new Semaphore(conn.options().readWindow());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<CompletableFuture<byte[]>> all = new ArrayList<>();
        for (int off = 0; off < length && failure.get() == null; off += chunk) {
            window.acquireUninterruptibly();
            int at = off;
            int n = Math.min(chunk, length - off);
            String cmd = "m" + Long.toHexString(address + at) + "," + Integer.toHexString(n);
            CompletableFuture<byte[]> f = conn.requestAsync(cmd, GdbRequest.Kind.REPLY);
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
            throw Futures.unwrap(failure.get());
        }
        return out;
    }

    /** {@code qRcmd}: runs a monitor (HMP) command in QEMU; returns its output from the {@code O} packets. */
    public String monitor(String commandLine) {
        guard.requireStopped("qRcmd");
        byte[] out = conn.requestBytes("qRcmd," + Rsp.hex(commandLine), GdbRequest.Kind.MONITOR);
        return new String(out, StandardCharsets.UTF_8);
    }

    /** {@code qXfer:OBJECT:read:ANNEX}, all of it, in chunks that fit the packet size. */
    public String readXfer(String object, String annex) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int chunk = Math.max(256, conn.packetSize() - 16);
        for (int offset = 0; ; ) {
            byte[] r = conn.requestBytes("qXfer:" + object + ":read:" + annex + ":" + Integer.toHexString(offset)
                    + "," + Integer.toHexString(chunk), GdbRequest.Kind.REPLY);
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
        guard.detach(conn.options().requestTimeout());
    }

    /**
     * Ends the session leaving the VM as we found it: resumes a pause of ours, detaches with
     * {@code D} when the VM runs or we paused it, and closes without {@code D} when it was paused
     * before we came (QEMU's {@code D} would resume it). Falls back to
     * {@link GdbOptions#fallbackResume()} when the stub cannot be reached and we hold the VM paused.
     */
    @Override
    public void close() {
        guard.close();
    }

    /** The shutdown hook's work: resume what we paused, by D while the stub answers, else the fallback. */
    void emergencyRelease() {
        guard.emergencyRelease();
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
