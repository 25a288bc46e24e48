package dev.tickwatch.net;

import dev.tickwatch.ConnectionException;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The process-wide event loop and the one place that turns an {@link Endpoint} into a
 * connected channel. Unix sockets go through NIO's domain socket support (Java 16+), so no
 * native library is needed. Threads are daemons: a forgotten client never keeps the JVM alive.
 */
public final class Transports {

    private static final class Holder {
        // Two threads are plenty: QMP and RSP traffic is small; the work is waiting.
        static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(2,
                new DefaultThreadFactory("tickwatch-io", true), NioIoHandler.newFactory());
    }

    private Transports() {
    }

    public static EventLoopGroup group() {
        return Holder.GROUP;
    }

    /**
     * Connects to {@code endpoint} and installs {@code initializer}'s handlers.
     *
     * @throws ConnectionException with one line saying what is wrong (no such socket, refused...)
     */
    public static Channel connect(Endpoint endpoint, ChannelInitializer<Channel> initializer,
            Duration connectTimeout) {
        return connect(endpoint, initializer, connectTimeout, null);
    }

    /**
     * The same; a refused connection's message ends with {@code serverHint}, the question that
     * helps (e.g. "is QEMU running with -qmp ...,server=on?"), when not null.
     */
    public static Channel connect(Endpoint endpoint, ChannelInitializer<Channel> initializer,
            Duration connectTimeout, String serverHint) {
        if (endpoint instanceof Endpoint.Unix unix) {
            String notSocket = notASocket(unix.path());
            if (notSocket != null) {
                throw new ConnectionException("cannot connect to " + endpoint + ": " + notSocket);
            }
        }
        Bootstrap b = new Bootstrap().group(group()).handler(initializer)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis());
        java.net.SocketAddress address;
        if (endpoint instanceof Endpoint.Unix unix) {
            b.channel(NioDomainSocketChannel.class);
            address = unix.socketAddress();
        } else {
            Endpoint.Tcp tcp = (Endpoint.Tcp) endpoint;
            b.channel(NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true);
            address = new InetSocketAddress(tcp.host(), tcp.port());
        }
        ChannelFuture f = b.connect(address);
        if (!f.awaitUninterruptibly(connectTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS)) {
            f.cancel(false);
            throw new ConnectionException("cannot connect to " + endpoint + ": timed out after "
                    + connectTimeout.toMillis() + " ms");
        }
        if (!f.isSuccess()) {
            throw new ConnectionException("cannot connect to " + endpoint + ": " + reason(endpoint, f.cause(), serverHint),
                    f.cause());
        }
        return f.channel();
    }

    /** Why {@code path} cannot be a listening socket, or null if it may be one. */
    private static String notASocket(Path path) {
        if (!Files.exists(path)) {
            return "no such socket";
        }
        if (Files.isDirectory(path)) {
            return "is a folder, not a socket";
        }
        if (Files.isRegularFile(path)) {
            return "is a regular file, not a socket";
        }
        return null;
    }

    private static String reason(Endpoint endpoint, Throwable t, String serverHint) {
        String hint = serverHint == null ? "" : ": " + serverHint;
        String m = t.getMessage();
        if (t instanceof ConnectException && m != null && m.toLowerCase(java.util.Locale.ROOT).contains("refused")) {
            // A unix socket nobody listens on is what a QEMU that went away leaves behind.
            return endpoint instanceof Endpoint.Unix
                    ? "connection refused: nothing listens on the socket" + (serverHint == null ? " (QEMU gone?)"
                            : "; " + serverHint)
                    : "connection refused" + hint;
        }
        if (t instanceof java.net.UnknownHostException) {
            return "unknown host";
        }
        if (t instanceof ConnectException && m != null) {
            return m.replaceFirst("^.*: ", "");
        }
        return m != null ? m : t.getClass().getSimpleName();
    }

    // ---- a burst of commands as one hand-off per event loop

    /** On a thread inside {@link #held}: the tasks held back, by event loop. */
    private static final ThreadLocal<Map<EventLoop, List<Runnable>>> HELD = new ThreadLocal<>();
    /** On an event loop running a held burst: the channels written to and not flushed yet. */
    private static final ThreadLocal<Set<Channel>> UNFLUSHED = new ThreadLocal<>();

    /**
     * Runs {@code r}, holding back the channel tasks it hands to {@link #execute} until it
     * returns, then giving each event loop its share as one task, in which a channel written to
     * several times is flushed once. A hundred watches sending their sample's commands together
     * then wake each event loop once, not once per command, and each guest's commands leave in
     * one write. {@code r} must not wait for a reply to what it sends: nothing goes out before it
     * returns (the QMP client's waiting calls refuse to, see {@link #holding}).
     */
    public static void held(Runnable r) {
        if (HELD.get() != null) {
            r.run();
            return;
        }
        Map<EventLoop, List<Runnable>> held = new IdentityHashMap<>();
        HELD.set(held);
        try {
            r.run();
        } finally {
            HELD.remove();
            for (Map.Entry<EventLoop, List<Runnable>> e : held.entrySet()) {
                List<Runnable> tasks = e.getValue();
                e.getKey().execute(() -> runBurst(tasks));
            }
        }
    }

    /** Whether this thread is inside {@link #held}: a reply waited for here would never come. */
    public static boolean holding() {
        return HELD.get() != null;
    }

    /** Runs {@code task} on {@code loop}: now, or with the rest of the burst when inside {@link #held}. */
    public static void execute(EventLoop loop, Runnable task) {
        Map<EventLoop, List<Runnable>> held = HELD.get();
        if (held == null) {
            loop.execute(task);
        } else {
            held.computeIfAbsent(loop, k -> new ArrayList<>()).add(task);
        }
    }

    /**
     * Writes {@code msg} to {@code ch} (on its event loop): flushed now, or once at the end of the
     * held burst this task runs in.
     */
    public static ChannelFuture write(Channel ch, Object msg) {
        Set<Channel> unflushed = UNFLUSHED.get();
        if (unflushed == null) {
            return ch.writeAndFlush(msg);
        }
        unflushed.add(ch);
        return ch.write(msg);
    }

    private static void runBurst(List<Runnable> tasks) {
        Set<Channel> unflushed = Collections.newSetFromMap(new IdentityHashMap<>());
        UNFLUSHED.set(unflushed);
        try {
            for (Runnable t : tasks) {
                try {
                    t.run();
                } catch (RuntimeException e) {
                    // One client's task must not keep the others' commands from going out.
                    System.getLogger(Transports.class.getName()).log(System.Logger.Level.WARNING, "channel task failed", e);
                }
            }
        } finally {
            UNFLUSHED.remove();
            for (Channel ch : unflushed) {
                ch.flush();
            }
        }
    }
}
