package dev.tickwatch.gdb;

import dev.tickwatch.gdb.codec.RspDecoder;
import java.time.Duration;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * Immutable settings of a {@link GdbClient}. Build with {@link #builder()}.
 *
 * @param connectTimeout   connecting plus the opening handshake
 * @param requestTimeout   per-request timeout; a timed-out request ends the connection, since
 *                         RSP replies carry no id and a late one would answer the next request
 * @param maxPacketLength  largest decoded packet accepted from the stub, in bytes
 * @param readWindow       {@code m} requests in flight at once during a memory read (1: no pipelining)
 * @param fallbackResume   resumes the VM another way (QMP {@code cont}) when the stub connection is
 *                         lost while we hold the VM paused; or null (the VM then stays paused, with a warning)
 * @param shutdownHook     whether a JVM shutdown hook resumes a VM this client paused
 * @param transcript       receives (direction, frame) for every frame, "S" from the stub, "C" to it; or null
 */
public record GdbOptions(Duration connectTimeout, Duration requestTimeout, int maxPacketLength,
        int readWindow, VmResumer fallbackResume, boolean shutdownHook, BiConsumer<String, String> transcript) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    public static final int DEFAULT_READ_WINDOW = 8;

    public GdbOptions {
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout: " + connectTimeout + " (expected: > 0)");
        }
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("requestTimeout: " + requestTimeout + " (expected: > 0)");
        }
        if (maxPacketLength < 8192) {
            throw new IllegalArgumentException("maxPacketLength: " + maxPacketLength + " (expected: >= 8192)");
        }
        if (readWindow < 1 || readWindow > 256) {
            throw new IllegalArgumentException("readWindow: " + readWindow + " (expected: 1-256)");
        }
    }

    public static GdbOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.connectTimeout = connectTimeout;
        b.requestTimeout = requestTimeout;
        b.maxPacketLength = maxPacketLength;
        b.readWindow = readWindow;
        b.fallbackResume = fallbackResume;
        b.shutdownHook = shutdownHook;
        b.transcript = transcript;
        return b;
    }

    public static final class Builder {
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private int maxPacketLength = RspDecoder.DEFAULT_MAX_PACKET_LENGTH;
        private int readWindow = DEFAULT_READ_WINDOW;
        private VmResumer fallbackResume;
        private boolean shutdownHook = true;
        private BiConsumer<String, String> transcript;

        private Builder() {
        }

        public Builder connectTimeout(Duration d) {
            this.connectTimeout = d;
            return this;
        }

        public Builder requestTimeout(Duration d) {
            this.requestTimeout = d;
            return this;
        }

        public Builder maxPacketLength(int n) {
            this.maxPacketLength = n;
            return this;
        }

        public Builder readWindow(int n) {
            this.readWindow = n;
            return this;
        }

        public Builder fallbackResume(VmResumer r) {
            this.fallbackResume = r;
            return this;
        }

        public Builder shutdownHook(boolean h) {
            this.shutdownHook = h;
            return this;
        }

        public Builder transcript(BiConsumer<String, String> t) {
            this.transcript = t;
            return this;
        }

        public GdbOptions build() {
            return new GdbOptions(connectTimeout, requestTimeout, maxPacketLength, readWindow, fallbackResume,
                    shutdownHook, transcript);
        }
    }
}
