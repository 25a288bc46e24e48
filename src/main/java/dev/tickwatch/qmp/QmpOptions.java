package dev.tickwatch.qmp;

import dev.tickwatch.qmp.codec.QmpDecoder;
import dev.tickwatch.qmp.codec.QmpEvent;
import java.time.Duration;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Immutable settings of a {@link QmpClient}. Build with {@link #builder()}.
 *
 * @param connectTimeout   connecting plus greeting plus capability negotiation
 * @param commandTimeout   default per-command timeout (a command may override it)
 * @param maxObjectLength  largest JSON object accepted from QEMU, in bytes
 * @param maxPending       commands in flight at once; more fail fast
 * @param eventHistory     events kept for {@link QmpClient#recentEvents()}
 * @param eventListener    receives every event, from the greeting on, or null
 * @param transcript       receives (direction, frame) for every frame, for recording, or null;
 *                         direction is "S" for server to client, "C" for client to server
 */
public record QmpOptions(Duration connectTimeout, Duration commandTimeout, int maxObjectLength,
        int maxPending, int eventHistory, Consumer<QmpEvent> eventListener,
        BiConsumer<String, String> transcript) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(10);
    public static final int DEFAULT_MAX_PENDING = 256;
    public static final int DEFAULT_EVENT_HISTORY = 256;

    public QmpOptions {
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(commandTimeout, "commandTimeout");
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout: " + connectTimeout + " (expected: > 0)");
        }
        if (commandTimeout.isNegative() || commandTimeout.isZero()) {
            throw new IllegalArgumentException("commandTimeout: " + commandTimeout + " (expected: > 0)");
        }
        if (maxPending < 1) {
            throw new IllegalArgumentException("maxPending: " + maxPending + " (expected: >= 1)");
        }
        if (eventHistory < 0) {
            throw new IllegalArgumentException("eventHistory: " + eventHistory + " (expected: >= 0)");
        }
    }

    public static QmpOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.connectTimeout = connectTimeout;
        b.commandTimeout = commandTimeout;
        b.maxObjectLength = maxObjectLength;
        b.maxPending = maxPending;
        b.eventHistory = eventHistory;
        b.eventListener = eventListener;
        b.transcript = transcript;
        return b;
    }

    public static final class Builder {
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
        private int maxObjectLength = QmpDecoder.DEFAULT_MAX_OBJECT_LENGTH;
        private int maxPending = DEFAULT_MAX_PENDING;
        private int eventHistory = DEFAULT_EVENT_HISTORY;
        private Consumer<QmpEvent> eventListener;
        private BiConsumer<String, String> transcript;

        private Builder() {
        }

        public Builder connectTimeout(Duration d) {
            this.connectTimeout = d;
            return this;
        }

        public Builder commandTimeout(Duration d) {
            this.commandTimeout = d;
            return this;
        }

        public Builder maxObjectLength(int n) {
            this.maxObjectLength = n;
            return this;
        }

        public Builder maxPending(int n) {
            this.maxPending = n;
            return this;
        }

        public Builder eventHistory(int n) {
            this.eventHistory = n;
            return this;
        }

        public Builder eventListener(Consumer<QmpEvent> l) {
            this.eventListener = l;
            return this;
        }

        public Builder transcript(BiConsumer<String, String> t) {
            this.transcript = t;
            return this;
        }

        public QmpOptions build() {
            return new QmpOptions(connectTimeout, commandTimeout, maxObjectLength, maxPending,
                    eventHistory, eventListener, transcript);
        }
    }
}
