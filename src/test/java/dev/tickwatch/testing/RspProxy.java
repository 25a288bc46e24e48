package dev.tickwatch.testing;

import dev.tickwatch.net.Endpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP-to-unix-socket relay in front of a gdbstub, for faults real QEMU cannot be asked for:
 * {@link #cut()} drops both sides as if the stub vanished; {@link #swallow()} makes the relay
 * discard what the client sends, so that the client's request never gets an answer.
 * One connection at a time; blocking threads, since this is a test utility.
 */
public final class RspProxy implements AutoCloseable {

    private final ServerSocket server;
    private final Endpoint.Unix upstream;
    private final AtomicBoolean swallow = new AtomicBoolean();
    private volatile Socket client;
    private volatile SocketChannel stub;

    public RspProxy(Endpoint.Unix upstream) throws IOException {
        this.upstream = upstream;
        this.server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "rsp-proxy-accept");
        t.setDaemon(true);
        t.start();
    }

    public Endpoint endpoint() {
        return new Endpoint.Tcp("127.0.0.1", server.getLocalPort());
    }

    public void swallow() {
        swallow.set(true);
    }

    /** Closes both connections at once, as if the stub's side went away. */
    public void cut() {
        closeQuietly(client);
        SocketChannel s = stub;
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private void acceptLoop() {
        try {
            while (!server.isClosed()) {
                Socket c = server.accept();
                client = c;
                SocketChannel s = SocketChannel.open(upstream.socketAddress());
                stub = s;
                InputStream fromClient = c.getInputStream();
                OutputStream toClient = c.getOutputStream();
                // Read and write the unix channel directly: Channels.newInputStream/newOutputStream
                // of one blocking channel share a lock, so a blocked read would stall every write.
                start(() -> {
                    byte[] buf = new byte[8192];
                    for (int n; (n = fromClient.read(buf)) >= 0; ) {
                        if (!swallow.get()) {
                            ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                            while (b.hasRemaining()) {
                                s.write(b);
                            }
                        }
                    }
                });
                start(() -> {
                    ByteBuffer b = ByteBuffer.allocate(8192);
                    while (s.read(b) >= 0) {
                        toClient.write(b.array(), 0, b.position());
                        toClient.flush();
                        b.clear();
                    }
                });
            }
        } catch (IOException e) {
            // server closed
        }
    }

    private interface Pump {
        void run() throws IOException;
    }

    private void start(Pump pump) {
        Thread t = new Thread(() -> {
            try {
                pump.run();
            } catch (IOException e) {
                // one side closed
            } finally {
                cut();
            }
        }, "rsp-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        cut();
    }
}
