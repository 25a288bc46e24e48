package dev.tickwatch.net;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/**
 * Where a QMP monitor or a gdbstub listens, written as QEMU writes chardev addresses:
 * {@code unix:/path/to/socket} or {@code tcp:host:port}. A bare path is taken as a unix socket,
 * since that is what a user pastes from a QEMU command line most often.
 */
public sealed interface Endpoint {

    /** The address Netty connects to. */
    SocketAddress socketAddress();

    /** Parses {@code unix:PATH}, {@code tcp:HOST:PORT}, {@code HOST:PORT} or a path. */
    static Endpoint parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty address (expected: unix:/path or tcp:host:port)");
        }
        String s = text.strip();
        if (s.startsWith("unix:")) {
            String path = s.substring("unix:".length());
            // QEMU allows options after a comma (unix:/p,server=on): the path ends there.
            int comma = path.indexOf(',');
            if (comma >= 0) {
                path = path.substring(0, comma);
            }
            if (path.isEmpty()) {
                throw new IllegalArgumentException("unix: address without a path: " + text);
            }
            return new Unix(Path.of(path));
        }
        if (s.startsWith("tcp:")) {
            return Tcp.parse(s.substring("tcp:".length()), text);
        }
        if (s.startsWith("/") || s.startsWith(".")) {
            return new Unix(Path.of(s));
        }
        if (s.indexOf(':') > 0) {
            return Tcp.parse(s, text);
        }
        throw new IllegalArgumentException("cannot parse address '" + text
                + "' (expected: unix:/path or tcp:host:port)");
    }

    /** A unix domain socket. */
    record Unix(Path path) implements Endpoint {
        @Override
        public SocketAddress socketAddress() {
            return UnixDomainSocketAddress.of(path);
        }

        @Override
        public String toString() {
            return "unix:" + path;
        }
    }

    /** A TCP socket. */
    record Tcp(String host, int port) implements Endpoint {
        public Tcp {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
            }
        }

        static Tcp parse(String hostPort, String original) {
            String s = hostPort;
            int comma = s.indexOf(',');
            if (comma >= 0) {
                s = s.substring(0, comma);
            }
            int colon = s.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("tcp: address without a port: " + original);
            }
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty()) {
                host = "127.0.0.1";
            }
            try {
                return new Tcp(host, Integer.parseInt(s.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad port in '" + original + "'");
            }
        }

        @Override
        public SocketAddress socketAddress() {
            return InetSocketAddress.createUnresolved(host, port);
        }

        @Override
        public String toString() {
            return "tcp:" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }
}
