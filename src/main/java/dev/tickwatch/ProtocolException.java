package dev.tickwatch;

/** The peer sent bytes that do not follow the protocol (garbled, truncated, oversized). */
public class ProtocolException extends TickwatchException {

    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
